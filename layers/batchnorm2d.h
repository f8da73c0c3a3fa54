// BatchNorm2d: batch normalisation over the channels (Ioffe & Szegedy 2015, Alg. 1).
//
//   y[n,c,h,w] = gamma[c] * (x[n,c,h,w] - mean[c]) / sqrt(var[c] + eps) + beta[c]
//   x (N, C, H, W) or (N, C) -> y of the same shape
//
// Training: mean and var are the batch's (over N, H, W), and the running statistics move
// towards them: running = (1 - momentum) * running + momentum * batch (the running variance
// unbiased), PyTorch's convention. Evaluation: mean and var are the running statistics.
// gamma and beta are parameters (named "weight" and "bias", PyTorch's names), init 1 and 0;
// running_mean and running_var are buffers (saved in checkpoints, not trained), init 0 and 1.
// In a data-parallel run, across_replicas (set by train/data_parallel.h) makes the statistics the
// whole batch's, over every process (synchronised BN, engine/ops/batch_norm.cpp).
#pragma once

#include "engine/ops.h"
#include "layers/module.h"

namespace glimpse {

class BatchNorm2d : public Module {
 public:
  struct Options {
    int64_t channels = 0;  // C
    real eps = 1e-5f;
    real momentum = 0.1f;
  };
  explicit BatchNorm2d(Options options);  // BatchNorm2d({.channels = 16, .eps = 1e-3f})
  explicit BatchNorm2d(int64_t channels) : BatchNorm2d(Options{.channels = channels}) {}

  std::string type_name() const override { return "BatchNorm2d"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;
  Tensor forward_then_relu(const Tensor& x);  // relu(forward(x)), the same numbers in one op (batch_norm_relu)

  Options options;
  Tensor gamma;                     // (C), registered as "weight"
  Tensor beta;                      // (C), registered as "bias"
  Tensor running_mean;              // (C), buffer
  Tensor running_var;               // (C), buffer
  ReplicaSum across_replicas = {};  // none: this process's share of the batch alone

 private:
  void check_input(const Tensor& x) const;
};

}  // namespace glimpse
