// The building blocks of the Residual Attention Network (Wang et al., "Residual Attention
// Network for Image Classification", CVPR 2017, Fig. 2-3, Eq. 2-3), as the official Caffe
// Attention-56 defines them (MODELS.md, "Details that decide equality").
//
// ResUnit: the pre-activation bottleneck residual unit (He et al. 2016b, Fig. 1b), width out/4:
//
//   a = ReLU(BN(x))                                                    (N, in, H, W)
//   F = conv1x1(ReLU(BN(conv3x3/s(ReLU(BN(conv1x1(a)))))))             (N, out, H/s, W/s)
//   y = F + x                      when the shape is kept
//   y = F + conv1x1/s(a)           when it changes: a bare 1x1 convolution with the stride, on
//                                  the PRE-ACTIVATED input a (Caffe), no BN after it
//
// The stride sits on the 3x3 convolution (Caffe), not on the first 1x1. No convolution has a
// bias: each one's output reaches a BN, directly or through the addition and the next unit's
// pre-activation (Caffe's bias_term: false).
//
// AttentionModule (Fig. 2, with p = 1, t = 2, r = 1):
//
//   x -> p units -> h
//   trunk T(h)   = t units                                                     (N, C, H, W)
//   soft mask M(h) (Fig. 3; bottom-up, top-down):
//       d = 1..D:  max-pool 3/2/1, then r units       (at scale d; a skip unit on it when d < D)
//       deepest:   r more units (2r in all at the deepest scale)
//       d = D-1..1: bilinear up-sampling to scale d (corners aligned) + skip_d, then r units
//       up-sampling to H x W, BN-ReLU-conv1x1-BN-ReLU-conv1x1, sigmoid          (N, C, H, W)
//       (D = 0: the mask is 2r units and the 1x1 head at full size)
//   H(h) = (1 + M(h)) * T(h)            attention residual learning, Eq. 3
//   y = p units of H(h)
#pragma once

#include <memory>
#include <vector>

#include "engine/random.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/module.h"
#include "layers/sequential.h"

namespace glimpse {

class ResUnit : public Module {
 public:
  ResUnit(int64_t in, int64_t out, int64_t stride, Rng& rng);  // out divisible by 4

  std::string type_name() const override { return "ResUnit"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;  // (N, in, H, W) -> (N, out, H/stride, W/stride)

  int64_t in, out, stride;
  std::shared_ptr<BatchNorm2d> bn1;  // in
  std::shared_ptr<Conv2d> conv1;     // 1x1, in -> out/4
  std::shared_ptr<BatchNorm2d> bn2;  // out/4
  std::shared_ptr<Conv2d> conv2;     // 3x3/stride, out/4 -> out/4
  std::shared_ptr<BatchNorm2d> bn3;  // out/4
  std::shared_ptr<Conv2d> conv3;     // 1x1, out/4 -> out
  std::shared_ptr<Conv2d> shortcut;  // 1x1/stride, in -> out, on ReLU(bn1(x)); null for the identity
};

// `units` ResUnits of `channels` channels in a row.
std::shared_ptr<Sequential> res_units(int64_t channels, int units, Rng& rng);

class AttentionModule : public Module {
 public:
  // size: the input's height and width; down_samplings: D, the mask's max-pool steps.
  AttentionModule(int64_t channels, int64_t size, int down_samplings, Rng& rng);

  std::string type_name() const override { return "AttentionModule"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;  // (N, C, size, size) -> (N, C, size, size)

  int64_t channels, size;
  int down_samplings;
  std::shared_ptr<Sequential> first;              // p units
  std::shared_ptr<Sequential> trunk;              // t units
  std::vector<std::shared_ptr<Sequential>> down;  // D: r units after each max-pool (2r at the deepest)
  std::vector<std::shared_ptr<ResUnit>> skip;     // D-1: one skip unit per scale but the deepest
  std::vector<std::shared_ptr<Sequential>> up;    // D-1: r units after each up-sampling but the last
  std::shared_ptr<Sequential> mask_units;         // D = 0 only: the 2r units of the mask
  std::shared_ptr<Sequential> mask_head;          // BN-ReLU-conv1x1-BN-ReLU-conv1x1
  std::shared_ptr<Sequential> last;               // p units
};

}  // namespace glimpse
