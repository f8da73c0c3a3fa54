// The parts of train_dasnet around its SNES loop: the frozen resnet20 it starts from (a
// train_cifar checkpoint, or a short run of train_cifar's recipe) and what it says of a
// generation's fitness.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/data_loader.h"
#include "io/dataset.h"
#include "models/resnet20.h"
#include "train/checkpointer.h"
#include "train/training_flags.h"

namespace glimpse {

// Loads the resnet20 of a train_cifar checkpoint into `net`: its weights alone (train/evaluation.h
// load_model: "model.*", or the averaged ones of a run with --ema), so a checkpoint of the
// weights alone (convert_weights) serves too. Refuses a checkpoint of another model.
void load_dasnet_base(ResNet20& net, const std::string& path);

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

}  // namespace glimpse
