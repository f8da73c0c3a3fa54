// Conv2d: a 2-D convolution layer (cross-correlation, as in every framework).
//
//   y[n,k,oh,ow] = b[k] + sum_{c,i,j} w[k,c,i,j] * x[n, c, oh*stride + i - padding, ow*stride + j - padding]
//   x (N, C, H, W) -> y (N, K, OH, OW),  OH = (H + 2*padding - KH) / stride + 1 (likewise OW)
//   w (K, C, KH, KW) with KH = KW = kernel;  b (K), absent when the layer feeds a BN
//
// Init (MODELS.md): w Kaiming normal, fan_out, ReLU gain (std = sqrt(2 / (K*KH*KW))); b = 0.
#pragma once

#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

class Conv2d : public Module {
 public:
  struct Options {
    int64_t in = 0;      // C
    int64_t out = 0;     // K
    int64_t kernel = 3;  // KH = KW
    int64_t stride = 1;
    int64_t padding = 0;
    bool bias = true;
  };
  Conv2d(Options options, Rng& rng);  // Conv2d({.in = 3, .out = 16, .kernel = 3, .padding = 1, .bias = false}, rng)

  std::string type_name() const override { return "Conv2d"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

  Options options;
  Tensor weight;  // (K, C, KH, KW), registered as "weight"
  Tensor bias;    // (K), registered as "bias"; undefined when options.bias is false
};

}  // namespace glimpse
