// resnet20: the CIFAR-10 ResNet of He et al., "Deep Residual Learning for Image Recognition",
// CVPR 2016, Sec. 4.2, with n = 3 (6n + 2 = 20 weighted layers), as specified in MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                     -> 16x32x32
//   layer1: 3 BasicBlocks, 16 channels             -> 16x32x32
//   layer2: 3 BasicBlocks, 32 channels, first /2   -> 32x16x16
//   layer3: 3 BasicBlocks, 64 channels, first /2   -> 64x8x8
//   global average pool                            -> 64
//   linear 64->10                                  -> 10 class scores (logits)
//
// The paper's CIFAR model uses identity shortcuts with zero padding (option A); this one uses
// the projection shortcut (option B: conv 1x1/2 + BN) where the shape changes, which adds 2
// convolutions and 2 BNs (~2.9k parameters) for 272,474 parameters in all (the paper: 0.27M).
// An optional attention factory puts a module on the residual branch of every block, which is
// how se_resnet20 and cbam_resnet20 are built (layers/basic_block.h).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/basic_block.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/global_avg_pool.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/sequential.h"

namespace glimpse {

class ResNet20 : public Module {
 public:
  explicit ResNet20(Rng& rng, AttentionFactory attention = nullptr, int64_t classes = 10);

  std::string type_name() const override { return "ResNet20"; }
  Tensor forward(const Tensor& x) override;  // (N, 3, 32, 32) -> (N, classes) logits

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1, layer2, layer3;  // the three stages of BasicBlocks
  std::shared_ptr<GlobalAvgPool> pool;
  std::shared_ptr<Linear> fc;
};

}  // namespace glimpse
