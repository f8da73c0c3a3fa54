#include "layers/linear.h"

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

Linear::Linear(Options options, Rng& rng) : options(options) {
  if (options.in <= 0 || options.out <= 0)
    fail("Linear: in and out must be positive, got in=" + std::to_string(options.in) +
         ", out=" + std::to_string(options.out));
  weight = add_parameter("weight", Tensor::empty({options.out, options.in}));
  if (options.bias) bias = add_parameter("bias", Tensor::empty({options.out}));
  linear_default_init(weight, bias, rng);
}

std::string Linear::describe() const {
  return std::to_string(options.in) + ", " + std::to_string(options.out) + (options.bias ? "" : ", bias=false");
}

Tensor Linear::forward(const Tensor& x) {  // x (N, in) -> (N, out)
  if (x.dim() != 2 || x.size(1) != options.in)
    fail("Linear(" + describe() + "): expected input (N, " + std::to_string(options.in) + "), got " +
         shape_str(x.shape()));
  return linear(x, weight, bias);
}

}  // namespace glimpse
