// train_ram: trains the Recurrent Attention Model (models/ram.h) on MNIST or on the 60x60
// translated / cluttered MNIST of Mnih et al. 2014, with the hybrid loss (cross-entropy +
// REINFORCE for the locations + a learned baseline).
//
//   build/train_ram --dataset mnist --glimpses 6                  28x28, g = 8, k = 1
//   build/train_ram --dataset translated --glimpses 6             60x60, g = 12, k = 3
//   build/train_ram --dataset cluttered --mc-samples 10 --visualize runs/ram.png
//
// The recipe: Adam (lr 1e-3) with cosine decay to zero over the run, batch 64, pixels in [0,1],
// location sigma 0.17, gradient norm clipped at 5, the location and baseline heads reading h_t
// detached (RamOptions::reinforce_into_core). (The paper used SGD with momentum; Adam at
// 1e-3 is what most re-implementations use and trains faster here.) The distorted training set
// is drawn once from --seed; the distorted test set from its own fixed seed, so every run is
// scored on the same images. Test accuracy is that of one sampled path of locations; it is also
// reported for the deterministic path that follows the policy's mean (l_1 still uniform), and
// with --mc-samples S for the mean of S sampled paths' log-probabilities.
//
// The loop is train/classifier.h's with RAM's loss: the same checkpoints (--save, --save-every),
// --resume that continues bitwise, and a stop with the step named when the loss or the
// gradient is not finite.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/ops.h"
#include "io/data_loader.h"
#include "io/dataset.h"
#include "io/distorted_mnist.h"
#include "io/image.h"
#include "models/ram.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "train/classifier.h"
#include "train/data_paths.h"
#include "train/stop_signals.h"

using namespace glimpse;

constexpr uint64_t distorted_test_seed = 20140624;  // the distorted test set: the same in every run
constexpr uint64_t evaluation_seed = 7;             // the locations sampled at evaluation

struct RamEvaluation {
  double accuracy = 0, mc_accuracy = 0, mean_path_accuracy = 0, loss = 0;
};

// Accuracy of one sampled path, of the mean log-probabilities of `samples` paths (that one and
// samples - 1 more), and of the deterministic path that follows the policy's mean. Each kind of
// path draws from its own Rng, so that no figure depends on whether another is computed.
static RamEvaluation evaluate_ram(RecurrentAttentionModel& model, DataLoader& loader, int64_t samples) {
  NoGradGuard no_grad;
  model.eval();
  Rng rng(evaluation_seed), more_paths_rng(evaluation_seed + 1), mean_path_rng(evaluation_seed + 2);
  loader.start_epoch(0);
  Batch batch;
  RamEvaluation result;
  int64_t correct = 0, mc_correct = 0, mean_path_correct = 0, seen = 0;
  while (loader.next(batch)) {
    const int64_t n = static_cast<int64_t>(batch.labels.size());
    Tensor first = model.run(batch.images, rng).log_probs;  // (n, 10)
    result.loss += cross_entropy(first, batch.labels).item() * static_cast<double>(n);
    std::vector<int64_t> predicted = argmax(first);
    Tensor total = first;
    for (int64_t s = 1; s < samples; s++) total = total + model.run(batch.images, more_paths_rng).log_probs;
    std::vector<int64_t> mc_predicted = argmax(total);
    std::vector<int64_t> mean_path_predicted =
        argmax(model.run(batch.images, mean_path_rng, LocationChoice::mean).log_probs);
    for (int64_t i = 0; i < n; i++) {
      correct += predicted[i] == batch.labels[i];
      mc_correct += mc_predicted[i] == batch.labels[i];
      mean_path_correct += mean_path_predicted[i] == batch.labels[i];
    }
    seen += n;
  }
  model.train();
  result.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
  result.mc_accuracy = static_cast<double>(mc_correct) / static_cast<double>(seen);
  result.mean_path_accuracy = static_cast<double>(mean_path_correct) / static_cast<double>(seen);
  result.loss /= static_cast<double>(seen);
  return result;
}

// A row of test digits, each with its glimpse path: at step t a g x g box and a dot at the
// centre, dark red for early glimpses and brighter yellow for later ones; the last glimpse also
// shows the boxes of its larger scales.
static void draw_glimpses(RecurrentAttentionModel& model, const ImageDataset& test_set, const std::string& path) {
  const int64_t count = std::min<int64_t>(8, test_set.size()), S = test_set.height;
  const int64_t zoom = std::max<int64_t>(1, 240 / S), panel = S * zoom, gap = 4;
  Tensor x = Tensor::empty({count, 1, S, S});
  for (int64_t i = 0; i < count * S * S; i++) x.data()[i] = static_cast<real>(test_set.pixels[i]) / 255;
  Rng rng(evaluation_seed);
  RamOutput out;
  {
    NoGradGuard no_grad;
    out = model.run(x, rng);
  }
  std::vector<int64_t> predicted = argmax(out.log_probs);

  Image image{.height = panel, .width = count * (panel + gap) - gap, .channels = 3, .pixels = {}};
  image.pixels.assign(static_cast<size_t>(image.height * image.width * 3), 255);
  auto put = [&](int64_t px, int64_t py, uint8_t r, uint8_t g, uint8_t b, int64_t i) {
    px = std::clamp<int64_t>(px, 0, panel - 1);
    py = std::clamp<int64_t>(py, 0, panel - 1);
    uint8_t* p = image.pixels.data() + (py * image.width + i * (panel + gap) + px) * 3;
    p[0] = r, p[1] = g, p[2] = b;
  };
  const int64_t T = model.options.glimpses;
  for (int64_t i = 0; i < count; i++) {
    for (int64_t y = 0; y < panel; y++)
      for (int64_t xx = 0; xx < panel; xx++) {
        uint8_t v = static_cast<uint8_t>(255 - test_set.pixels[i * S * S + (y / zoom) * S + xx / zoom]);
        put(xx, y, v, v, v, i);
      }
    for (int64_t t = 0; t < T; t++) {
      double brightness = T > 1 ? static_cast<double>(t) / static_cast<double>(T - 1) : 1;
      uint8_t r = static_cast<uint8_t>(120 + 135 * brightness), g = static_cast<uint8_t>(200 * brightness);
      const real* l = out.locations[t].data() + 2 * i;
      // the centre pixel, as extract_glimpse computes it
      int64_t cx = std::min<int64_t>(static_cast<int64_t>(std::floor((l[0] + 1) / 2 * S)), S - 1);
      int64_t cy = std::min<int64_t>(static_cast<int64_t>(std::floor((l[1] + 1) / 2 * S)), S - 1);
      const int64_t drawn_scales = t == T - 1 ? model.options.scales : 1;  // every scale only at the last glimpse
      for (int64_t k = 0; k < drawn_scales; k++) {
        int64_t side = model.options.glimpse_side << k;
        int64_t x0 = (cx - side / 2) * zoom, y0 = (cy - side / 2) * zoom, x1 = x0 + side * zoom - 1,
                y1 = y0 + side * zoom - 1;
        for (int64_t u = x0; u <= x1; u++) put(u, y0, r, g, 0, i), put(u, y1, r, g, 0, i);
        for (int64_t v = y0; v <= y1; v++) put(x0, v, r, g, 0, i), put(x1, v, r, g, 0, i);
      }
      for (int64_t dy = -2; dy <= 2; dy++)
        for (int64_t dx = -2; dx <= 2; dx++) put(cx * zoom + zoom / 2 + dx, cy * zoom + zoom / 2 + dy, r, g, 0, i);
    }
    std::printf("  digit %lld: label %lld, predicted %lld\n", static_cast<long long>(i),
                static_cast<long long>(test_set.labels[i]), static_cast<long long>(predicted[i]));
  }
  write_png(image, path);
  std::printf("glimpse paths of %lld test digits written to %s\n", static_cast<long long>(count), path.c_str());
}

int main(int argc, char** argv) {
  Flags flags("train_ram", "Trains the Recurrent Attention Model on (translated, cluttered) MNIST.");
  std::string& dataset = flags.add_choice("dataset", "mnist", {"mnist", "translated", "cluttered"},
                                          "28x28 MNIST, or 60x60 translated / cluttered MNIST");
  int64_t& glimpses = flags.add_int("glimpses", 0, "glimpses T (0: 6, and 8 for cluttered as in the paper)", 0, 64);
  TrainingFlags common{.epochs = 20, .batch = 64, .lr = 1e-3};
  declare_training_flags(flags, common);
  double ema_decay = 0;
  declare_ema_flag(flags, ema_decay);
  int64_t& mc_samples = flags.add_int("mc-samples", 1, "also score the mean of S sampled location paths", 1, 1000);
  std::string& visualize = flags.add_string("visualize", "", "PNG file: test digits with their glimpse paths");
  bool& into_core = flags.add_bool("reinforce-into-core", "let REINFORCE train the core and glimpse networks too");
  double& clip_norm = flags.add_real("clip", 5, "clip the gradient norm (0: no clipping)", 0, 1e9);
  double& location_std = flags.add_real("location-std", 0.17, "standard deviation of the location policy", 1e-3, 1);
  flags.parse(argc, argv);
  check_output_paths(flags, common, {{"visualize", visualize}});

  try {
    apply_training_flags(common, "train_ram");
    DataLocation data = find_data(common.data, "mnist", common.quiet);
    ImageDataset train_set = load_mnist_dir(data.dir, true);
    ImageDataset test_set = load_mnist_dir(data.dir, false);
    if (dataset != "mnist") {
      auto distort = dataset == "cluttered" ? cluttered_mnist : translated_mnist;
      Rng train_rng(static_cast<uint64_t>(common.seed)), test_rng(distorted_test_seed);
      train_set = distort(train_set, train_rng, "the training digits of " + data.dir);
      test_set = distort(test_set, test_rng, "the test digits of " + data.dir);
    }
    if (!common.quiet)
      std::printf("%s MNIST (%lldx%lld) from %s: %lld training, %lld test images\n", dataset.c_str(),
                  static_cast<long long>(train_set.height), static_cast<long long>(train_set.width), data.dir.c_str(),
                  static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()));

    const bool small = dataset == "mnist";
    RamOptions options{.glimpse_side = small ? 8 : 12, .scales = small ? 1 : 3,
                       .glimpses = glimpses > 0 ? glimpses : (dataset == "cluttered" ? 8 : 6),
                       .location_sigma = static_cast<real>(location_std), .image_side = train_set.height,
                       .reinforce_into_core = into_core};
    Rng rng(static_cast<uint64_t>(common.seed));
    RecurrentAttentionModel model(options, rng);
    if (!common.quiet) std::printf("%s", model.print().c_str());

    DataParallel parallel(model);  // under mpirun: this process's share of each batch
    DataLoader train_loader(train_set, parallel.share({.batch_size = common.batch, .shuffle = true,
                                                       .seed = static_cast<uint64_t>(common.seed)}));
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false});
    Adam optimizer(model.parameters(), {.lr = static_cast<real>(common.lr)});
    CosineLr schedule(static_cast<real>(common.lr), common.epochs * train_loader.batches_per_epoch());

    // The loop, checkpoints and --resume of train/classifier.h, with RAM's hybrid loss. The
    // locations of a step come from the model's Rng, which the loop re-seeds from (seed, step).
    RamEvaluation last;  // the latest evaluation, for the summary line
    ClassifierTraining run{
        .model_name = "ram_" + dataset, .model = &model, .train_loader = &train_loader,
        .test_loader = &test_loader, .optimizer = &optimizer, .parallel = &parallel,
        .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
        .clip_norm = clip_norm,
        .ema_decay = ema_decay,
        .step_loss =
            [&](const Batch& batch) {
              RamLoss loss = ram_loss(model.run(batch.images), batch.labels);
              return StepLoss{.loss = loss.total, .shown_loss = loss.classification, .predicted = loss.predicted};
            },
        .evaluate =
            [&] {
              last = evaluate_ram(model, test_loader, mc_samples);
              char text[96];
              if (mc_samples > 1)
                std::snprintf(text, sizeof text, " (%lld paths: %.2f%%, mean path: %.2f%%)",
                              static_cast<long long>(mc_samples), 100 * last.mc_accuracy,
                              100 * last.mean_path_accuracy);
              else
                std::snprintf(text, sizeof text, " (mean path: %.2f%%)", 100 * last.mean_path_accuracy);
              std::string note = text;
              std::snprintf(text, sizeof text, "test accuracy: %.4f with one sampled path, %.4f following the policy's mean",
                            last.accuracy, last.mean_path_accuracy);
              std::string summary = text;
              if (mc_samples > 1) {
                std::snprintf(text, sizeof text, ", %.4f with the mean of %lld sampled paths", last.mc_accuracy,
                              static_cast<long long>(mc_samples));
                summary += text;
              }
              return Evaluation{.accuracy = last.accuracy, .loss = last.loss, .note = note, .summary = summary};
            }};
    TrainResult result = train_classifier(run, common);
    if (!visualize.empty() && parallel.is_root()) draw_glimpses(model, test_set, visualize);
    print_final_line(result);
  } catch (const std::exception& e) {
    return report_failure("train_ram", e);
  }
  return 0;
}
