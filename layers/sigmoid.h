// Sigmoid: y = 1 / (1 + e^-x), element-wise, any shape. No parameters.
#pragma once

#include "layers/module.h"

namespace glimpse {

class Sigmoid : public Module {
 public:
  std::string type_name() const override { return "Sigmoid"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace glimpse
