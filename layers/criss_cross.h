// CrissCrossAttention: CCNet's recurrent criss-cross attention (Huang et al., "CCNet: Criss-Cross
// Attention for Semantic Segmentation", ICCV 2019, Fig. 2-3, Eq. 1-2).
//
// One pass: each position u attends to the H + W - 1 positions of its column and its row.
//   Q = query(x), K = key(x)       conv 1x1 C -> C/8 (bias)                       (N, C/8, H, W)
//   V = value(x)                   conv 1x1 C -> C (bias)                         (N, C, H, W)
//   A = softmax over the cross of Q_u . K_v                                       (N, H, W, H+W-1)   Eq. 1
//   out_u = gamma * sum_{v in cross(u)} A_uv V_v + x_u                            (N, C, H, W)       Eq. 2
//
// Recurrence (Fig. 3): the same module, with the same weights, applied R = 2 times. After the
// first pass u holds what its row and column hold; after the second, what their rows and columns
// held: the whole image, at (H + W - 1) keys per query instead of H * W.
// gamma is a learnt scalar that starts at 0: the module starts as the identity.
// cc_resnet20 puts one after stage 3 (MODELS.md). The affinities and the weighted sum are the ops
// criss_cross_logits and criss_cross_sum (engine/ops/criss_cross.cpp).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace glimpse {

class CrissCrossAttention : public Module {
 public:
  CrissCrossAttention(int64_t channels, Rng& rng, int64_t recurrence = 2);

  std::string type_name() const override { return "CrissCrossAttention"; }
  std::string describe() const override;
  // (N, C, H, W) -> (N, C, H, W); observes "A1", "A2", ... (N, H, W, H+W-1), the weights of each pass
  Tensor forward(const Tensor& x) override;
  Tensor pass(const Tensor& x, int64_t r);  // one criss-cross pass, Eq. 1-2

  int64_t channels, recurrence;
  std::shared_ptr<Conv2d> query, key;  // 1x1, C -> C/8
  std::shared_ptr<Conv2d> value;       // 1x1, C -> C
  Tensor gamma;                        // (1), zero at the start
};

}  // namespace glimpse
