#include "models/residual_attention.h"

#include "engine/ops.h"

namespace glimpse {

Attention56::Attention56(int64_t width, Rng& rng, int64_t classes) : width(width) {
  if (width <= 0) fail("Attention56: the width must be positive, got " + std::to_string(width));
  const int64_t w = width;
  conv1 = add_module(
      "conv1", std::make_shared<Conv2d>(
                   Conv2d::Options{.in = 3, .out = w, .kernel = 3, .stride = 1, .padding = 1, .bias = false}, rng));
  unit1 = add_module("unit1", std::make_shared<ResUnit>(w, 4 * w, 1, rng));
  attention1 = add_module("attention1", std::make_shared<AttentionModule>(4 * w, 32, 2, rng));
  unit2 = add_module("unit2", std::make_shared<ResUnit>(4 * w, 8 * w, 2, rng));
  attention2 = add_module("attention2", std::make_shared<AttentionModule>(8 * w, 16, 1, rng));
  unit3 = add_module("unit3", std::make_shared<ResUnit>(8 * w, 16 * w, 2, rng));
  attention3 = add_module("attention3", std::make_shared<AttentionModule>(16 * w, 8, 0, rng));
  units4 = add_module("units4", res_units(16 * w, 3, rng));
  bn = add_module("bn", std::make_shared<BatchNorm2d>(16 * w));
  fc = add_module("fc", std::make_shared<Linear>(Linear::Options{.in = 16 * w, .out = classes}, rng));
}

Tensor Attention56::forward(const Tensor& x) {  // x: (N, 3, 32, 32)
  Tensor h = conv1->forward(x);                 // (N, w, 32, 32)
  h = unit1->forward(h);                        // (N, 4w, 32, 32)
  h = attention1->forward(h);                   // (N, 4w, 32, 32)
  h = unit2->forward(h);                        // (N, 8w, 16, 16)
  h = attention2->forward(h);                   // (N, 8w, 16, 16)
  h = unit3->forward(h);                        // (N, 16w, 8, 8)
  h = attention3->forward(h);                   // (N, 16w, 8, 8)
  h = units4->forward(h);                       // (N, 16w, 8, 8)
  h = bn->forward_then_relu(h);                 // (N, 16w, 8, 8)
  h = global_avg_pool2d(h);                     // (N, 16w)
  return fc->forward(h);                        // (N, classes) logits
}

}  // namespace glimpse
