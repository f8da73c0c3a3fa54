// SEBlock: Squeeze-and-Excitation (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018,
// Fig. 1 and Sec. 3, Eq. 2-4).
//
//   z = F_sq(u)  = global average pool of u                      (N, C)          Eq. 2
//   s = F_ex(z)  = sigmoid(W2 ReLU(W1 z + b1) + b2)               (N, C)          Eq. 3
//   y = F_scale(u, s) = s_c * u_c, every channel scaled           (N, C, H, W)    Eq. 4
//
// W1: C -> C/r, W2: C/r -> C, with r = 16 and a hidden width of at least 1 (MODELS.md,
// se_resnet20). Both linear layers have biases, with PyTorch's default init.
// In se_resnet20 it sits on the residual branch of each BasicBlock, before the addition
// (Hu et al. Fig. 3, "SE-ResNet module").
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace glimpse {

// Hidden width of the SE and CBAM bottleneck MLPs: max(1, C / r).
inline int64_t reduced_channels(int64_t channels, int64_t reduction) {
  return channels / reduction > 1 ? channels / reduction : 1;
}

class SEBlock : public Module {
 public:
  SEBlock(int64_t channels, Rng& rng, int64_t reduction = 16);

  std::string type_name() const override { return "SEBlock"; }
  std::string describe() const override;
  Tensor forward(const Tensor& u) override;  // (N, C, H, W) -> (N, C, H, W)

  int64_t channels, reduction;
  std::shared_ptr<Linear> fc1;  // W1: C -> max(1, C/r)
  std::shared_ptr<Linear> fc2;  // W2: max(1, C/r) -> C
};

}  // namespace glimpse
