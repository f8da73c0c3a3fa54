// A run's checkpoints: --save (atomically, every --save-every steps, after every epoch, at the
// end and when the run is stopped by a signal) and --resume.
//
//   Checkpointer checkpoints(state, {{"model", "mnist_cnn"}, {"seed", "3"}, {"batch", "64"}}, run.save,
//   run.save_every); Position at = run.resume.empty() ? Position{} : checkpoints.resume(run.resume, steps_per_epoch);
//   ... after every step: checkpoints.save_if_due(at, steps_per_epoch, total);  after every epoch:
//   checkpoints.save(at);
//
// A checkpoint holds the state's tensors (parameters and buffers, the optimiser's state, ...),
// where the run stands (Position) and what the run is (its identity: the model and every flag
// that decides what the next step does, such as --seed and --batch). A resumed run must have
// the same identity, or its steps would not be the ones the saved run would have taken.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "io/checkpoint.h"

namespace glimpse {

// Where a run stands: the next step to take, the epoch it belongs to and its batch in that epoch.
struct Position {
  int64_t epoch = 0, batch_in_epoch = 0, step = 0;
};

using NamedTensor = std::pair<std::string, Tensor>;

class Checkpointer {
 public:
  // `state`: live handles of what a checkpoint holds; `identity`: the metadata a resumed run must
  // match ("model" first: the model's name). An empty `save_path` saves nothing.
  Checkpointer(std::vector<NamedTensor> state, Metadata identity, std::string save_path, int64_t save_every);

  // Fills the state from `path` and returns where that run stood; refuses (Error) a checkpoint of
  // another model, or written with other values of the identity's flags (each is named --KEY; a
  // flag recorded only by later versions, such as --holdout, counts as its default where absent).
  Position resume(const std::string& path, int64_t steps_per_epoch);

  // Writes the state and `at` to the --save file. Refuses (Error) weights that are not finite:
  // the file keeps the last good checkpoint.
  void save(const Position& at);
  // save(at) when --save-every says so, except at the end of an epoch or of the run (a step of
  // `total_steps`), which the loop saves after its evaluation anyway.
  void save_if_due(const Position& at, int64_t steps_per_epoch, int64_t total_steps);

  const std::string& save_path() const { return save_path_; }
  // "checkpoint written to PATH (step S, after epoch E)": where this run's last save went, once at the
  // end of a run (a line per save would drown the epoch lines); nothing if it saved nothing.
  void print_last_save() const;

 private:
  std::vector<NamedTensor> state_;
  Metadata identity_;
  std::string model_, save_path_;
  int64_t save_every_;
  Position last_saved_{.epoch = 0, .batch_in_epoch = 0, .step = -1};  // step -1: nothing saved yet
};

}  // namespace glimpse
