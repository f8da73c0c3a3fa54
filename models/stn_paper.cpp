#include "models/stn_paper.h"

#include "engine/ops.h"

namespace glimpse {

// Side of the classifier's last feature map: ((S - 8) / 2 - 6) / 2, at least 1 from S = 24 (the
// transformer needs 28).
static int64_t classifier_side(int64_t side) { return ((side - 8) / 2 - 6) / 2; }

StnPaper::StnPaper(int64_t side, Rng& rng, bool use_transformer) : side(side) {
  if (side < 28) fail("StnPaper: the input side must be at least 28, got " + std::to_string(side));
  const int64_t Q = classifier_side(side);
  if (use_transformer)
    transformer = add_module("transformer",
                             std::make_shared<SpatialTransformer>(side, rng, SpatialTransformer::Localisation::paper));
  conv1 = add_module("conv1", std::make_shared<Conv2d>(Conv2d::Options{.in = 1, .out = 64, .kernel = 9}, rng));
  conv2 = add_module("conv2", std::make_shared<Conv2d>(Conv2d::Options{.in = 64, .out = 64, .kernel = 7}, rng));
  fc = add_module("fc", std::make_shared<Linear>(Linear::Options{.in = 64 * Q * Q, .out = 10}, rng));
}

std::string StnPaper::describe() const {
  return "side=" + std::to_string(side) + (transformer ? "" : ", no transformer");
}

Tensor StnPaper::forward(const Tensor& U) {              // U: (N, 1, S, S)
  Tensor V = transformer ? transformer->forward(U) : U;  // (N, 1, S, S)  warped
  Tensor h = relu(max_pool2d(conv1->forward(V)));        // (N, 64, P, P)
  h = relu(max_pool2d(conv2->forward(h)));               // (N, 64, Q, Q)
  return fc->forward(flatten(h));                        // (N, 10) logits
}

}  // namespace glimpse
