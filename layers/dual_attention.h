// DualAttention: DANet's position and channel attention modules (Fu et al., "Dual Attention
// Network for Scene Segmentation", CVPR 2019, Fig. 2-3, Eq. 1-4).
//
// Position attention module (PAM), Fig. 3(A): every position attends to every position.
//   B = query(x), C = key(x)      conv 1x1 C -> C/8 (bias)             (N, C/8, HW)
//   D = value(x)                  conv 1x1 C -> C (bias)               (N, C, HW)
//   S = softmax over j of B_i . C_j                                    (N, HW, HW)     Eq. 1
//   PAM(x)_j = gamma * sum_i S_ji D_i + x_j                            (N, C, H, W)    Eq. 2
//
// Channel attention module (CAM), Fig. 3(B): every channel attends to every channel, with no
// convolution at all: the affinities are the channels' own inner products over the positions.
//   E = x x^T                     x flattened to (N, C, HW)            (N, C, C)
//   X = softmax over the last axis of (max_j E_ij - E_ij)             (N, C, C)        Eq. 3
//   CAM(x) = beta * X x + x                                            (N, C, H, W)    Eq. 4
// (Subtracting E from its row maximum follows the authors' code: it turns the softmax towards
// the channels least alike, which the paper's Eq. 3 does not show.)
//
// gamma and beta are learnt scalars that start at 0, so each module starts as the identity.
// da_resnet20 puts DualAttention after stage 3: out = (PAM(x) + CAM(x)) / 2 (MODELS.md; the
// paper sums the two after a convolution each, for segmentation).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace glimpse {

class PositionAttention : public Module {
 public:
  PositionAttention(int64_t channels, Rng& rng, int64_t reduction = 8);

  std::string type_name() const override { return "PositionAttention"; }
  std::string describe() const override { return std::to_string(channels); }
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> (N, C, H, W); observes "S" (N, HW, HW)

  int64_t channels;
  std::shared_ptr<Conv2d> query, key;  // 1x1, C -> C/8
  std::shared_ptr<Conv2d> value;       // 1x1, C -> C
  Tensor gamma;                        // (1), zero at the start
};

class ChannelAttentionModule : public Module {
 public:
  ChannelAttentionModule();

  std::string type_name() const override { return "ChannelAttentionModule"; }
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) -> (N, C, H, W); observes "X" (N, C, C)

  Tensor beta;  // (1), zero at the start
};

class DualAttention : public Module {
 public:
  DualAttention(int64_t channels, Rng& rng);

  std::string type_name() const override { return "DualAttention"; }
  std::string describe() const override { return std::to_string(position->channels); }
  Tensor forward(const Tensor& x) override;  // (PAM(x) + CAM(x)) / 2

  std::shared_ptr<PositionAttention> position;
  std::shared_ptr<ChannelAttentionModule> channel;
};

}  // namespace glimpse
