#include "models/mnist_cnn.h"

#include "engine/ops.h"

namespace glimpse {

MnistCNN::MnistCNN(Rng& rng) {
  conv1 = add_module("conv1",
                     std::make_shared<Conv2d>(Conv2d::Options{.in = 1, .out = 32, .kernel = 5, .padding = 2}, rng));
  conv2 = add_module("conv2",
                     std::make_shared<Conv2d>(Conv2d::Options{.in = 32, .out = 64, .kernel = 5, .padding = 2}, rng));
  pool = add_module("pool", std::make_shared<MaxPool2d>(Pool2dOptions{.kernel = 2}));
  flatten = add_module("flatten", std::make_shared<Flatten>());
  fc1 = add_module("fc1", std::make_shared<Linear>(Linear::Options{.in = 64 * 7 * 7, .out = 512}, rng));
  dropout = add_module("dropout", std::make_shared<Dropout>(0.5f, rng));
  fc2 = add_module("fc2", std::make_shared<Linear>(Linear::Options{.in = 512, .out = 10}, rng));
}

Tensor MnistCNN::forward(const Tensor& x) {           // x: (N, 1, 28, 28)
  Tensor h = pool->forward(relu(conv1->forward(x)));  // (N, 32, 14, 14)
  h = pool->forward(relu(conv2->forward(h)));         // (N, 64, 7, 7)
  h = flatten->forward(h);                            // (N, 3136)
  h = dropout->forward(relu(fc1->forward(h)));        // (N, 512)
  return fc2->forward(h);                             // (N, 10) logits
}

}  // namespace glimpse
