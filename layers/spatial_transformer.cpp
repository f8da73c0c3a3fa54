#include "layers/spatial_transformer.h"

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

// Side of the localisation net's last feature map: tutorial ((side - 6) / 2 - 4) / 2, at least 1
// from side 18; paper (side / 2 - 4) / 2 - 4, at least 1 from side 28.
static int64_t localisation_side(int64_t side, SpatialTransformer::Localisation localisation) {
  return localisation == SpatialTransformer::Localisation::paper ? (side / 2 - 4) / 2 - 4 : ((side - 6) / 2 - 4) / 2;
}

SpatialTransformer::SpatialTransformer(int64_t side, Rng& rng, Localisation localisation)
    : side(side), localisation(localisation) {
  const bool paper = localisation == Localisation::paper;
  const int64_t smallest = paper ? 28 : 18;
  if (side < smallest)
    fail("SpatialTransformer: the input side must be at least " + std::to_string(smallest) + ", got " +
         std::to_string(side));
  const int64_t B = localisation_side(side, localisation);
  const int64_t conv1_out = paper ? 20 : 8, conv2_out = paper ? 20 : 10, hidden = paper ? 20 : 32;
  loc_conv1 = add_module(
      "loc_conv1", std::make_shared<Conv2d>(Conv2d::Options{.in = 1, .out = conv1_out, .kernel = paper ? 5 : 7}, rng));
  loc_conv2 = add_module(
      "loc_conv2", std::make_shared<Conv2d>(Conv2d::Options{.in = conv1_out, .out = conv2_out, .kernel = 5}, rng));
  loc_fc1 =
      add_module("loc_fc1", std::make_shared<Linear>(Linear::Options{.in = conv2_out * B * B, .out = hidden}, rng));
  loc_fc2 = add_module("loc_fc2", std::make_shared<Linear>(Linear::Options{.in = hidden, .out = 6}, rng));
  fill(loc_fc2->weight, 0);
  const real identity[6] = {1, 0, 0, 0, 1, 0};  // theta = [[1 0 0] [0 1 0]]
  for (int i = 0; i < 6; i++) loc_fc2->bias.data()[i] = identity[i];
}

std::string SpatialTransformer::describe() const {
  return "side=" + std::to_string(side) + (localisation == Localisation::paper ? ", the paper's localisation" : "");
}

Tensor SpatialTransformer::theta(const Tensor& U) {  // U: (N, 1, S, S)
  if (U.dim() != 4 || U.shape()[1] != 1 || U.shape()[2] != side || U.shape()[3] != side)
    fail("SpatialTransformer(" + describe() + "): expected input (N, 1, " + std::to_string(side) + ", " +
         std::to_string(side) + "), got " + shape_str(U.shape()));
  Tensor h;
  if (localisation == Localisation::paper) {
    h = avg_pool2d(U);                            // (N, 1, S/2, S/2)  the input down-sampled
    h = relu(max_pool2d(loc_conv1->forward(h)));  // (N, 20, A, A)
    h = relu(loc_conv2->forward(h));              // (N, 20, B, B)
  } else {
    h = relu(max_pool2d(loc_conv1->forward(U)));  // (N, 8, A, A)
    h = relu(max_pool2d(loc_conv2->forward(h)));  // (N, 10, B, B)
  }
  h = relu(loc_fc1->forward(flatten(h)));                     // (N, 32) or (N, 20)
  return reshape(loc_fc2->forward(h), {U.shape()[0], 2, 3});  // (N, 2, 3)
}

Tensor SpatialTransformer::forward(const Tensor& U) {  // U: (N, 1, S, S)
  Tensor grid = affine_grid(theta(U), side, side);     // (N, S, S, 2)  Eq. 1
  return grid_sample(U, grid);                         // (N, 1, S, S)  V
}

}  // namespace glimpse
