// mnist_cnn: the plain convolutional baseline for MNIST (MODELS.md).
//
// A LeNet-style network (LeCun et al. 1998, Fig. 2: convolution, subsampling, convolution,
// subsampling, full connection), in its modern form: 5x5 convolutions padded to keep the size,
// ReLU, max pooling, and dropout before the classifier.
//
//   input 1x28x28
//   conv 5/1/2 1->32,  ReLU, maxpool 2      -> 32x14x14
//   conv 5/1/2 32->64, ReLU, maxpool 2      -> 64x7x7
//   flatten                                 -> 3136
//   linear 3136->512, ReLU, dropout 0.5     -> 512
//   linear 512->10                          -> 10 class scores (logits)
//
// The convolutions have biases (no BN follows them), initialised to 0; 1,663,370 parameters.
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/linear.h"
#include "layers/max_pool2d.h"
#include "layers/module.h"

namespace glimpse {

class MnistCNN : public Module {
 public:
  explicit MnistCNN(Rng& rng);

  std::string type_name() const override { return "MnistCNN"; }
  Tensor forward(const Tensor& x) override;  // (N, 1, 28, 28) -> (N, 10) logits

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<MaxPool2d> pool;
  std::shared_ptr<Flatten> flatten;
  std::shared_ptr<Linear> fc1;
  std::shared_ptr<Dropout> dropout;
  std::shared_ptr<Linear> fc2;
};

}  // namespace glimpse
