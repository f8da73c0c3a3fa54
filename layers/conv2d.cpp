#include "layers/conv2d.h"

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

Conv2d::Conv2d(Options options, Rng& rng) : options(options) {
  if (options.in <= 0 || options.out <= 0 || options.kernel <= 0 || options.stride <= 0 || options.padding < 0)
    fail("Conv2d: in, out, kernel and stride must be positive and padding not negative, got " + describe());
  weight = add_parameter("weight", Tensor::empty({options.out, options.in, options.kernel, options.kernel}));
  kaiming_normal_fan_out_relu(weight, rng);
  if (options.bias) bias = add_parameter("bias", Tensor::zeros({options.out}));
}

std::string Conv2d::describe() const {
  std::string s =
      std::to_string(options.in) + ", " + std::to_string(options.out) + ", kernel=" + std::to_string(options.kernel);
  if (options.stride != 1) s += ", stride=" + std::to_string(options.stride);
  if (options.padding != 0) s += ", padding=" + std::to_string(options.padding);
  if (!options.bias) s += ", bias=false";
  return s;
}

Tensor Conv2d::forward(const Tensor& x) {  // x (N, C, H, W) -> (N, K, OH, OW)
  if (x.dim() != 4 || x.size(1) != options.in)
    fail("Conv2d(" + describe() + "): expected input (N, " + std::to_string(options.in) + ", H, W), got " +
         shape_str(x.shape()));
  return conv2d(x, weight, bias, {.stride = options.stride, .padding = options.padding});
}

}  // namespace glimpse
