// GlobalContext: the global context block of GCNet (Cao et al., "GCNet: Non-local Networks Meet
// Squeeze-Excitation Networks and Beyond", ICCV Workshops 2019, Fig. 4(d), Eq. 3).
//
//   z_i = x_i + W_v2 ReLU(LN(W_v1 sum_j alpha_j x_j)),    alpha_j = e^(W_k x_j) / sum_m e^(W_k x_m)
//
//   context modelling   W_k: conv 1x1 C -> 1 (bias), softmax over the H*W positions  -> alpha (N, HW)
//                       c = sum_j alpha_j x_j                                          (N, C, 1, 1)
//   transform           W_v1: conv 1x1 C -> C/4 (bias), LayerNorm over (C/4, 1, 1), ReLU,
//                       W_v2: conv 1x1 C/4 -> C (bias)                                 (N, C, 1, 1)
//   fusion              x + transform(c), the same vector added at every position     (N, C, H, W)
//
// The simplified non-local block: one query-independent attention map (a non-local block's maps
// are nearly the same for every query, the paper's Fig. 2), then an SE-like bottleneck that adds
// instead of scaling. W_v2 starts at zero (weight and bias), so the block starts as the identity.
// In gc_resnet20 it sits at the end of every residual branch, before the addition.
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/layer_norm.h"
#include "layers/module.h"

namespace glimpse {

class GlobalContext : public Module {
 public:
  GlobalContext(int64_t channels, Rng& rng, int64_t reduction = 4);

  std::string type_name() const override { return "GlobalContext"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> (N, C, H, W); observes "alpha" (N, 1, H, W)

  int64_t channels, reduction;
  std::shared_ptr<Conv2d> Wk;     // 1x1, C -> 1, the attention logits
  std::shared_ptr<Conv2d> Wv1;    // 1x1, C -> C/4
  std::shared_ptr<LayerNorm> ln;  // over (C/4, 1, 1)
  std::shared_ptr<Conv2d> Wv2;    // 1x1, C/4 -> C, zero at the start
};

}  // namespace glimpse
