#include "layers/global_avg_pool.h"

#include "engine/ops.h"

namespace glimpse {

Tensor GlobalAvgPool::forward(const Tensor& x) {  // (N, C, H, W) -> (N, C)
  if (x.dim() != 4) fail("GlobalAvgPool: expected input (N, C, H, W), got " + shape_str(x.shape()));
  return global_avg_pool2d(x);
}

}  // namespace glimpse
