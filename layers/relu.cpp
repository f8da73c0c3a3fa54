#include "layers/relu.h"

#include "engine/ops.h"

namespace glimpse {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

}  // namespace glimpse
