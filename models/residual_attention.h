// attention56: the Residual Attention Network (Wang et al., "Residual Attention Network for
// Image Classification", CVPR 2017, Fig. 2, Table 2 "Attention-56"), in the CIFAR form of
// MODELS.md, with base width w (the paper: w = 32; the benchmarks: w = 16). p=1, t=2, r=1.
//
//   input 3x32x32
//   conv 3/1/1 3->w (bare: no BN, no bias)              -> w x 32x32
//   ResUnit(w -> 4w)                                    -> 4w x 32x32
//   AttentionModule(4w, 32x32, 2 mask down-samplings)   -> 4w x 32x32    (mask 32 -> 16 -> 8 -> 16 -> 32)
//   ResUnit(4w -> 8w, stride 2)                         -> 8w x 16x16
//   AttentionModule(8w, 16x16, 1 down-sampling)         -> 8w x 16x16    (mask 16 -> 8 -> 16)
//   ResUnit(8w -> 16w, stride 2)                        -> 16w x 8x8
//   AttentionModule(16w, 8x8, no down-sampling)         -> 16w x 8x8
//   3 x ResUnit(16w)                                    -> 16w x 8x8
//   BN, ReLU, global average pool                       -> 16w
//   linear 16w -> 10                                    -> 10 logits
//
// ResUnit and AttentionModule: layers/residual_attention.h (Caffe's strides, shortcuts and
// mask branch). Parameters: 1,081,818 at w = 16; 70,830 at w = 4 (tests/test_attention.cpp
// works them out).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/residual_attention.h"
#include "layers/sequential.h"

namespace glimpse {

class Attention56 : public Module {
 public:
  Attention56(int64_t width, Rng& rng, int64_t classes = 10);

  std::string type_name() const override { return "Attention56"; }
  std::string describe() const override { return "width=" + std::to_string(width); }
  Tensor forward(const Tensor& x) override;  // (N, 3, 32, 32) -> (N, classes) logits

  int64_t width;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<ResUnit> unit1;
  std::shared_ptr<AttentionModule> attention1;
  std::shared_ptr<ResUnit> unit2;
  std::shared_ptr<AttentionModule> attention2;
  std::shared_ptr<ResUnit> unit3;
  std::shared_ptr<AttentionModule> attention3;
  std::shared_ptr<Sequential> units4;
  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<Linear> fc;
};

}  // namespace glimpse
