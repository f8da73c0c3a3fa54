// MaxPool2d: the maximum of each kernel x kernel window.
//
//   y[n,c,oh,ow] = max_{i,j < kernel} x[n, c, oh*stride + i - padding, ow*stride + j - padding]
//   x (N, C, H, W) -> y (N, C, OH, OW),  OH = (H + 2*padding - kernel) / stride + 1
//
// Options are the op's (ops.h Pool2dOptions): stride 0 means stride = kernel.
#pragma once

#include "engine/ops.h"
#include "layers/module.h"

namespace glimpse {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Pool2dOptions options = {});  // MaxPool2d({.kernel = 3, .stride = 2, .padding = 1})

  std::string type_name() const override { return "MaxPool2d"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override { return max_pool2d(x, options); }

  Pool2dOptions options;
};

// "kernel=3, stride=2, padding=1", leaving out defaults (shared with AvgPool2d)
std::string describe_pool(const Pool2dOptions& options);

}  // namespace glimpse
