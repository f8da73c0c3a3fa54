// AugmentedConv2d: attention-augmented convolution (Bello, Zoph, Vaswani, Shlens & Le,
// "Attention Augmented Convolutional Networks", ICCV 2019, Fig. 2, Eq. 1-5).
//
// A convolution whose output channels are split between a convolution and multi-head self-
// attention over the positions, concatenated (Eq. 5):
//
//   AAConv(x) = concat[ conv3x3(x) ,  MHA(x) ]            (N, F_out - d_v, H', W') ++ (N, d_v, H', W')
//
//   MHA: q, k, v = one conv 1x1 of x (no bias) split into d_k | d_k | d_v channels, each split
//        into N_h heads of d_k^h = d_k / N_h (d_v^h = d_v / N_h) channels
//        logits_ij = q_i . k_j / sqrt(d_k^h)  +  q_i . (r^W[x_j - x_i] + r^H[y_j - y_i]) / sqrt(d_k^h)   Eq. 3
//        O_h = softmax over j of the logits, times v                                                  Eq. 1
//        MHA(x) = conv 1x1 (d_v -> d_v, no bias) of the heads concatenated                            Eq. 2
//   r^W, r^H: learnt tables of 2S-1 rows of d_k^h values, one row per horizontal / vertical offset,
//   shared by the heads (init normal, std d_k^h^-1/2); S the side of the attended map.
//
// The relative logits (engine/ops/relative_logits.cpp) make the attention know where a key sits
// relative to the query, which plain self-attention, being permutation-equivariant, cannot.
// With stride 2 the convolution down-samples and the attention sees x average-pooled 2x2, so both
// halves come out at the same size (MODELS.md, aa_resnet20).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace glimpse {

class AugmentedConv2d : public Module {
 public:
  struct Options {
    int64_t in = 0;      // C
    int64_t out = 0;     // F_out: conv channels + d_v
    int64_t stride = 1;  // 1, or 2 (the attention then sees x average-pooled 2x2)
    int64_t dk = 16;     // d_k: query and key depth, all heads
    int64_t dv = 16;     // d_v: value depth, all heads
    int64_t heads = 4;   // N_h
    int64_t size = 8;    // S: the side of the attended map (H' = W' = S)
  };
  AugmentedConv2d(Options options, Rng& rng);

  std::string type_name() const override { return "AugmentedConv2d"; }
  std::string describe() const override;
  // (N, C, H, W) -> (N, F_out, H/stride, W/stride); observes "weights" (N * N_h, S*S, S*S)
  Tensor forward(const Tensor& x) override;
  Tensor self_attention(const Tensor& x);  // MHA(x) of the header: (N, C, S, S) -> (N, d_v, S, S)

  Options options;
  std::shared_ptr<Conv2d> conv;           // 3x3/stride, C -> F_out - d_v, no bias
  std::shared_ptr<Conv2d> qkv;            // 1x1, C -> 2 d_k + d_v, no bias
  std::shared_ptr<Conv2d> attention_out;  // 1x1, d_v -> d_v, no bias
  Tensor rel_w, rel_h;                    // (2S - 1, d_k^h) each
};

}  // namespace glimpse
