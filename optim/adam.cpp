#include "optim/adam.h"

#include <cmath>

#include "engine/parallel.h"

namespace glimpse {

Adam::Adam(std::vector<Tensor> params_, AdamOptions options_) : Adam(std::move(params_), options_, false) {}

Adam::Adam(std::vector<Tensor> params_, AdamOptions options_, bool decoupled_weight_decay)
    : Optimizer(std::move(params_), options_.lr), options(options_), decoupled_weight_decay_(decoupled_weight_decay) {
  const char* name = decoupled_weight_decay ? "AdamW" : "Adam";
  auto in_unit_interval = [](real beta) { return beta >= 0 && beta < 1; };
  if (!in_unit_interval(options.beta1) || !in_unit_interval(options.beta2))
    fail(std::string(name) + ": betas must be in [0, 1), got " + std::to_string(options.beta1) + ", " +
         std::to_string(options.beta2));
  if (!(options.eps >= 0)) fail(std::string(name) + ": eps must be >= 0, got " + std::to_string(options.eps));
  if (!(options.weight_decay >= 0))
    fail(std::string(name) + ": weight_decay must be >= 0, got " + std::to_string(options.weight_decay));
  exp_avg_ = zeros_like_each(params);
  exp_avg_sq_ = zeros_like_each(params);
}

AdamW::AdamW(std::vector<Tensor> params_, AdamWOptions o)
    : Adam(std::move(params_),
           {.lr = o.lr, .beta1 = o.beta1, .beta2 = o.beta2, .eps = o.eps, .weight_decay = o.weight_decay}, true) {}

// At step t = 1, 2, ... for each parameter p with gradient g (m and v start at 0):
//
//     g <- g + lambda p                      Adam only: L2 penalty in the gradient
//     p <- p - lr lambda p                   AdamW only: decoupled decay, before the update
//     m <- beta1 m + (1 - beta1) g           first moment
//     v <- beta2 v + (1 - beta2) g^2         second moment
//     m_hat = m / (1 - beta1^t)              bias-correct both moments: m and v start at 0
//     v_hat = v / (1 - beta2^t)              and are too small in the first steps
//     p <- p - lr m_hat / (sqrt(v_hat) + eps)
//
// (lr is p's own rate: the live lr times p's factor, if scale_lr gave it one.)
// With Adam's L2 penalty the decay passes through m / sqrt(v) and so is weaker on weights
// with large gradients; AdamW's decay acts on every weight alike (Loshchilov & Hutter, Sec. 2).
// The scalars are computed in double; the per-weight arithmetic stays in float.
void Adam::step() {
  const int64_t t = advance_step();
  const real beta1 = options.beta1, beta2 = options.beta2, lambda = options.weight_decay;
  const double bias_correction1 = 1 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  const double bias_correction2 = 1 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  const real inv_sqrt_bc2 = static_cast<real>(1 / std::sqrt(bias_correction2));  // sqrt(v_hat) = sqrt(v) * this
  const real l2 = decoupled_weight_decay_ ? 0 : lambda;                          // Adam's L2 coefficient

  for (size_t i = 0; i < params.size(); i++) {
    Tensor grad = params[i].grad();
    if (!grad.defined()) continue;  // no gradient reached this parameter
    const real lr_i = lr_of(i);
    const real step_size = static_cast<real>(lr_i / bias_correction1);   // lr / (1 - beta1^t)
    const real decay = decoupled_weight_decay_ ? 1 - lr_i * lambda : 1;  // AdamW's shrink factor
    real* p = params[i].data();
    const real* dp = grad.data();
    real* m = exp_avg_[i].data();
    real* v = exp_avg_sq_[i].data();
    const real eps = options.eps;
    parallel_for(params[i].numel(), element_grain, [=](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; j++) {
        real g = dp[j] + l2 * p[j];
        p[j] *= decay;
        m[j] = beta1 * m[j] + (1 - beta1) * g;
        v[j] = beta2 * v[j] + (1 - beta2) * g * g;
        p[j] -= step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_bc2 + eps);
      }
    });
  }
}

NamedTensors Adam::state() {
  NamedTensors named = Optimizer::state();
  for (size_t i = 0; i < params.size(); i++) {
    named.emplace_back("exp_avg." + std::to_string(i), exp_avg_[i]);
    named.emplace_back("exp_avg_sq." + std::to_string(i), exp_avg_sq_[i]);
  }
  return named;
}

}  // namespace glimpse
