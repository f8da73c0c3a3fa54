// What evaluate says of a checkpoint: the run it comes from, its scores on its trainer's test set
// with the per-class table and the confusion matrix (RAM: by one sampled path, the policy's mean
// and the mean of several paths), its pictures, and McNemar's test against a second checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/evaluation.h"

namespace glimpse {

// "mnist_cnn after 100 steps (seed 3)"
std::string describe_run(const LoadedModel& m);

// --against FILE: the second checkpoint, with its trainer's test set, checked to be the first one's
// images before either is scored.
struct ComparedCheckpoint {
  std::string file;
  LoadedModel model;
  TestSet test;
};

// What evaluate draws besides its text: --confusion and --visualize (empty: none).
struct EvaluatePictures {
  std::string confusion, visualize;
};

// The figures of the final line, and each test image's class.
struct CheckpointScores {
  double accuracy = 0, loss = 0;
  std::vector<int64_t> predicted;
};

// Scores `m` on `test` and prints its accuracy, loss, per-class table and confusion matrix; draws
// the pictures asked for. RAM: `mc_samples` sampled paths for the averaged figure, and the tables
// of the path `ram_path` names ("sampled", "mean" or "averaged").
CheckpointScores score_checkpoint(LoadedModel& m, const TestSet& test, int64_t mc_samples, const std::string& ram_path,
                                  const EvaluatePictures& pictures);

// --against FILE: loaded with its trainer's test set, refused unless those are `first`'s test images.
ComparedCheckpoint load_against(const std::string& file, const LoadedModel& first, const TestSet& first_test,
                                const std::string& first_file, const std::string& data_dir,
                                const RebuildOptions& options);

// The second checkpoint scored on the same images (RAM by the same path), and McNemar's exact test
// of the difference.
void print_comparison(const std::string& first_file, const std::vector<int64_t>& first_predicted,
                      ComparedCheckpoint& second, int64_t mc_samples, const std::string& ram_path);

}  // namespace glimpse
