// Adam and AdamW: one class, Adam, with a flag for where the weight decay goes; AdamW is Adam
// with the flag set (and PyTorch's default decay of 0.01). The rule is written above step().
//
//   Adam  — Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1;
//           weight decay as an L2 penalty added to the gradient (torch.optim.Adam).
//   AdamW — Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
//           Algorithm 2; the decay shrinks the weights directly, in PyTorch's form
//           (torch.optim.AdamW): by lr * lambda, where the paper scales lambda by the schedule's
//           multiplier alone (so PyTorch's lambda is the paper's divided by the base rate).
//
//     AdamW optimizer(model.parameters(), {.lr = 1e-3f, .weight_decay = 0.05f});
#pragma once

#include "optim/optimizer.h"

namespace glimpse {

struct AdamOptions {
  real lr = 1e-3f;        // the starting rate; the live one is Optimizer::lr
  real beta1 = 0.9f;      // decay of the first moment (mean of g)
  real beta2 = 0.999f;    // decay of the second moment (mean of g^2)
  real eps = 1e-8f;       // added to sqrt(v_hat), keeps the step finite where v = 0
  real weight_decay = 0;  // Adam: L2 penalty in the gradient
};

struct AdamWOptions {  // the same fields; only the default decay differs (as in PyTorch)
  real lr = 1e-3f;
  real beta1 = 0.9f;
  real beta2 = 0.999f;
  real eps = 1e-8f;
  real weight_decay = 1e-2f;  // AdamW: decoupled, p <- p (1 - lr lambda)
};

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
  void step() override;
  NamedTensors state() override;  // "step", "exp_avg.<i>", "exp_avg_sq.<i>"

  AdamOptions options;

 protected:
  Adam(std::vector<Tensor> params, AdamOptions options, bool decoupled_weight_decay);

 private:
  bool decoupled_weight_decay_;     // false: Adam, true: AdamW
  std::vector<Tensor> exp_avg_;     // m, first moment, one per parameter
  std::vector<Tensor> exp_avg_sq_;  // v, second moment
};

class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, AdamWOptions options = {});
};

}  // namespace glimpse
