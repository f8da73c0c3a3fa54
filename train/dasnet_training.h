// The parts of train_dasnet around its SNES loop: the frozen resnet20 it starts from (a
// train_cifar checkpoint, or a short run of train_cifar's recipe), what a checkpoint holds, the
// test scores with and without the gates, and what it says of a generation and an epoch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/data_loader.h"
#include "io/dataset.h"
#include "models/dasnet.h"
#include "models/resnet20.h"
#include "train/checkpointer.h"
#include "train/classifier.h"
#include "train/training_flags.h"

namespace glimpse {

// Loads the resnet20 of a train_cifar checkpoint into `net`: its weights alone (train/evaluation.h
// load_model: "model.*", or the averaged ones of a run with --ema), so a checkpoint of the
// weights alone (convert_weights) serves too. Refuses a checkpoint of another model, and with
// `holdout` (train_dasnet --holdout N) one not trained with train_cifar --holdout N: the gates
// are then scored on images the base never saw.
void load_dasnet_base(ResNet20& net, const std::string& path, int64_t holdout);

// Trains `net` with train_cifar's recipe for `epochs` epochs (SGD momentum 0.9, weight decay
// 5e-4, lr 0.1 with linear warm-up then cosine, crops and flips, batch 128), reporting as
// train_classifier does; --seed, --threads, --quiet and --detect-anomaly come from `flags`.
void train_dasnet_base(ResNet20& net, const ImageDataset& train_set, DataLoader& test_loader, int64_t epochs,
                       const TrainingFlags& flags);

// "best fitness 2.1034, mean 2.2750" (lower is better: a cross-entropy)
std::string describe_fitness(const std::vector<real>& fitness);

// Stops the run (Error) at a candidate whose fitness is not finite, naming it and the generation;
// `base_is_finite`: whether the frozen resnet20's own test loss is, which says where to look.
void check_fitness(const std::vector<real>& fitness, const Position& at, bool base_is_finite);

// What identifies a run (train/checkpointer.h): the flags a resumed run must share.
struct DasnetRun {
  const TrainingFlags& flags;
  int64_t population, passes, generations, holdout;
  DasnetPolicy policy;
};

// A run's checkpoints: the frozen base (so a resumed run needs neither --base nor a base run),
// theta = SNES's mean, and SNES's sigma, which `sigma` holds a copy of ((784, 784) for the full
// policy, (784) for the diagonal); the position's
// step counts the generations done. SNES's Rng is re-seeded from (seed, generation) before every
// generation and the batch of generation g is batch g of the loader's stream, so that is all a
// resumed run needs.
Checkpointer dasnet_checkpointer(DasNet& das, const Tensor& sigma, const DasnetRun& run);

// The test set's scores of the frozen resnet20 (every gate at one) and of the gated network.
struct DasnetScores {
  Evaluation frozen, gated;
};
// `with_gated`: also the gated network (at the start of a run, where both are the same network).
// A failure (--detect-anomaly stopping a broken base) is said to come before generation at.step + 1.
DasnetScores evaluate_frozen_and_gated(DasNet& das, DataLoader& test_loader, const Position& at, bool with_gated);

// "epoch 3: 25 generations, best fitness 1.0230 | test loss ... acc ...% (frozen ...%) | 41.0 s, 0.61 gen/s"
void print_dasnet_epoch_line(int64_t epoch_number, bool complete, int64_t generations_done, double mean_best_fitness,
                             const DasnetScores& scores, double seconds);

// SNES over the policy's numbers (theta, 784 x 784, or its diagonal), its mean at zero (every gate
// at one: the frozen network), mirrored sampling for an even population (0: SNES's own size).
Snes dasnet_snes(int64_t population, double sigma0, double eta_mu, int64_t seed, DasnetPolicy policy);

// One generation at `at` on a batch (dasnet_snes_generation, after SNES is re-seeded from the seed
// and the generation): stops the run with the generation named on an error or a fitness that is
// not finite; prints the fitness unless `quiet`. Returns the best (lowest) fitness.
double dasnet_generation(Snes& snes, DasNet& das, DasnetPolicy policy, const Batch& batch, const Position& at,
                         int64_t seed, bool base_is_finite, bool quiet);

}  // namespace glimpse
