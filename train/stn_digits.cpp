#include "train/stn_digits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "engine/ops.h"
#include "engine/wording.h"
#include "io/distorted_mnist.h"
#include "io/image_grid.h"

namespace glimpse {

void declare_stn_recipe(Flags& flags, StnRecipe& recipe) {
  flags.bind("no-transformer", recipe.no_transformer, "the CNN baseline: the classifier without the transformer");
  flags.bind("redraw", recipe.redraw, "fresh distortions of the training digits every epoch, not once per run");
  flags.bind("optimizer", recipe.optimizer, {"sgd", "adam"},
             "SGD with --momentum, or Adam (give it a smaller --lr, e.g. 1e-3)");
  flags.bind("momentum", recipe.momentum, "SGD momentum", 0, 1);
  flags.bind("warmup-epochs", recipe.warmup_epochs, "epochs of linear learning-rate warm-up", 0, 1000);
  flags.bind("clip", recipe.clip, "clip the gradient norm (0: no clipping)", 0, 1e9);
  flags.bind("loc-lr-factor", recipe.loc_lr_factor, "the localisation net's learning rate as a fraction of --lr", 0,
             1e3);
}

Rng stn_training_draw(int64_t seed, int64_t draw) {
  Rng first(static_cast<uint64_t>(seed) ^ 0x5354'4E00ull);
  return draw == 0 ? first : first.split(static_cast<uint64_t>(draw));
}

ImageDataset stn_digits(const ImageDataset& mnist, const std::string& dataset, Rng& rng, const std::string& what) {
  if (dataset == "mnist") return mnist;
  if (dataset != "rts") fail("stn_digits: no data set '" + dataset + "' (mnist or rts)");
  return rts_mnist(mnist, rng, what + " (--dataset rts)");
}

std::pair<float, float> pixel_statistics(const ImageDataset& data) {
  double sum = 0, sum_sq = 0;
  for (uint8_t p : data.pixels) {
    double v = p / 255.0;
    sum += v, sum_sq += v * v;
  }
  double n = static_cast<double>(data.pixels.size());
  double mean = sum / n;
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(std::max(sum_sq / n - mean * mean, 1e-12)))};
}

void draw_transformed_pairs(Module& model, SpatialTransformer& transformer, const ImageDataset& test_set,
                            const std::vector<int64_t>& indices, float mean, float stddev, int64_t pairs, int64_t scale,
                            const std::string& title, const std::string& path) {
  const int64_t count = static_cast<int64_t>(indices.size()), S = test_set.height;
  Tensor raw = Tensor::empty({count, 1, S, S});  // pixels in [0, 1]
  for (int64_t k = 0; k < count; k++)
    for (int64_t p = 0; p < S * S; p++) raw.data()[k * S * S + p] = test_set.image(indices[k])[p] / 255.0f;
  model.eval();  // the transformer is a part of it
  NoGradGuard no_grad;
  Tensor normalised = (raw - mean) / stddev;  // what the model sees
  const std::vector<int64_t> predicted = argmax(model.forward(normalised));
  // theta from what the model sees, applied to the raw image so that outside reads as black
  Tensor warped = grid_sample(raw, affine_grid(transformer.theta(normalised), S, S));
  GridLabels labels{.title = title, .caption_lines = 2};
  for (int64_t k = 0; k < pairs; k++) labels.columns.insert(labels.columns.end(), {"input", "transformed"});
  ImageGrid grid(std::max<int64_t>(1, (count + pairs - 1) / pairs), 2 * pairs, S, scale, labels);
  for (int64_t i = 0; i < count; i++) {
    const int64_t row = i / pairs, col = 2 * (i % pairs);
    grid.put_grey(row, col, raw.data() + i * S * S, S, S);
    grid.put_grey(row, col + 1, warped.data() + i * S * S, S, S);
    grid.caption_prediction(row, col,
                            class_name(test_set.class_names, test_set.labels[static_cast<size_t>(indices[i])]),
                            class_name(test_set.class_names, predicted[static_cast<size_t>(i)]));
  }
  grid.write(path);
}

void draw_first_transformed_digits(Module& model, SpatialTransformer& transformer, const std::string& model_name,
                                   const ImageDataset& test_set, float mean, float stddev, const std::string& path) {
  std::vector<int64_t> first(static_cast<size_t>(std::min<int64_t>(24, test_set.size())));
  std::iota(first.begin(), first.end(), 0);
  draw_transformed_pairs(model, transformer, test_set, first, mean, stddev, 4, 3,
                         model_name + ": what the transformer makes of test digits", path);
  std::printf("wrote %s: %s (left) and their transformed versions (right)\n", path.c_str(),
              count_of(static_cast<int64_t>(first.size()), "test digit").c_str());
}

}  // namespace glimpse
