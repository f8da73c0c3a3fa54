// resnet20: the CIFAR-10 ResNet of He et al., "Deep Residual Learning for Image Recognition",
// CVPR 2016, Sec. 4.2, with n = 3 (6n + 2 = 20 weighted layers), as specified in docs/MODELS.md.
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
// convolutions and 2 BNs (2,752 parameters) for 272,474 parameters in all (the paper: 0.27M).
//
// The attention models of the zoo are this network with a mechanism plugged in at one of the
// places ResNet20::Options names (docs/MODELS.md says which goes where), and dasNet runs it with
// a gate on every convolution's output (forward's second argument).
#pragma once

#include <memory>
#include <vector>

#include "engine/random.h"
#include "layers/basic_block.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/global_avg_pool.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace glimpse {

// One stage: three BasicBlocks (children "0", "1", "2", PyTorch's Sequential names), the first with
// the stage's stride, and optionally a module after the second block (child "non_local").
class ResNetStage : public Module {
 public:
  ResNetStage(BasicBlock::Options first_block, int64_t blocks, Rng& rng, const AttentionFactory& after_second_block);

  std::string type_name() const override { return "ResNetStage"; }
  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }
  Tensor forward(const Tensor& x, const ConvolutionGate& gate);

  std::vector<std::shared_ptr<BasicBlock>> blocks;
  std::shared_ptr<Module> non_local;  // after blocks[1]; null when absent
};

class ResNet20 : public Module {
 public:
  struct Options {
    int64_t classes = 10;
    AttentionFactory branch_attention = nullptr;  // on every residual branch, before the addition: SE, CBAM, ECA, GC
    AttentionFactory non_local = nullptr;         // after the second block of stages 2 and 3: non-local
    AttentionFactory head_attention = nullptr;    // after stage 3, before the pool: DANet, CCNet
    ConvolutionFactory stage3_conv1 = nullptr;    // the first convolution of stage 3's blocks: attention-augmented
  };
  explicit ResNet20(Rng& rng);  // the plain network
  ResNet20(Rng& rng, Options options);

  std::string type_name() const override { return "ResNet20"; }
  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }  // (N, 3, 32, 32) -> (N, classes) logits
  Tensor forward(const Tensor& x, const ConvolutionGate& gate);             // every convolution's output gated

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<ResNetStage> layer1, layer2, layer3;
  std::shared_ptr<Module> attention;  // after layer3 (options.head_attention); null when absent
  std::shared_ptr<GlobalAvgPool> pool;
  std::shared_ptr<Linear> fc;
};

}  // namespace glimpse
