// ReLU: y = max(x, 0), element-wise, any shape. No parameters; a module so that it can sit in a
// Sequential (inside a model's forward, call relu() from ops.h directly).
#pragma once

#include "layers/module.h"

namespace glimpse {

class ReLU : public Module {
 public:
  std::string type_name() const override { return "ReLU"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace glimpse
