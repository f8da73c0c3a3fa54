#include "train/ram_evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/ops.h"
#include "io/image.h"

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

void draw_glimpses(RecurrentAttentionModel& model, const ImageDataset& test_set, const std::string& path) {
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
