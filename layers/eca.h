// ECA: Efficient Channel Attention (Wang et al., "ECA-Net: Efficient Channel Attention for Deep
// Convolutional Neural Networks", CVPR 2020, Fig. 2, Eq. 12).
//
//   y = global average pool of x                          (N, C)      as SE's squeeze
//   w = sigmoid(conv1d_k(y))                              (N, C)      each channel's weight from its k neighbours
//   out = w_c * x_c, every channel scaled                 (N, C, H, W)
//
// Where SE learns a C -> C/r -> C MLP, ECA slides one k-tap kernel along the channel axis (no
// bias, zero padding k/2): k parameters per block, and no dimensionality reduction, which the
// paper finds hurts (Sec. 3.2.1). k follows the channels (Eq. 12, gamma = 2, b = 1):
//   t = floor((log2 C + 1) / 2),  k = t if t is odd, else t + 1      (3 for C = 16, 32 and 64)
// Init: PyTorch's default for Conv1d, uniform in +-1/sqrt(k) (MODELS.md, eca_resnet20).
// In eca_resnet20 it sits where SE does: at the end of every residual branch, before the addition.
#pragma once

#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

int64_t eca_kernel_size(int64_t channels);  // Eq. 12

class ECA : public Module {
 public:
  ECA(int64_t channels, Rng& rng);

  std::string type_name() const override { return "ECA"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> (N, C, H, W); observes "weights" (N, C)

  int64_t channels, kernel;
  Tensor weight;  // (1, 1, k), registered as "weight"
};

}  // namespace glimpse
