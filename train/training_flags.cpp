#include "train/training_flags.h"

#include <algorithm>
#include <cstdio>
#include <span>

#include "engine/autograd.h"
#include "engine/parallel.h"
#include "io/dataset.h"
#include "train/metrics_log.h"

namespace glimpse {

void declare_training_flags(Flags& flags, TrainingFlags& run, const TrainingFlagHelp& help) {
  flags.bind("data", run.data, "data directory; none: data/<set> if it holds the data, else the bundled sample");
  flags.bind("epochs", run.epochs, help.epochs, 1, 100000);
  flags.bind("batch", run.batch, help.batch, 1, 65536);
  flags.bind("lr", run.lr, help.lr, 0, 1e6);
  flags.bind("seed", run.seed, "seed of initialisation, shuffling, augmentation and dropout", 0);
  flags.bind("threads", run.threads, "worker threads (0: GLIMPSE_NUM_THREADS, else all cores)", 0, 1024);
  flags.bind("max-steps", run.max_steps, "stop after this many steps in all (0: no limit)", 0);
  flags.bind("save", run.save, "checkpoint file, written atomically after every epoch, at the end and on Ctrl-C");
  flags.bind("save-every", run.save_every, "with --save: also write it every N steps (0: only per epoch)", 0);
  flags.bind("resume", run.resume, "checkpoint file to continue from");
  flags.bind("log", run.log, "CSV file that gets one row of metrics per epoch");
  flags.bind("plot", run.plot, "SVG file: loss and accuracy per epoch, drawn at the end");
  flags.bind("quiet", run.quiet, "print only the epoch summaries and the final line");
  flags.bind("detect-anomaly", run.detect_anomaly, "check every op's output and gradient for NaN/inf (slow)");
  flags.bind("per-process-bn", run.per_process_bn,
             "under mpirun: batch norm over each process's share of the batch (default: over the whole batch)");
}

void declare_ema_flag(Flags& flags, double& decay) {
  flags.bind("ema", decay,
             "evaluate an exponential moving average of the weights with this decay per step, e.g. 0.9999 "
             "(0: the trained weights)",
             0, 0.999999999);
}

namespace {

using NamedPaths = std::vector<std::pair<std::string, std::string>>;  // ("--log", "runs/a.csv"), ...

// The output `name path` (a checkpoint, `renamed_into_place`, or a file written into) can be
// written, and names none of the outputs checked before it.
void check_output(const Flags& flags, const std::string& name, const std::string& path, bool renamed_into_place,
                  std::span<const std::pair<std::string, std::string>> earlier) {
  if (const std::string problem = file_write_problem(path, renamed_into_place); !problem.empty())
    flags.usage_error(name + " " + path + ": " + problem);
  for (const auto& [other, other_path] : earlier)
    if (same_file(other_path, path))
      flags.usage_error(name + " " + path + ": the same file as " + other + "; each output needs its own file");
}

NamedPaths given(NamedPaths paths) {
  std::erase_if(paths, [](const auto& named) { return named.second.empty(); });
  return paths;
}

}  // namespace

void check_output_paths(const Flags& flags, const TrainingFlags& run, const NamedPaths& more) {
  NamedPaths outputs = {{"--save", run.save}, {"--log", run.log}, {"--plot", run.plot}};
  for (const auto& [name, path] : more) outputs.emplace_back("--" + name, path);
  outputs = given(outputs);
  for (size_t i = 0; i < outputs.size(); i++) {
    const auto& [name, path] = outputs[i];
    // a checkpoint is renamed into place; the other outputs are written into their files
    check_output(flags, name, path, name == "--save", std::span(outputs).first(i));
    if (name == "--log")
      if (const std::string problem = metrics_log_problem(path); !problem.empty())
        flags.usage_error(name + " " + path + ": " + problem);
    // the checkpoint a run resumes from is read first, then saved over by --save only
    if (!run.resume.empty() && name != "--save" && same_file(run.resume, path))
      flags.usage_error(name + " " + path + ": the checkpoint --resume reads; each output needs its own file");
  }
}

void check_files_apart(const Flags& flags, const NamedPaths& inputs, const NamedPaths& outputs_given) {
  const NamedPaths outputs = given(outputs_given), read = given(inputs);
  for (size_t i = 0; i < outputs.size(); i++) {
    const auto& [name, path] = outputs[i];
    check_output(flags, name, path, false, std::span(outputs).first(i));
    for (const auto& [input_name, input] : read)
      if (same_file(input, path))
        flags.usage_error(name + " " + path + ": the same file as " + input_name + ", which it reads; write elsewhere");
  }
}

void apply_training_flags(const TrainingFlags& run, const std::string& program) {
  if (run.threads > 0) set_num_threads(static_cast<int>(run.threads));
  set_detect_anomaly(run.detect_anomaly);
  const int threads = num_threads();
  if (!run.quiet) std::printf("%s: %d %s\n", program.c_str(), threads, threads == 1 ? "thread" : "threads");
}

int64_t total_steps(const TrainingFlags& run, int64_t steps_per_epoch) {
  const int64_t all = run.epochs * steps_per_epoch;
  return run.max_steps > 0 ? std::min(all, run.max_steps) : all;
}

}  // namespace glimpse
