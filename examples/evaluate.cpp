// evaluate: scores a checkpoint of any trainer on the test set its trainer scored it on, or prints a
// model's layers without training.
//
//   build/evaluate --checkpoint runs/mnist.ckpt                        accuracy, per class, confusion, loss
//   build/evaluate --checkpoint runs/stn.ckpt --data data/mnist --confusion runs/confusion.png --visualize runs/stn.png
//   build/evaluate --checkpoint runs/cbam.ckpt --visualize runs/cbam.png  what its attention does
//   build/evaluate --checkpoint runs/stn.ckpt --against runs/cnn.ckpt    is the first really better? (McNemar)
//   build/evaluate --summary resnet20                                  layers, shapes, parameters, mult-adds
//   build/evaluate --summary runs/ram.ckpt                             the same for a checkpoint's model
//
// The checkpoint names its model, and the name says the rest (train/evaluation.h): which data set
// (--data as the trainers take it: a directory, else data/<set>, else the bundled sample), how
// the trainer distorted it (train_stn's RTS digits, train_ram's translated or cluttered ones, from
// the trainers' own seeds) and normalised it. So the accuracy printed is the one the trainer's
// final line reported for the same data, to the last digit. A checkpoint written under --ema
// holds the averaged weights its trainer evaluated; they are the ones scored, and evaluate says so.
// For RAM, whose glimpse locations are sampled, it reports one sampled path (the trainer's
// figure), the path that follows the policy's mean, and the mean of --mc-samples sampled paths.
// --against scores a second checkpoint on the same test images and says whether the difference
// between the two is real: McNemar's exact test on the images only one of them gets right.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "engine/parallel.h"
#include "engine/wording.h"
#include "train/attention_pictures.h"
#include "train/checkpoint_report.h"
#include "train/data_paths.h"
#include "train/evaluation.h"
#include "train/flags.h"
#include "train/stop_signals.h"
#include "train/summary.h"
#include "train/training_flags.h"

using namespace glimpse;

// --summary NAME|FILE: a model of the zoo or of a trainer by name, or the model of a checkpoint.
static void print_summary(const std::string& what, const RebuildOptions& options) {
  Rng rng(1);
  LoadedModel m =
      std::filesystem::is_regular_file(what) ? load_model(what, options) : build_model(what, {}, options, rng);
  std::printf("%s", summarize(*m.model, {1, m.channels, m.side, m.side}).c_str());
}

int main(int argc, char** argv) {
  Flags flags("evaluate",
              "Scores a checkpoint of any trainer on its test set (accuracy, per class, confusion matrix, loss),\n"
              "or with --summary prints a model's layers, output shapes, parameters and multiply-accumulates.");
  std::string& checkpoint = flags.add_string("checkpoint", "", "the checkpoint to score (any trainer's)");
  std::string& data = flags.add_string(
      "data", "", "data directory, as the trainers take it; none: data/<set> if it holds the data, else the sample");
  std::string& summary = flags.add_string(
      "summary", "",
      "MODEL or FILE: print the layers of a model (a zoo or trainer name) or of a checkpoint's, and exit");
  std::string& confusion_png = flags.add_string("confusion", "", "PNG file: the confusion matrix as a heat map");
  std::string& visualize = flags.add_string(
      "visualize", "",
      "PNG file: STN: test digits beside the transformer's output; RAM: glimpse paths; CIFAR-10 attention models: "
      "what the attention does on a test image of each class");
  int64_t& mc_samples = flags.add_int("mc-samples", 10, "RAM: the sampled paths whose mean is scored too", 1, 1000);
  std::string& against = flags.add_string(
      "against", "", "a second checkpoint, scored on the same test images: is the difference real? (McNemar's test)");
  std::string& ram_path = flags.add_choice("ram-path", "sampled", {"sampled", "mean", "averaged"},
                                           "RAM: the path the per-class table and the confusion matrix are of");
  RebuildOptions options;
  declare_rebuild_flags(flags, options);
  int64_t& threads = flags.add_int("threads", 0, "worker threads (0: GLIMPSE_NUM_THREADS, else all cores)", 0, 1024);
  flags.parse(argc, argv);
  if (summary.empty() && checkpoint.empty()) flags.usage_error("give --checkpoint FILE to score, or --summary MODEL");
  if (!summary.empty() && !checkpoint.empty())
    flags.usage_error("--summary takes the model or the checkpoint itself: --summary " + checkpoint);
  if (!summary.empty() && !against.empty())
    flags.usage_error("--against compares two checkpoints: give the first as --checkpoint, not --summary");
  check_files_apart(flags, {{"--checkpoint", checkpoint}, {"--against", against}},
                    {{"--confusion", confusion_png}, {"--visualize", visualize}});

  try {
    if (threads > 0) set_num_threads(static_cast<int>(threads));
    if (!summary.empty()) {
      print_summary(summary, options);
      return finish_output("evaluate");
    }
    LoadedModel m = load_model(checkpoint, options);
    if (!visualize.empty() && m.kind != ModelKind::ram && !spatial_transformer_of(*m.model) && !draws_attention(m.name))
      flags.usage_error(
          "--visualize draws a spatial transformer's output, RAM's glimpses or the attention of an "
          "attention model (train/attention_pictures.h); " +
          m.name + " has none of them");
    std::printf("%s: %s, %s\n", checkpoint.c_str(), describe_run(m).c_str(),
                m.averaged ? "its averaged weights (--ema): the ones its trainer scored (--trained-weights: the others)"
                           : "its trained weights");
    for (const std::string& note : m.assumed) std::printf("note: %s\n", note.c_str());

    DataLocation location = find_data(data, m.data_set, true);
    TestSet test = trainer_test_set(m, location.dir);
    std::printf("test set: %s%s from %s%s, %s of %lldx%lld\n",
                m.distortion.empty() || m.distortion == "mnist" ? "" : (m.distortion + " ").c_str(),
                m.data_set == "mnist" ? "MNIST" : "CIFAR-10", location.dir.c_str(),
                location.is_sample ? " (the bundled sample)" : "", count_of(test.images.size(), "image").c_str(),
                static_cast<long long>(test.images.height), static_cast<long long>(test.images.width));
    std::optional<ComparedCheckpoint> second;
    if (!against.empty()) second = load_against(against, m, test, checkpoint, location.dir, options);
    const CheckpointScores scored =
        score_checkpoint(m, test, mc_samples, ram_path, {.confusion = confusion_png, .visualize = visualize});
    std::printf("test_acc=%.4f test_loss=%.4f images=%lld\n", scored.accuracy, scored.loss,
                static_cast<long long>(test.images.size()));
    if (second) print_comparison(checkpoint, scored.predicted, *second, mc_samples, ram_path);
  } catch (const std::exception& e) {
    return report_failure("evaluate", e);
  }
  return finish_output("evaluate");
}
