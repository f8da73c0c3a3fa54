#include "models/stn_mnist.h"

#include "engine/ops.h"

namespace glimpse {

// Side of the classifier's last feature map: ((S - 4) / 2 - 4) / 2.
static int64_t classifier_side(int64_t side) { return ((side - 4) / 2 - 4) / 2; }

StnMnist::StnMnist(int64_t side, Rng& rng, bool use_transformer) : side(side) {
  // the classifier needs S >= 16, the transformer S >= 18
  if (side < 16) fail("StnMnist: the input side must be at least 16, got " + std::to_string(side));
  const int64_t Q = classifier_side(side);
  if (use_transformer) transformer = add_module("transformer", std::make_shared<SpatialTransformer>(side, rng));
  conv1 = add_module("conv1", std::make_shared<Conv2d>(Conv2d::Options{.in = 1, .out = 10, .kernel = 5}, rng));
  conv2 = add_module("conv2", std::make_shared<Conv2d>(Conv2d::Options{.in = 10, .out = 20, .kernel = 5}, rng));
  conv2_drop = add_module("conv2_drop", std::make_shared<Dropout2d>(0.5f, rng));
  fc1 = add_module("fc1", std::make_shared<Linear>(Linear::Options{.in = 20 * Q * Q, .out = 50}, rng));
  fc1_drop = add_module("fc1_drop", std::make_shared<Dropout>(0.5f, rng));
  fc2 = add_module("fc2", std::make_shared<Linear>(Linear::Options{.in = 50, .out = 10}, rng));
}

std::string StnMnist::describe() const {
  return "side=" + std::to_string(side) + (transformer ? "" : ", no transformer");
}

Tensor StnMnist::forward(const Tensor& U) {                      // U: (N, 1, S, S)
  Tensor V = transformer ? transformer->forward(U) : U;          // (N, 1, S, S)  warped
  Tensor h = relu(max_pool2d(conv1->forward(V)));                // (N, 10, P, P)
  h = relu(max_pool2d(conv2_drop->forward(conv2->forward(h))));  // (N, 20, Q, Q)
  h = fc1_drop->forward(relu(fc1->forward(flatten(h))));         // (N, 50)
  return fc2->forward(h);                                        // (N, 10) logits
}

}  // namespace glimpse
