#include "layers/dual_attention.h"

#include "engine/ops.h"

namespace glimpse {

static void check_input(const Module& m, const Tensor& x, int64_t channels) {
  if (x.dim() != 4 || (channels > 0 && x.size(1) != channels))
    fail(m.type_name() + ": expected input (N, " + (channels > 0 ? std::to_string(channels) : "C") + ", H, W), got " +
         shape_str(x.shape()));
}

PositionAttention::PositionAttention(int64_t channels_, Rng& rng, int64_t reduction) : channels(channels_) {
  if (channels <= 0 || reduction <= 0 || channels % reduction != 0)
    fail("PositionAttention: channels must be a positive multiple of " + std::to_string(reduction) + ", got " +
         std::to_string(channels));
  auto conv1x1 = [&](int64_t out) {
    return std::make_shared<Conv2d>(Conv2d::Options{.in = channels, .out = out, .kernel = 1}, rng);
  };
  query = add_module("query", conv1x1(channels / reduction));
  key = add_module("key", conv1x1(channels / reduction));
  value = add_module("value", conv1x1(channels));
  gamma = add_parameter("gamma", Tensor::zeros({1}));
}

Tensor PositionAttention::forward(const Tensor& x) {  // x: (N, C, H, W)
  check_input(*this, x, channels);
  const int64_t N = x.size(0), HW = x.size(2) * x.size(3);
  Tensor B = reshape(query->forward(x), {N, -1, HW});        // (N, C/8, HW)
  Tensor C = reshape(key->forward(x), {N, -1, HW});          // (N, C/8, HW)
  Tensor D = reshape(value->forward(x), {N, channels, HW});  // (N, C, HW)
  Tensor S = softmax(bmm(B, C, true, false), -1);            // (N, HW, HW)  S_ij: query i, key j  Eq. 1
  observe("S", S);
  Tensor out = bmm(D, S, false, true);         // (N, C, HW)   out_i = sum_j S_ij D_j
  return gamma * reshape(out, x.shape()) + x;  // Eq. 2
}

ChannelAttentionModule::ChannelAttentionModule() { beta = add_parameter("beta", Tensor::zeros({1})); }

Tensor ChannelAttentionModule::forward(const Tensor& x) {  // x: (N, C, H, W)
  check_input(*this, x, 0);
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  Tensor A = reshape(x, {N, C, HW});               // (N, C, HW)
  Tensor E = bmm(A, A, false, true);               // (N, C, C)    E_ij = A_i . A_j
  Tensor X = softmax(max(E, {-1}, true) - E, -1);  // (N, C, C)    Eq. 3, as the authors' code
  observe("X", X);
  Tensor out = bmm(X, A);                     // (N, C, HW)   out_i = sum_j X_ij A_j
  return beta * reshape(out, x.shape()) + x;  // Eq. 4
}

DualAttention::DualAttention(int64_t channels, Rng& rng) {
  position = add_module("position", std::make_shared<PositionAttention>(channels, rng));
  channel = add_module("channel", std::make_shared<ChannelAttentionModule>());
}

Tensor DualAttention::forward(const Tensor& x) { return (position->forward(x) + channel->forward(x)) * 0.5f; }

}  // namespace glimpse
