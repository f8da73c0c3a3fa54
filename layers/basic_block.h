// BasicBlock: the residual unit of ResNet-18/34 and of the CIFAR ResNets (He et al. 2016, Fig. 2).
//
//   F(x) = BN(conv3x3(ReLU(BN(conv3x3/stride(x)))))        the residual branch
//   y    = ReLU(A(F(x)) + shortcut(x))                     A: optional attention, else identity
//
//   x (N, in, H, W) -> y (N, out, H/stride, W/stride)
//
// shortcut(x) = x when the shape is kept; when it changes (stride > 1 or in != out), a 1x1
// convolution with the stride and a BN: the projection shortcut, "option B" (Sec. 3.3).
// Three plug points, each built by a factory so that a model names what goes where:
// - A, on the residual branch before the addition: SE, CBAM, ECA, GC (Hu et al. 2018, Fig. 3;
//   Woo et al. 2018, Fig. 3; Wang et al. 2020, Fig. 2; Cao et al. 2019, Fig. 4).
// - the first convolution, a 3x3 Conv2d unless given (aa_resnet20's attention-augmented one).
// - a gate on the raw output of every convolution, before its BN, passed to forward (dasNet's
//   channel gates); none in a plain forward.
// The convolutions have no bias (each feeds a BN) and the Kaiming init of Conv2d.
#pragma once

#include <functional>
#include <memory>

#include "engine/random.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/module.h"
#include "layers/sequential.h"

namespace glimpse {

// Builds the attention module of a residual branch with `channels` channels:
// (N, channels, H, W) -> (N, channels, H, W).
using AttentionFactory = std::function<std::shared_ptr<Module>(int64_t channels, Rng& rng)>;
// Builds a block's first convolution: (N, in, H, W) -> (N, out, H/stride, W/stride).
using ConvolutionFactory = std::function<std::shared_ptr<Module>(int64_t in, int64_t out, int64_t stride, Rng& rng)>;
// Applied to the raw output of each convolution, before its BN: (N, K, H, W) -> (N, K, H, W).
using ConvolutionGate = std::function<Tensor(const Tensor& conv_output)>;

class BasicBlock : public Module {
 public:
  struct Options {
    int64_t in = 0;
    int64_t out = 0;
    int64_t stride = 1;
    AttentionFactory attention = nullptr;  // null: the plain ResNet block
    ConvolutionFactory conv1 = nullptr;    // null: conv 3x3/stride/1
  };
  BasicBlock(Options options, Rng& rng);  // BasicBlock({.in = 16, .out = 32, .stride = 2}, rng)

  std::string type_name() const override { return "BasicBlock"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }
  Tensor forward(const Tensor& x, const ConvolutionGate& gate);  // gate may be null

  int64_t in, out, stride;
  std::shared_ptr<Module> conv1;  // 3x3/stride, in -> out (or the factory's)
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Conv2d> conv2;  // 3x3/1, out -> out
  std::shared_ptr<BatchNorm2d> bn2;
  std::shared_ptr<Module> attention;      // null when the block has none
  std::shared_ptr<Sequential> shortcut;   // "shortcut": [conv1x1/stride, BN]; null for the identity
  std::shared_ptr<Conv2d> shortcut_conv;  // shortcut's two modules, typed
  std::shared_ptr<BatchNorm2d> shortcut_bn;
};

}  // namespace glimpse
