// LayerNorm: layer normalisation over each sample's last axes (Ba, Kiros & Hinton 2016, Eq. 4).
//
//   y = gamma * (x - mean) / sqrt(var + eps) + beta,   mean and var over the last axes of x, per sample
//   x (..., D_1, ..., D_k) -> y of the same shape;  gamma, beta (D_1, ..., D_k)
//
// The statistics are each sample's own: training and evaluation compute the same thing, with no
// running statistics. gamma and beta are registered as "weight" and "bias" (PyTorch's names),
// init 1 and 0. GCNet normalises its (C/4, 1, 1) context vector with one (layers/global_context.h).
#pragma once

#include "layers/module.h"

namespace glimpse {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, real eps = 1e-5f);  // LayerNorm({4, 1, 1})

  std::string type_name() const override { return "LayerNorm"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

  Shape normalized_shape;
  real eps;
  Tensor gamma;  // normalized_shape, registered as "weight"
  Tensor beta;   // normalized_shape, registered as "bias"
};

}  // namespace glimpse
