// RAM's evaluation and its picture, shared by train_ram and the tools that score its checkpoints.
//
// A RAM classifies after a path of glimpses whose locations it samples, so its test accuracy
// depends on the path: evaluate_ram reports one sampled path, the mean log-probabilities of
// several sampled paths, and the deterministic path that follows the policy's mean.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/data_loader.h"
#include "io/dataset.h"
#include "models/ram.h"
#include "train/classifier.h"

namespace glimpse {

constexpr uint64_t distorted_test_seed = 20140624;  // the distorted test set: the same in every run
constexpr uint64_t evaluation_seed = 7;             // the locations sampled at evaluation

struct RamEvaluation {
  double accuracy = 0, mc_accuracy = 0, mean_path_accuracy = 0, loss = 0;
  // each test image's prediction, in the loader's order, by the same three paths
  std::vector<int64_t> predicted, mc_predicted, mean_path_predicted;
};

// Accuracy of one sampled path, of the mean log-probabilities of `samples` paths (that one and
// samples - 1 more), and of the deterministic path that follows the policy's mean. Each kind of
// path draws from its own Rng, so that no figure depends on whether another is computed.
RamEvaluation evaluate_ram(RecurrentAttentionModel& model, DataLoader& loader, int64_t samples);

// The same as train_classifier reports it: the one-path accuracy, the others in the epoch line's
// note and the summary line.
Evaluation ram_evaluation_report(const RamEvaluation& result, int64_t samples);

// The first test digits (up to 8, four a row), each with its glimpse path and its true and
// predicted class: at step t a g x g box and a dot at the centre, numbered t + 1, blue for the
// first glimpse through red for the last; the last glimpse also shows the boxes of its larger
// scales. The canvas's edge is outlined in a margin that shows glimpses reaching outside it.
void draw_glimpses(RecurrentAttentionModel& model, const ImageDataset& test_set, const std::string& path);

}  // namespace glimpse
