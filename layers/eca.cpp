#include "layers/eca.h"

#include <cmath>

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

int64_t eca_kernel_size(int64_t channels) {
  const auto t = static_cast<int64_t>((std::log2(static_cast<double>(channels)) + 1) / 2);
  return t % 2 == 1 ? t : t + 1;
}

ECA::ECA(int64_t channels_, Rng& rng) : channels(channels_), kernel(0) {
  if (channels <= 0) fail("ECA: channels must be positive, got " + std::to_string(channels));
  kernel = eca_kernel_size(channels);
  weight = add_parameter("weight", Tensor::empty({1, 1, kernel}));
  const real bound = 1 / std::sqrt(static_cast<real>(kernel));  // PyTorch's Conv1d default, fan_in = k
  fill_uniform(weight, -bound, bound, rng);
}

std::string ECA::describe() const { return std::to_string(channels) + ", kernel=" + std::to_string(kernel); }

Tensor ECA::forward(const Tensor& x) {  // x: (N, C, H, W)
  if (x.dim() != 4 || x.size(1) != channels)
    fail("ECA(" + describe() + "): expected input (N, " + std::to_string(channels) + ", H, W), got " +
         shape_str(x.shape()));
  const int64_t N = x.size(0);
  Tensor y = reshape(global_avg_pool2d(x), {N, 1, channels});   // (N, 1, C)  the channels as a sequence
  Tensor w = sigmoid(conv1d(y, weight, Tensor(), kernel / 2));  // (N, 1, C)  local cross-channel interaction
  observe("weights", reshape(w, {N, channels}));
  return x * reshape(w, {N, channels, 1, 1});  // (N, C, H, W)
}

}  // namespace glimpse
