// Flatten: keeps the axes before start_axis and joins the rest into one.
//
//   x (N, C, H, W) -> y (N, C*H*W)   with start_axis = 1 (the default)
#pragma once

#include "layers/module.h"

namespace glimpse {

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_axis = 1) : start_axis(start_axis) {}

  std::string type_name() const override { return "Flatten"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

  int64_t start_axis;
};

}  // namespace glimpse
