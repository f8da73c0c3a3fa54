#include "layers/cbam.h"

#include "engine/ops.h"
#include "layers/se_block.h"

namespace glimpse {

static void check_channels(const Tensor& x, int64_t channels, const std::string& who) {
  if (x.dim() != 4 || x.shape()[1] != channels)
    fail(who + ": expected input (N, " + std::to_string(channels) + ", H, W), got " + shape_str(x.shape()));
}

// ---- channel attention ----

ChannelAttention::ChannelAttention(int64_t channels, Rng& rng, int64_t reduction)
    : channels(channels), reduction(reduction) {
  if (channels <= 0 || reduction <= 0)
    fail("ChannelAttention: channels and reduction must be positive, got " + describe());
  int64_t hidden = reduced_channels(channels, reduction);
  fc1 = add_module("fc1", std::make_shared<Linear>(Linear::Options{.in = channels, .out = hidden}, rng));
  fc2 = add_module("fc2", std::make_shared<Linear>(Linear::Options{.in = hidden, .out = channels}, rng));
}

std::string ChannelAttention::describe() const {
  return std::to_string(channels) + ", reduction=" + std::to_string(reduction);
}

Tensor ChannelAttention::mlp(const Tensor& descriptor) { return fc2->forward(relu(fc1->forward(descriptor))); }

Tensor ChannelAttention::forward(const Tensor& x) {  // x: (N, C, H, W)
  check_channels(x, channels, "ChannelAttention(" + describe() + ")");
  Tensor avg = mlp(global_avg_pool2d(x));                       // (N, C)  MLP(AvgPool(F))
  Tensor mx = mlp(global_max_pool2d(x));                        // (N, C)  MLP(MaxPool(F)), same weights
  Tensor weights = sigmoid(avg + mx);                           // (N, C)  M_c, Eq. 2
  return x * reshape(weights, {x.shape()[0], channels, 1, 1});  // (N, C, H, W)
}

// ---- spatial attention ----

SpatialAttention::SpatialAttention(Rng& rng, int64_t kernel) {
  if (kernel <= 0 || kernel % 2 == 0)
    fail("SpatialAttention: the kernel must be odd and positive, got " + std::to_string(kernel));
  conv = add_module(
      "conv",
      std::make_shared<Conv2d>(
          Conv2d::Options{.in = 2, .out = 1, .kernel = kernel, .stride = 1, .padding = kernel / 2, .bias = false},
          rng));
  bn = add_module("bn", std::make_shared<BatchNorm2d>(1));
}

Tensor SpatialAttention::forward(const Tensor& x) {  // x: (N, C, H, W)
  if (x.dim() != 4) fail("SpatialAttention: expected input (N, C, H, W), got " + shape_str(x.shape()));
  Tensor pooled = concat({channel_mean(x), channel_max(x)}, 1);  // (N, 2, H, W)  [mean; max]
  Tensor map = sigmoid(bn->forward(conv->forward(pooled)));      // (N, 1, H, W)  M_s, Eq. 3
  observe("map", map);
  return x * map;  // (N, C, H, W)
}

// ---- CBAM ----

CBAM::CBAM(int64_t channels, Rng& rng, int64_t reduction) {
  channel = add_module("channel", std::make_shared<ChannelAttention>(channels, rng, reduction));
  spatial = add_module("spatial", std::make_shared<SpatialAttention>(rng));
}

std::string CBAM::describe() const { return channel->describe(); }

Tensor CBAM::forward(const Tensor& x) {          // x: (N, C, H, W)
  return spatial->forward(channel->forward(x));  // F'' = M_s(F') * F',  F' = M_c(F) * F   (Eq. 1)
}

}  // namespace glimpse
