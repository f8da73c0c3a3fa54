#include "layers/layer_norm.h"

#include "engine/ops.h"

namespace glimpse {

LayerNorm::LayerNorm(Shape normalized_shape_, real eps_) : normalized_shape(std::move(normalized_shape_)), eps(eps_) {
  if (normalized_shape.empty()) fail("LayerNorm: the normalised shape is empty");
  for (int64_t d : normalized_shape)
    if (d <= 0) fail("LayerNorm: the normalised shape must be positive, got " + shape_str(normalized_shape));
  gamma = add_parameter("weight", Tensor::ones(normalized_shape));
  beta = add_parameter("bias", Tensor::zeros(normalized_shape));
}

std::string LayerNorm::describe() const { return shape_str(normalized_shape); }

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, gamma, beta, eps); }

}  // namespace glimpse
