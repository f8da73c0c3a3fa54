#include "layers/sigmoid.h"

#include "engine/ops.h"

namespace glimpse {

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }

}  // namespace glimpse
