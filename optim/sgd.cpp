#include "optim/sgd.h"

#include "engine/parallel.h"

namespace glimpse {

SGD::SGD(std::vector<Tensor> params_, SgdOptions options_)
    : Optimizer(std::move(params_), options_.lr), options(options_) {
  if (!(options.momentum >= 0)) fail("SGD: momentum must be >= 0, got " + std::to_string(options.momentum));
  if (!(options.weight_decay >= 0)) fail("SGD: weight_decay must be >= 0, got " + std::to_string(options.weight_decay));
  if (options.nesterov && options.momentum <= 0) fail("SGD: nesterov needs momentum > 0");
  if (options.momentum > 0) momentum_ = zeros_like_each(params);
}

// For each parameter p with gradient g (PyTorch's torch.optim.SGD, dampening 0):
//
//     g <- g + lambda p                  weight decay (L2 penalty)
//     b <- mu b + g                      momentum buffer; b starts at 0, so b_1 = g_1
//     g <- g + mu b   if nesterov        look ahead along the velocity
//          b          otherwise          heavy ball
//     p <- p - lr g                     (lr times p's factor, if scale_lr gave it one)
//
// (Sutskever et al. 2013 write Nesterov's method with the velocity; this is the same method
// rewritten in terms of the gradient at the current parameters, as PyTorch does.)
void SGD::step() {
  advance_step();
  const real mu = options.momentum, lambda = options.weight_decay;
  for (size_t i = 0; i < params.size(); i++) {
    Tensor grad = params[i].grad();
    if (!grad.defined()) continue;  // no gradient reached this parameter
    real* p = params[i].data();
    const real* dp = grad.data();
    real* b = mu > 0 ? momentum_[i].data() : nullptr;
    const real lr_i = lr_of(i);
    const bool nesterov = options.nesterov;
    parallel_for(params[i].numel(), element_grain, [=](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; j++) {
        real g = dp[j] + lambda * p[j];
        if (b) {
          b[j] = mu * b[j] + g;
          g = nesterov ? g + mu * b[j] : b[j];
        }
        p[j] -= lr_i * g;
      }
    });
  }
}

NamedTensors SGD::state() {
  NamedTensors named = Optimizer::state();
  for (size_t i = 0; i < momentum_.size(); i++) named.emplace_back("momentum." + std::to_string(i), momentum_[i]);
  return named;
}

}  // namespace glimpse
