#include "layers/residual_attention.h"

#include "engine/ops.h"
#include "layers/relu.h"

namespace glimpse {

static std::shared_ptr<Conv2d> conv_no_bias(int64_t in, int64_t out, int64_t kernel, int64_t stride, Rng& rng) {
  return std::make_shared<Conv2d>(
      Conv2d::Options{.in = in, .out = out, .kernel = kernel, .stride = stride, .padding = kernel / 2, .bias = false},
      rng);
}

// ---- ResUnit ----

ResUnit::ResUnit(int64_t in, int64_t out, int64_t stride, Rng& rng) : in(in), out(out), stride(stride) {
  if (in <= 0 || out <= 0 || out % 4 != 0 || stride <= 0)
    fail("ResUnit: in, out and stride must be positive and out divisible by 4, got " + describe());
  int64_t width = out / 4;  // the bottleneck
  bn1 = add_module("bn1", std::make_shared<BatchNorm2d>(in));
  conv1 = add_module("conv1", conv_no_bias(in, width, 1, 1, rng));
  bn2 = add_module("bn2", std::make_shared<BatchNorm2d>(width));
  conv2 = add_module("conv2", conv_no_bias(width, width, 3, stride, rng));
  bn3 = add_module("bn3", std::make_shared<BatchNorm2d>(width));
  conv3 = add_module("conv3", conv_no_bias(width, out, 1, 1, rng));
  if (in != out || stride != 1) shortcut = add_module("shortcut", conv_no_bias(in, out, 1, stride, rng));
}

std::string ResUnit::describe() const {
  return std::to_string(in) + ", " + std::to_string(out) + (stride != 1 ? ", stride=" + std::to_string(stride) : "");
}

Tensor ResUnit::forward(const Tensor& x) {           // x: (N, in, H, W)
  Tensor a = bn1->forward_then_relu(x);              // (N, in, H, W)       pre-activation
  Tensor F = conv1->forward(a);                      // (N, out/4, H, W)
  F = conv2->forward(bn2->forward_then_relu(F));     // (N, out/4, H/s, W/s)
  F = conv3->forward(bn3->forward_then_relu(F));     // (N, out, H/s, W/s)
  return F + (shortcut ? shortcut->forward(a) : x);  // (N, out, H/s, W/s)
}

std::shared_ptr<Sequential> res_units(int64_t channels, int units, Rng& rng) {
  auto s = std::make_shared<Sequential>();
  for (int i = 0; i < units; i++) s->push_back(std::make_shared<ResUnit>(channels, channels, 1, rng));
  return s;
}

// ---- AttentionModule ----

constexpr int p_units = 1, t_units = 2, r_units = 1;  // Wang et al. Sec. 4: p = 1, t = 2, r = 1

AttentionModule::AttentionModule(int64_t channels, int64_t size, int down_samplings, Rng& rng)
    : channels(channels), size(size), down_samplings(down_samplings) {
  if (channels <= 0 || channels % 4 != 0 || size <= 0 || down_samplings < 0)
    fail("AttentionModule: channels (divisible by 4), size and down-samplings must be positive, got " + describe());
  first = add_module("first", res_units(channels, p_units, rng));
  trunk = add_module("trunk", res_units(channels, t_units, rng));
  const int D = down_samplings;
  for (int d = 1; d <= D; d++) {
    down.push_back(add_module("down" + std::to_string(d), res_units(channels, d == D ? 2 * r_units : r_units, rng)));
    if (d < D)
      skip.push_back(add_module("skip" + std::to_string(d), std::make_shared<ResUnit>(channels, channels, 1, rng)));
  }
  for (int d = D - 1; d >= 1; d--)
    up.push_back(add_module("up" + std::to_string(d), res_units(channels, r_units, rng)));
  if (D == 0) mask_units = add_module("mask_units", res_units(channels, 2 * r_units, rng));
  mask_head = add_module("mask_head", std::make_shared<Sequential>());
  mask_head->push_back(std::make_shared<BatchNorm2d>(channels));
  mask_head->push_back(std::make_shared<ReLU>());
  mask_head->push_back(conv_no_bias(channels, channels, 1, 1, rng));
  mask_head->push_back(std::make_shared<BatchNorm2d>(channels));
  mask_head->push_back(std::make_shared<ReLU>());
  mask_head->push_back(conv_no_bias(channels, channels, 1, 1, rng));
  last = add_module("last", res_units(channels, p_units, rng));
}

std::string AttentionModule::describe() const {
  return std::to_string(channels) + ", size=" + std::to_string(size) +
         ", down_samplings=" + std::to_string(down_samplings);
}

Tensor AttentionModule::forward(const Tensor& x) {  // x: (N, C, S, S), S = size
  if (x.dim() != 4 || x.shape()[1] != channels || x.shape()[2] != size || x.shape()[3] != size)
    fail("AttentionModule(" + describe() + "): expected input (N, " + std::to_string(channels) + ", " +
         std::to_string(size) + ", " + std::to_string(size) + "), got " + shape_str(x.shape()));
  Tensor h = first->forward(x);  // (N, C, S, S)
  Tensor T = trunk->forward(h);  // (N, C, S, S)  trunk

  // Soft mask branch, bottom-up: scale d has side ~S/2^d.
  Tensor m = h;
  std::vector<Tensor> skips;  // skip_d, d = 1..D-1
  for (int d = 1; d <= down_samplings; d++) {
    m = max_pool2d(m, {.kernel = 3, .stride = 2, .padding = 1});       // (N, C, S/2^d, S/2^d)
    m = down[d - 1]->forward(m);                                       //   r units (2r at the deepest)
    if (d < down_samplings) skips.push_back(skip[d - 1]->forward(m));  //   skip unit at this scale
  }
  if (down_samplings == 0) m = mask_units->forward(m);  // (N, C, S, S)  2r units
  // Top-down: up-sample, add the skip of that scale, r units.
  for (int d = down_samplings - 1; d >= 1; d--) {
    const Tensor& s = skips[d - 1];  // (N, C, S/2^d, S/2^d)
    m = upsample_bilinear2d(m, s.shape()[2], s.shape()[3], true) + s;
    m = up[down_samplings - 1 - d]->forward(m);
  }
  if (down_samplings > 0) m = upsample_bilinear2d(m, size, size, true);  // (N, C, S, S)
  Tensor M = sigmoid(mask_head->forward(m));                             // (N, C, S, S)  soft mask in (0, 1)
  observe("mask", M);

  Tensor H = (1.0f + M) * T;  // (N, C, S, S)  Eq. 3
  return last->forward(H);    // (N, C, S, S)
}

}  // namespace glimpse
