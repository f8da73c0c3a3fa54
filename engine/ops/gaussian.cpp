// gaussian_log_prob: the log-density of a normal distribution with a fixed standard deviation,
// element-wise; RAM's location policy pi(l | h) = N(l; mean(h), sigma^2) (Mnih et al. 2014,
// Sec. 3.2), whose REINFORCE update needs d log pi / d mean.
//
//   sample, mean: the same shape (no broadcasting);  sigma > 0 a number  ->  y: that shape
//
// forward:   y = -(s - mu)^2 / (2 sigma^2) - log(sigma) - log(2 pi) / 2
// backward:  dmean   += dy * (s - mu) / sigma^2
//            dsample += dy * -(s - mu) / sigma^2        (the same term, with the opposite sign)
// Both read only the two inputs, which the node saves (detached).
#include <cmath>
#include <numbers>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

constexpr int64_t gaussian_grain = 1 << 15;  // values per parallel task

static void gaussian_log_prob_forward(real* y, const real* sample, const real* mean, real sigma, int64_t n) {
  const real log_normaliser = std::log(sigma) + static_cast<real>(0.5 * std::log(2 * std::numbers::pi));
  const real inv_two_var = 1 / (2 * sigma * sigma);
  parallel_for(n, gaussian_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      real z = sample[i] - mean[i];
      y[i] = -z * z * inv_two_var - log_normaliser;
    }
  });
}

// dsample or dmean may be null when that input needs no gradient.
static void gaussian_log_prob_backward(real* dsample, real* dmean, const real* dy, const real* sample, const real* mean,
                                       real sigma, int64_t n) {
  const real inv_var = 1 / (sigma * sigma);
  parallel_for(n, gaussian_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      real d = dy[i] * (sample[i] - mean[i]) * inv_var;  // in the forward: y = -(s - mu)^2 / (2 sigma^2) - ...
      if (dmean) dmean[i] += d;
      if (dsample) dsample[i] -= d;
    }
  });
}

struct GaussianLogProbBackward : Node {
  Tensor sample, mean;  // saved inputs, detached
  real sigma = 1;
  std::string name() const override { return "gaussian_log_prob"; }
  void backward(const Tensor& dy) override {
    real* dsample = needs_grad(0) ? input_grad(0).data() : nullptr;
    real* dmean = needs_grad(1) ? input_grad(1).data() : nullptr;
    gaussian_log_prob_backward(dsample, dmean, dy.data(), sample.data(), mean.data(), sigma, sample.numel());
  }
};

Tensor gaussian_log_prob(const Tensor& sample, const Tensor& mean, real sigma) {
  if (sample.shape() != mean.shape())
    fail("gaussian_log_prob: sample and mean must have the same shape, got " + shape_str(sample.shape()) + " and " +
         shape_str(mean.shape()));
  if (!(sigma > 0) || !std::isfinite(sigma))
    fail("gaussian_log_prob: sigma must be positive and finite, got " + std::to_string(sigma));
  Tensor y = Tensor::empty(sample.shape());
  gaussian_log_prob_forward(y.data(), sample.data(), mean.data(), sigma, y.numel());
  auto node = std::make_shared<GaussianLogProbBackward>();
  node->sigma = sigma;
  node->sample = sample.detach();
  node->mean = mean.detach();
  return record(y, node, {sample, mean});
}

}  // namespace glimpse
