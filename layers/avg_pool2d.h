// AvgPool2d: the mean of each kernel x kernel window.
//
//   y[n,c,oh,ow] = 1/kernel^2 * sum_{i,j < kernel} x[n, c, oh*stride + i - padding, ow*stride + j - padding]
//   x (N, C, H, W) -> y (N, C, OH, OW),  OH = (H + 2*padding - kernel) / stride + 1
//
// Zero padding counts in the mean (PyTorch's count_include_pad = true); stride 0 means = kernel.
#pragma once

#include "engine/ops.h"
#include "layers/module.h"

namespace glimpse {

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Pool2dOptions options = {});  // AvgPool2d({.kernel = 2})

  std::string type_name() const override { return "AvgPool2d"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, options); }

  Pool2dOptions options;
};

}  // namespace glimpse
