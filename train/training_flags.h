// The flags every trainer takes (docs/TRAINERS.md), as plain values: a trainer fills in its
// defaults, binds the struct to its Flags, and reads the fields after parse().
//
//   TrainingFlags run{.epochs = 3, .batch = 64, .lr = 1e-3};
//   declare_training_flags(flags, run);
//   flags.parse(argc, argv);
//   check_output_paths(flags, run);   // before any work: a wrong path fails now, not after training
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "train/flags.h"

namespace glimpse {

struct TrainingFlags {
  int64_t epochs = 1;
  int64_t batch = 1;
  double lr = 0;
  std::string data = {};
  int64_t seed = 1;
  int64_t threads = 0;
  int64_t max_steps = 0;
  std::string save = {};
  int64_t save_every = 0;
  std::string resume = {};
  std::string log = {};
  std::string plot = {};
  bool quiet = false;
  bool detect_anomaly = false;
  bool per_process_bn = false;  // under mpirun: each process's BN statistics its own share's
};

// The help of --epochs, --batch and --lr, for a trainer where they mean something else.
struct TrainingFlagHelp {
  std::string epochs = "passes over the training set";
  std::string batch = "images per step";
  std::string lr = "peak learning rate";
};

void declare_training_flags(Flags& flags, TrainingFlags& run, const TrainingFlagHelp& help = {});
// --ema DECAY, for the trainers whose steps follow gradients (optim/ema.h).
void declare_ema_flag(Flags& flags, double& decay);

// The files a run writes, checked before it starts: --save, --log, --plot and the trainer's own
// (`more`, e.g. {"visualize", path}) must be distinct, however spelled, none a directory, each in
// a writable directory that exists; --save not a device, a pipe or a socket either (a checkpoint
// is renamed into place); --log new or an earlier run's log. --resume may be --save's file (the
// usual way to go on), no other output's. A problem is a usage error (status 2).
void check_output_paths(const Flags& flags, const TrainingFlags& run,
                        const std::vector<std::pair<std::string, std::string>>& more = {});

// The same for a program that reads files and writes others (evaluate, export_onnx,
// convert_weights): each output (a name such as "--confusion" or "OUT", and its path; empty paths
// are left out) must be writable, and no output may name an input or another output.
void check_files_apart(const Flags& flags, const std::vector<std::pair<std::string, std::string>>& inputs,
                       const std::vector<std::pair<std::string, std::string>>& outputs);

// Applies --threads and --detect-anomaly; prints the run's set-up line unless --quiet.
void apply_training_flags(const TrainingFlags& run, const std::string& program);

// The steps of the run: --epochs of `steps_per_epoch`, cut at --max-steps.
int64_t total_steps(const TrainingFlags& run, int64_t steps_per_epoch);

}  // namespace glimpse
