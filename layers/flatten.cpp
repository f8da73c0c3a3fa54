#include "layers/flatten.h"

#include "engine/ops.h"

namespace glimpse {

std::string Flatten::describe() const { return start_axis == 1 ? "" : "start_axis=" + std::to_string(start_axis); }

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_axis); }  // (N, C, H, W) -> (N, C*H*W)

}  // namespace glimpse
