// GlobalAvgPool: the mean of each feature map, the head of ResNet and the squeeze of SENet.
//
//   y[n,c] = 1/(H*W) * sum_{h,w} x[n,c,h,w]        x (N, C, H, W) -> y (N, C)
#pragma once

#include "layers/module.h"

namespace glimpse {

class GlobalAvgPool : public Module {
 public:
  std::string type_name() const override { return "GlobalAvgPool"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace glimpse
