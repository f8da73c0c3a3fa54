#include "train/checkpoint_report.h"

#include <cstdio>
#include <numeric>
#include <utility>

#include "engine/wording.h"
#include "models/ram.h"
#include "train/attention_pictures.h"
#include "train/paired_test.h"
#include "train/ram_evaluation.h"
#include "train/stn_digits.h"

namespace glimpse {

namespace {

// The per-class table and the confusion matrix of one way of predicting, and its PNG if asked.
void print_scores(const ConfusionMatrix& confusion, const std::vector<std::string>& names, const std::string& png) {
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

// RAM's predictions by the path --ram-path names.
const std::vector<int64_t>& predictions_by_path(const RamEvaluation& r, const std::string& ram_path) {
  return ram_path == "mean" ? r.mean_path_predicted : ram_path == "averaged" ? r.mc_predicted : r.predicted;
}

std::vector<uint8_t> right_or_wrong(const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels) {
  std::vector<uint8_t> right(labels.size());
  for (size_t i = 0; i < labels.size(); i++) right[i] = predicted[i] == labels[i];
  return right;
}

// Each test image's class by the model (RAM: by the path --ram-path names).
std::vector<int64_t> predictions_of(LoadedModel& m, const TestSet& test, int64_t mc_samples,
                                    const std::string& ram_path) {
  DataLoader loader(test.images, test_loader_options(test));
  if (m.kind != ModelKind::ram) return score_classifier(*m.model, loader).predicted;
  return predictions_by_path(evaluate_ram(static_cast<RecurrentAttentionModel&>(*m.model), loader, mc_samples),
                             ram_path);
}

// RAM: one sampled path (the trainer's figure), the path that follows the policy's mean, and the
// mean of `mc_samples` sampled paths; the tables of the path --ram-path names.
CheckpointScores score_ram(RecurrentAttentionModel& ram, const TestSet& test, DataLoader& loader, int64_t mc_samples,
                           const std::string& ram_path, const EvaluatePictures& pictures) {
  RamEvaluation r = evaluate_ram(ram, loader, mc_samples);
  ram.eval();
  std::printf(
      "accuracy %.2f%% with one sampled path (the trainer's figure), %.2f%% following the policy's mean, "
      "%.2f%% with the mean of %s; loss %.4f (one sampled path)\n",
      100 * r.accuracy, 100 * r.mean_path_accuracy, 100 * r.mc_accuracy, count_of(mc_samples, "sampled path").c_str(),
      r.loss);
  CheckpointScores scored{.accuracy = r.accuracy, .loss = r.loss, .predicted = predictions_by_path(r, ram_path)};
  std::printf("the tables below: %s\n", ram_path == "mean"       ? "the path that follows the policy's mean"
                                        : ram_path == "averaged" ? "the mean of the sampled paths"
                                                                 : "one sampled path");
  print_scores(confusion_of(test.images, scored.predicted), test.images.class_names, pictures.confusion);
  if (!pictures.visualize.empty()) draw_glimpses(ram, test.images, pictures.visualize);
  return scored;
}

// Any other model: its accuracy and loss, the tables, and what its spatial transformer or its
// attention does (--visualize).
CheckpointScores score_classifier_checkpoint(LoadedModel& m, SpatialTransformer* transformer, const TestSet& test,
                                             DataLoader& loader, const EvaluatePictures& pictures) {
  Scores scores = score_classifier(*m.model, loader);
  CheckpointScores scored{
      .accuracy = scores.confusion.accuracy(), .loss = scores.loss, .predicted = std::move(scores.predicted)};
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

}  // namespace

// "mnist_cnn after 100 steps (seed 3)"
std::string describe_run(const LoadedModel& m) {
  std::string text = m.name;
  auto value = [&](const char* key) { return m.metadata.count(key) ? m.metadata.at(key) : std::string("?"); };
  if (m.metadata.count("step"))
    text += " after " + value("step") + (m.kind == ModelKind::dasnet ? " generations" : " steps");
  if (m.metadata.count("seed")) text += " (seed " + value("seed") + ")";
  return text;
}

ComparedCheckpoint load_against(const std::string& file, const LoadedModel& first, const TestSet& first_test,
                                const std::string& first_file, const std::string& data_dir,
                                const RebuildOptions& options) {
  ComparedCheckpoint second{.file = file, .model = load_model(file, options), .test = {}};
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
void print_comparison(const std::string& first_file, const std::vector<int64_t>& first_predicted,
                      ComparedCheckpoint& second, int64_t mc_samples, const std::string& ram_path) {
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

CheckpointScores score_checkpoint(LoadedModel& m, const TestSet& test, int64_t mc_samples, const std::string& ram_path,
                                  const EvaluatePictures& pictures) {
  DataLoader loader(test.images, test_loader_options(test));
  if (m.kind == ModelKind::ram)
    return score_ram(static_cast<RecurrentAttentionModel&>(*m.model), test, loader, mc_samples, ram_path, pictures);
  return score_classifier_checkpoint(m, spatial_transformer_of(*m.model), test, loader, pictures);
}

}  // namespace glimpse
