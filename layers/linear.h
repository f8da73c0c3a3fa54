// Linear: a fully connected layer.
//
//   y = x W^T + b        x (N, in) -> y (N, out);  W (out, in), b (out)
//
// Init: PyTorch's default, W and b uniform in +-1/sqrt(in) (init.h).
#pragma once

#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

class Linear : public Module {
 public:
  struct Options {
    int64_t in = 0;
    int64_t out = 0;
    bool bias = true;
  };
  Linear(Options options, Rng& rng);  // Linear({.in = 3136, .out = 512}, rng)

  std::string type_name() const override { return "Linear"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

  Options options;
  Tensor weight;  // (out, in), registered as "weight"
  Tensor bias;    // (out), registered as "bias"; undefined when options.bias is false
};

}  // namespace glimpse
