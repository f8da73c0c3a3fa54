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
#include <numeric>
#include <optional>
#include <utility>

#include "engine/parallel.h"
#include "engine/wording.h"
#include "models/ram.h"
#include "models/stn_mnist.h"
#include "train/attention_pictures.h"
#include "train/data_paths.h"
#include "train/evaluation.h"
#include "train/flags.h"
#include "train/paired_test.h"
#include "train/ram_evaluation.h"
#include "train/stn_digits.h"
#include "train/stop_signals.h"
#include "train/summary.h"

using namespace glimpse;

// "mnist_cnn after 100 steps (epoch 1, seed 3)"
static std::string describe_run(const LoadedModel& m) {
  std::string text = m.name;
  auto value = [&](const char* key) { return m.metadata.count(key) ? m.metadata.at(key) : std::string("?"); };
  if (m.metadata.count("step"))
    text += " after " + value("step") + (m.kind == ModelKind::dasnet ? " generations" : " steps");
  if (m.metadata.count("seed")) text += " (seed " + value("seed") + ")";
  return text;
}

// --summary NAME|FILE: a model of the zoo or of a trainer by name, or the model of a checkpoint.
static void print_summary(const std::string& what, const RebuildOptions& options) {
  Rng rng(1);
  LoadedModel m =
      std::filesystem::is_regular_file(what) ? load_model(what, options) : build_model(what, {}, options, rng);
  std::printf("%s", summarize(*m.model, {1, m.channels, m.side, m.side}).c_str());
}

// The per-class table and the confusion matrix of one way of predicting, and its PNG if asked.
static void print_scores(const ConfusionMatrix& confusion, const std::vector<std::string>& names,
                         const std::string& png) {
  std::printf("per class:\n%s", confusion.per_class_text(names).c_str());
  std::printf("confusion matrix (a row per true class, a column per prediction):\n%s",
              confusion.matrix_text(names).c_str());
  if (png.empty()) return;
  confusion.write_png(png, names);
  std::printf(
      "wrote %s: the confusion matrix, a cell per (true class, prediction), each row scaled by its images (black "
      "none, white all)\n",
      png.c_str());
}

static ConfusionMatrix confusion_of(const std::vector<int64_t>& labels, const std::vector<int64_t>& predicted) {
  ConfusionMatrix confusion(10);
  for (size_t i = 0; i < labels.size(); i++) confusion.add(labels[i], predicted[i]);
  return confusion;
}

// RAM's predictions by the path --ram-path names.
static const std::vector<int64_t>& predictions_by_path(const RamEvaluation& r, const std::string& ram_path) {
  return ram_path == "mean" ? r.mean_path_predicted : ram_path == "averaged" ? r.mc_predicted : r.predicted;
}

static std::vector<uint8_t> right_or_wrong(const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels) {
  std::vector<uint8_t> right(labels.size());
  for (size_t i = 0; i < labels.size(); i++) right[i] = predicted[i] == labels[i];
  return right;
}

// Each test image's class by the model (RAM: by the path --ram-path names).
static std::vector<int64_t> predictions_of(LoadedModel& m, const TestSet& test, int64_t mc_samples,
                                           const std::string& ram_path) {
  DataLoader loader(test.images, test_loader_options(test));
  if (m.kind != ModelKind::ram) return score_classifier(*m.model, loader).predicted;
  return predictions_by_path(evaluate_ram(static_cast<RecurrentAttentionModel&>(*m.model), loader, mc_samples),
                             ram_path);
}

// --against FILE: the second checkpoint, with its trainer's test set, checked to be the first one's
// images before either is scored.
struct Against {
  std::string file;
  LoadedModel model;
  TestSet test;
};

static Against load_against(const std::string& file, const LoadedModel& first, const TestSet& first_test,
                            const std::string& first_file, const std::string& data_dir, const RebuildOptions& options) {
  Against second{.file = file, .model = load_model(file, options), .test = {}};
  const LoadedModel& m = second.model;
  if (m.data_set != first.data_set)
    fail("--against " + file + ": " + m.name + " is tested on " + m.data_set + ", " + first.name + " on " +
         first.data_set + "; a paired test needs the same test images");
  second.test = trainer_test_set(m, data_dir);
  if (second.test.images.pixels != first_test.images.pixels || second.test.images.labels != first_test.images.labels)
    fail("--against " + file + ": its trainer tested " + m.name + " on other images than " + first_file +
         "'s; a paired test needs the same test images");
  return second;
}

// The second checkpoint scored on the same images (RAM by the same path), and McNemar's exact
// test of the difference.
static void print_comparison(const std::string& first_file, const std::vector<int64_t>& first_predicted,
                             Against& second, int64_t mc_samples, const std::string& ram_path) {
  const std::vector<int64_t>& labels = second.test.images.labels;
  const std::vector<int64_t> second_predicted = predictions_of(second.model, second.test, mc_samples, ram_path);
  const std::vector<uint8_t> first_right = right_or_wrong(first_predicted, labels),
                             second_right = right_or_wrong(second_predicted, labels);
  const double second_accuracy =
      std::accumulate(second_right.begin(), second_right.end(), 0.0) / static_cast<double>(second_right.size());
  std::printf("against %s: %s, %s: accuracy %.2f%%\n", second.file.c_str(), describe_run(second.model).c_str(),
              second.model.averaged ? "its averaged weights" : "its trained weights", 100 * second_accuracy);
  const PairedComparison comparison = mcnemar_exact(first_right, second_right);
  std::printf("%s\n", describe_comparison(comparison, "with " + first_file, "with " + second.file).c_str());
}

// What evaluate draws besides its text: --confusion and --visualize (empty: none).
struct Pictures {
  std::string confusion, visualize;
};

// The figures of the final line, and each test image's class.
struct Scored {
  double accuracy = 0, loss = 0;
  std::vector<int64_t> predicted;
};

// RAM: one sampled path (the trainer's figure), the path that follows the policy's mean, and the
// mean of `mc_samples` sampled paths; the tables of the path --ram-path names.
static Scored score_ram(RecurrentAttentionModel& ram, const TestSet& test, DataLoader& loader, int64_t mc_samples,
                        const std::string& ram_path, const Pictures& pictures) {
  RamEvaluation r = evaluate_ram(ram, loader, mc_samples);
  ram.eval();
  std::printf(
      "accuracy %.2f%% with one sampled path (the trainer's figure), %.2f%% following the policy's mean, "
      "%.2f%% with the mean of %s; loss %.4f (one sampled path)\n",
      100 * r.accuracy, 100 * r.mean_path_accuracy, 100 * r.mc_accuracy, count_of(mc_samples, "sampled path").c_str(),
      r.loss);
  Scored scored{.accuracy = r.accuracy, .loss = r.loss, .predicted = predictions_by_path(r, ram_path)};
  std::printf("the tables below: %s\n", ram_path == "mean"       ? "the path that follows the policy's mean"
                                        : ram_path == "averaged" ? "the mean of the sampled paths"
                                                                 : "one sampled path");
  print_scores(confusion_of(test.images.labels, scored.predicted), test.images.class_names, pictures.confusion);
  if (!pictures.visualize.empty()) draw_glimpses(ram, test.images, pictures.visualize);
  return scored;
}

// Any other model: its accuracy and loss, the tables, and what its spatial transformer or its
// attention does (--visualize).
static Scored score_classifier_checkpoint(LoadedModel& m, SpatialTransformer* transformer, const TestSet& test,
                                          DataLoader& loader, const Pictures& pictures) {
  Scores scores = score_classifier(*m.model, loader);
  Scored scored{.accuracy = scores.confusion.accuracy(), .loss = scores.loss, .predicted = std::move(scores.predicted)};
  std::printf("accuracy %.2f%% (%lld of %lld), loss %.4f\n", 100 * scored.accuracy,
              static_cast<long long>(scores.confusion.correct()), static_cast<long long>(scores.confusion.total()),
              scored.loss);
  print_scores(scores.confusion, test.images.class_names, pictures.confusion);
  if (pictures.visualize.empty()) return scored;
  if (transformer)
    draw_first_transformed_digits(*m.model, *transformer, m.name, test.images, test.mean[0], test.stddev[0],
                                  pictures.visualize);
  else
    draw_attention_on_test_images(*m.model, m.name, test.images, test.mean, test.stddev, pictures.visualize);
  return scored;
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

  try {
    if (threads > 0) set_num_threads(static_cast<int>(threads));
    if (!summary.empty()) {
      print_summary(summary, options);
      return 0;
    }
    LoadedModel m = load_model(checkpoint, options);
    SpatialTransformer* transformer = spatial_transformer_of(*m.model);
    if (!visualize.empty() && m.kind != ModelKind::ram && !transformer && !draws_attention(m.name))
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
    std::optional<Against> second;
    if (!against.empty()) second = load_against(against, m, test, checkpoint, location.dir, options);
    DataLoader loader(test.images, test_loader_options(test));

    const Pictures pictures{.confusion = confusion_png, .visualize = visualize};
    const Scored scored =
        m.kind == ModelKind::ram
            ? score_ram(static_cast<RecurrentAttentionModel&>(*m.model), test, loader, mc_samples, ram_path, pictures)
            : score_classifier_checkpoint(m, transformer, test, loader, pictures);
    std::printf("test_acc=%.4f test_loss=%.4f images=%lld\n", scored.accuracy, scored.loss,
                static_cast<long long>(test.images.size()));
    if (second) print_comparison(checkpoint, scored.predicted, *second, mc_samples, ram_path);
  } catch (const std::exception& e) {
    return report_failure("evaluate", e);
  }
  return 0;
}
