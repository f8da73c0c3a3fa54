// NonLocal: the non-local block, embedded Gaussian (Wang, Girshick, Gupta & He, "Non-local
// Neural Networks", CVPR 2018, Fig. 2, Eq. 1-3 and Sec. 3.3).
//
//   y_i = sum_j f(x_i, x_j) g(x_j),   f = softmax over j of theta(x_i)^T phi(x_j)      Eq. 1-3
//   z   = BN(W_z y) + x                                                                Eq. 6
//
//   theta, phi, g   conv 1x1 C -> C/2 (bias); phi and g followed by max-pool 2 (sub-sampling,
//                   Sec. 3.3): HW queries against HW/4 keys
//   f               (N, HW, HW/4), softmax over the keys
//   y = g f^T       (N, C/2, HW)
//   W_z             conv 1x1 C/2 -> C (bias), then BN whose gamma starts at zero (Sec. 4.1),
//                   so the block starts as the identity
//
// Every position attends to every (sub-sampled) position: the long-range dependency a stack of
// 3x3 convolutions reaches only through depth. nl_resnet20 has one after the second block of
// stages 2 and 3 (MODELS.md).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace glimpse {

class NonLocal : public Module {
 public:
  NonLocal(int64_t channels, Rng& rng);

  std::string type_name() const override { return "NonLocal"; }
  std::string describe() const override { return std::to_string(channels); }
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> (N, C, H, W); observes "f" (N, HW, HW/4)

  int64_t channels;
  std::shared_ptr<Conv2d> theta, phi, g;  // 1x1, C -> C/2
  std::shared_ptr<Conv2d> Wz;             // 1x1, C/2 -> C
  std::shared_ptr<BatchNorm2d> bn;        // gamma zero at the start
};

}  // namespace glimpse
