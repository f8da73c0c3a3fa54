// CBAM: Convolutional Block Attention Module (Woo et al., "CBAM: Convolutional Block Attention
// Module", ECCV 2018, Fig. 1-2, Eq. 1-3).
//
//   F'  = M_c(F) * F          channel attention, broadcast over H, W              Eq. 1
//   F'' = M_s(F') * F'        spatial attention, broadcast over channels
//
//   M_c(F) = sigmoid(MLP(AvgPool(F)) + MLP(MaxPool(F)))        (N, C)               Eq. 2
//            ONE MLP shared by both descriptors: C -> max(1, C/r) -> C, ReLU between, r = 16,
//            biases on (MODELS.md)
//   M_s(F) = sigmoid(BN(conv7x7([mean_c(F); max_c(F)])))       (N, 1, H, W)         Eq. 3
//            the pooled maps concatenated in that order (2, H, W), conv 7/1/3 2->1 without
//            bias, then BN (MODELS.md; the paper's Fig. 2 omits the BN, its code has it)
//
// In cbam_resnet20 the module sits on the residual branch of every BasicBlock, before the
// addition (Woo et al. Fig. 3).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace glimpse {

class ChannelAttention : public Module {
 public:
  ChannelAttention(int64_t channels, Rng& rng, int64_t reduction = 16);

  std::string type_name() const override { return "ChannelAttention"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> M_c(x) * x
  Tensor mlp(const Tensor& descriptor);      // (N, C) -> (N, C), the shared MLP

  int64_t channels, reduction;
  std::shared_ptr<Linear> fc1;  // C -> max(1, C/r)
  std::shared_ptr<Linear> fc2;  // max(1, C/r) -> C
};

class SpatialAttention : public Module {
 public:
  explicit SpatialAttention(Rng& rng, int64_t kernel = 7);

  std::string type_name() const override { return "SpatialAttention"; }
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> M_s(x) * x; observes "map" M_s (N, 1, H, W)

  std::shared_ptr<Conv2d> conv;  // 7/1/3, 2 -> 1, no bias
  std::shared_ptr<BatchNorm2d> bn;
};

class CBAM : public Module {
 public:
  CBAM(int64_t channels, Rng& rng, int64_t reduction = 16);

  std::string type_name() const override { return "CBAM"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> (N, C, H, W): channel, then spatial

  std::shared_ptr<ChannelAttention> channel;
  std::shared_ptr<SpatialAttention> spatial;
};

}  // namespace glimpse
