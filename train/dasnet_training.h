// The parts of train_dasnet: SNES's loop over the gates (search_gates), and around it the frozen
// resnet20 it starts from (a train_cifar checkpoint, or a short run of train_cifar's recipe), what a
// checkpoint holds, and the test scores with and without the gates.
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

// SNES over the policy's numbers (theta, 784 x 784, or its diagonal), its mean at zero (every gate
// at one: the frozen network), mirrored sampling for an even population (0: SNES's own size).
Snes dasnet_snes(int64_t population, double sigma0, double eta_mu, int64_t seed, DasnetPolicy policy);

// What SNES's loop works on, made by train_dasnet.
struct DasnetSearch {
  DasNet* das = nullptr;
  Snes* snes = nullptr;
  DasnetPolicy policy = DasnetPolicy::full;
  Tensor* sigma = nullptr;  // the checkpoint's copy of SNES's sigma, kept up to date
  Checkpointer* checkpoints = nullptr;
  DataLoader* fitness_loader = nullptr;  // the images that score the candidates, a batch a generation
  DataLoader* test_loader = nullptr;
  int64_t generations = 0;  // per epoch
};

// The paper's Algorithm 1 from `at` to the run's end (--epochs of `generations` generations, or
// --max-steps). A generation: SNES re-seeded from (seed, generation), its candidates scored on the
// next batch of the fitness loader (generation g reads batch g of the loader's stream), the mean
// and sigma updated. After each epoch: the gated network's test score (into scores.gated), the
// epoch's line, a checkpoint, a CSV row. A line per generation unless --quiet; Ctrl-C saves and
// stops; an error or a fitness that is not finite stops the run naming the generation. `scores`:
// the test scores at the start (scores.frozen's loss says, on a failure, whether the base is at fault).
DasnetScores search_gates(const DasnetSearch& search, const TrainingFlags& flags, Position& at, DasnetScores scores);

}  // namespace glimpse
