#include "layers/augmented_conv2d.h"

#include <cmath>

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

AugmentedConv2d::AugmentedConv2d(Options o, Rng& rng) : options(o) {
  const bool valid = o.in > 0 && o.out > o.dv && o.dv > 0 && o.dk > 0 && o.heads > 0 && o.dk % o.heads == 0 &&
                     o.dv % o.heads == 0 && (o.stride == 1 || o.stride == 2) && o.size > 0;
  if (!valid)
    fail("AugmentedConv2d: needs out > dv > 0, dk and dv divisible by the heads and stride 1 or 2, got " + describe());
  conv = add_module(
      "conv", std::make_shared<Conv2d>(
                  Conv2d::Options{
                      .in = o.in, .out = o.out - o.dv, .kernel = 3, .stride = o.stride, .padding = 1, .bias = false},
                  rng));
  qkv = add_module("qkv", std::make_shared<Conv2d>(
                              Conv2d::Options{.in = o.in, .out = 2 * o.dk + o.dv, .kernel = 1, .bias = false}, rng));
  attention_out =
      add_module("attention_out",
                 std::make_shared<Conv2d>(Conv2d::Options{.in = o.dv, .out = o.dv, .kernel = 1, .bias = false}, rng));
  const int64_t dkh = o.dk / o.heads;
  rel_w = add_parameter("rel_w", Tensor::empty({2 * o.size - 1, dkh}));
  rel_h = add_parameter("rel_h", Tensor::empty({2 * o.size - 1, dkh}));
  fill_normal(rel_w, 0, 1 / std::sqrt(static_cast<real>(dkh)), rng);
  fill_normal(rel_h, 0, 1 / std::sqrt(static_cast<real>(dkh)), rng);
}

std::string AugmentedConv2d::describe() const {
  const Options& o = options;
  return std::to_string(o.in) + ", " + std::to_string(o.out) +
         (o.stride != 1 ? ", stride=" + std::to_string(o.stride) : "") + ", dk=" + std::to_string(o.dk) +
         ", dv=" + std::to_string(o.dv) + ", heads=" + std::to_string(o.heads) + ", size=" + std::to_string(o.size);
}

Tensor AugmentedConv2d::self_attention(const Tensor& x) {  // x: (N, C, S, S)
  const Options& o = options;
  const int64_t N = x.size(0), S = o.size, HW = S * S, B = N * o.heads, dkh = o.dk / o.heads, dvh = o.dv / o.heads;
  Tensor qkv_out = qkv->forward(x);  // (N, 2dk + dv, S, S)
  // split into q | k | v, then each into heads: (N, N_h * d^h, S, S) -> (N * N_h, d^h, ...)
  Tensor q = reshape(slice(qkv_out, 1, 0, o.dk), {B, dkh, S, S}) * (1 / std::sqrt(static_cast<real>(dkh)));
  Tensor k = reshape(slice(qkv_out, 1, o.dk, 2 * o.dk), {B, dkh, HW});
  Tensor v = reshape(slice(qkv_out, 1, 2 * o.dk, 2 * o.dk + o.dv), {B, dvh, HW});
  Tensor logits = bmm(reshape(q, {B, dkh, HW}), k, true, false)  // (B, HW, HW)  content: q_i . k_j
                  + relative_logits(q, rel_w, rel_h);            //              position: q_i . (r^W + r^H)
  Tensor weights = softmax(logits, -1);                          // (B, HW, HW)  over the keys j
  observe("weights", weights);
  Tensor heads = bmm(v, weights, false, true);                     // (B, d_v^h, HW)  O_h
  return attention_out->forward(reshape(heads, {N, o.dv, S, S}));  // (N, d_v, S, S)  heads concatenated, mixed
}

Tensor AugmentedConv2d::forward(const Tensor& x) {  // x: (N, C, H, W)
  const Options& o = options;
  if (x.dim() != 4 || x.size(1) != o.in || x.size(2) != o.size * o.stride || x.size(3) != o.size * o.stride)
    fail("AugmentedConv2d(" + describe() + "): expected input (N, " + std::to_string(o.in) + ", " +
         std::to_string(o.size * o.stride) + ", " + std::to_string(o.size * o.stride) + "), got " +
         shape_str(x.shape()));
  Tensor attended = o.stride == 1 ? x : avg_pool2d(x, {.kernel = o.stride});  // (N, C, S, S)
  return concat({conv->forward(x), self_attention(attended)}, 1);             // (N, F_out, S, S)  Eq. 5
}

}  // namespace glimpse
