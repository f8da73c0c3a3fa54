// SGD: stochastic gradient descent with momentum, Nesterov momentum and weight decay,
// the update of PyTorch's torch.optim.SGD with dampening 0 (the rule is written above step()).
//
//     SGD optimizer(model.parameters(), {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 5e-4f});
#pragma once

#include "optim/optimizer.h"

namespace glimpse {

struct SgdOptions {
  real lr = 0.01f;        // the starting rate; the live one is Optimizer::lr
  real momentum = 0;      // mu; 0 is plain SGD
  bool nesterov = false;  // needs momentum > 0
  real weight_decay = 0;  // lambda, an L2 penalty (lambda / 2) |p|^2 added to the loss
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, SgdOptions options = {});
  void step() override;
  NamedTensors state() override;  // "step", and "momentum.<i>" when momentum > 0

  SgdOptions options;

 private:
  std::vector<Tensor> momentum_;  // b, one per parameter (only when momentum > 0)
};

}  // namespace glimpse
