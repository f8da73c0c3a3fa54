#include "layers/batchnorm2d.h"

#include <sstream>

#include "engine/ops.h"

namespace glimpse {

BatchNorm2d::BatchNorm2d(Options options) : options(options) {
  if (options.channels <= 0) fail("BatchNorm2d: channels must be positive, got " + std::to_string(options.channels));
  if (!(options.eps > 0) || !(options.momentum >= 0 && options.momentum <= 1))
    fail("BatchNorm2d: need eps > 0 and momentum in [0, 1], got " + describe());
  int64_t C = options.channels;
  gamma = add_parameter("weight", Tensor::ones({C}));
  beta = add_parameter("bias", Tensor::zeros({C}));
  running_mean = add_buffer("running_mean", Tensor::zeros({C}));
  running_var = add_buffer("running_var", Tensor::ones({C}));
}

std::string BatchNorm2d::describe() const {
  std::string s = std::to_string(options.channels);
  std::ostringstream extra;
  if (options.eps != 1e-5f) extra << ", eps=" << options.eps;
  if (options.momentum != 0.1f) extra << ", momentum=" << options.momentum;
  return s + extra.str();
}

void BatchNorm2d::check_input(const Tensor& x) const {
  if ((x.dim() != 4 && x.dim() != 2) || x.size(1) != options.channels)
    fail("BatchNorm2d(" + describe() + "): expected input (N, " + std::to_string(options.channels) + ", H, W) or (N, " +
         std::to_string(options.channels) + "), got " + shape_str(x.shape()));
}

Tensor BatchNorm2d::forward(const Tensor& x) {  // x (N, C, H, W) or (N, C) -> same shape
  check_input(x);
  return batch_norm(x, gamma, beta, running_mean, running_var, is_training(), options.momentum, options.eps,
                    across_replicas);
}

Tensor BatchNorm2d::forward_then_relu(const Tensor& x) {  // same shapes
  check_input(x);
  return batch_norm_relu(x, gamma, beta, running_mean, running_var, is_training(), options.momentum, options.eps,
                         across_replicas);
}

}  // namespace glimpse
