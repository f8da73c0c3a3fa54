#include "train/ram_evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/ops.h"
#include "engine/wording.h"
#include "io/image_grid.h"

namespace glimpse {

RamEvaluation evaluate_ram(RecurrentAttentionModel& model, DataLoader& loader, int64_t samples) {
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
    result.predicted.insert(result.predicted.end(), predicted.begin(), predicted.end());
    result.mc_predicted.insert(result.mc_predicted.end(), mc_predicted.begin(), mc_predicted.end());
    result.mean_path_predicted.insert(result.mean_path_predicted.end(), mean_path_predicted.begin(),
                                      mean_path_predicted.end());
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

// The colour of glimpse t of T: from blue (the first) to red (the last).
static Rgb glimpse_colour(int64_t t, int64_t T) {
  const double late = T > 1 ? static_cast<double>(t) / static_cast<double>(T - 1) : 1;
  auto mix = [late](int early, int last) { return static_cast<uint8_t>(std::lround(early + (last - early) * late)); };
  return {mix(30, 220), mix(90, 20), mix(230, 20)};
}

// A tile of the picture: the S x S canvas inside a margin as wide as half the largest glimpse, so
// that a glimpse over the edge is seen whole (outside the canvas the sensor reads zeros).
struct GlimpseTile {
  int64_t S, margin, side;
  // A canvas coordinate (in pixels) as a fraction of the tile.
  double at(double canvas_pixel) const {
    return (canvas_pixel + static_cast<double>(margin)) / static_cast<double>(side);
  }
};

// Test digit i dark on white, on a light grey margin.
static std::vector<float> digit_tile(const ImageDataset& test_set, int64_t i, const GlimpseTile& tile) {
  const int64_t S = tile.S, margin = tile.margin, side = tile.side;
  std::vector<float> pixels(static_cast<size_t>(side * side), 0.85f);
  for (int64_t y = 0; y < S; y++)
    for (int64_t x = 0; x < S; x++)
      pixels[static_cast<size_t>((y + margin) * side + x + margin)] = 1 - test_set.pixels[(i * S + y) * S + x] / 255.0f;
  return pixels;
}

// Image i's path in tile (row, col): each glimpse a dot at its centre pixel, numbered in order,
// with its smallest patch outlined; the last glimpse with every scale.
static void draw_path(ImageGrid& grid, int64_t row, int64_t col, const RamOutput& out, int64_t i,
                      const RamOptions& options, const GlimpseTile& tile, double number_offset) {
  const int64_t T = options.glimpses, largest = options.glimpse_side << (options.scales - 1);
  for (int64_t t = 0; t < T; t++) {
    const Rgb colour = glimpse_colour(t, T);
    const real* l = out.locations[static_cast<size_t>(t)].data() + 2 * i;
    const double cx = static_cast<double>(location_to_pixel(l[0], tile.S, largest));
    const double cy = static_cast<double>(location_to_pixel(l[1], tile.S, largest));
    const int64_t drawn_scales = t == T - 1 ? options.scales : 1;
    for (int64_t k = 0; k < drawn_scales; k++) {
      const double box = static_cast<double>(options.glimpse_side << k), first = -std::floor(box / 2);
      grid.mark(row, col, tile.at(cy + first), tile.at(cx + first), tile.at(cy + first + box),
                tile.at(cx + first + box), colour);
    }
    grid.fill(row, col, tile.at(cy - 0.25), tile.at(cx - 0.25), tile.at(cy + 1.25), tile.at(cx + 1.25), colour);
    grid.annotate(row, col, tile.at(cy + 0.5) - number_offset, tile.at(cx + 0.5) + number_offset, std::to_string(t + 1),
                  colour);
  }
}

void draw_glimpses(RecurrentAttentionModel& model, const ImageDataset& test_set, const std::string& path) {
  const int64_t count = std::min<int64_t>(8, test_set.size()), S = test_set.height;
  Tensor x = Tensor::empty({count, 1, S, S});
  for (int64_t i = 0; i < count * S * S; i++) x.data()[i] = static_cast<real>(test_set.pixels[i]) / 255;
  Rng rng(evaluation_seed);
  RamOutput out;
  {
    NoGradGuard no_grad;
    out = model.run(x, rng);
  }
  std::vector<int64_t> predicted = argmax(out.log_probs);

  const int64_t largest = model.options.glimpse_side << (model.options.scales - 1);
  const GlimpseTile tile{.S = S, .margin = largest / 2, .side = S + 2 * (largest / 2)};
  const int64_t zoom = std::max<int64_t>(1, 240 / tile.side), per_row = std::min<int64_t>(count, 4);
  ImageGrid grid((count + per_row - 1) / per_row, per_row, tile.side, zoom,
                 {.title = "RAM: " + count_of(model.options.glimpses, "glimpse") + " per digit, numbered in order",
                  .caption_lines = 2});
  const double number_offset = 9.0 / static_cast<double>(tile.side * zoom);  // up and right of its dot
  for (int64_t i = 0; i < count; i++) {
    const int64_t row = i / per_row, col = i % per_row;
    grid.put_grey(row, col, digit_tile(test_set, i, tile).data(), tile.side, tile.side);
    grid.mark(row, col, tile.at(0), tile.at(0), tile.at(static_cast<double>(S)), tile.at(static_cast<double>(S)),
              Rgb{90, 90, 90});
    draw_path(grid, row, col, out, i, model.options, tile, number_offset);
    grid.caption_prediction(row, col, class_name(test_set.class_names, test_set.labels[static_cast<size_t>(i)]),
                            class_name(test_set.class_names, predicted[static_cast<size_t>(i)]));
    std::printf("  digit %lld: label %lld, predicted %lld\n", static_cast<long long>(i),
                static_cast<long long>(test_set.labels[static_cast<size_t>(i)]),
                static_cast<long long>(predicted[static_cast<size_t>(i)]));
  }
  grid.write(path);
  std::printf("glimpse paths of %s written to %s\n", count_of(count, "test digit").c_str(), path.c_str());
}

Evaluation ram_evaluation_report(const RamEvaluation& result, int64_t samples) {
  char text[96];
  if (samples > 1)
    std::snprintf(text, sizeof text, " (%lld paths: %.2f%%, mean path: %.2f%%)", static_cast<long long>(samples),
                  100 * result.mc_accuracy, 100 * result.mean_path_accuracy);
  else
    std::snprintf(text, sizeof text, " (mean path: %.2f%%)", 100 * result.mean_path_accuracy);
  const std::string note = text;
  std::snprintf(text, sizeof text, "test accuracy: %.4f with one sampled path, %.4f following the policy's mean",
                result.accuracy, result.mean_path_accuracy);
  std::string summary = text;
  if (samples > 1) {
    std::snprintf(text, sizeof text, ", %.4f with the mean of %lld sampled paths", result.mc_accuracy,
                  static_cast<long long>(samples));
    summary += text;
  }
  return Evaluation{.accuracy = result.accuracy, .loss = result.loss, .note = note, .summary = summary};
}

}  // namespace glimpse
