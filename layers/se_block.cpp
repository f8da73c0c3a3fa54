#include "layers/se_block.h"

#include "engine/ops.h"

namespace glimpse {

SEBlock::SEBlock(int64_t channels, Rng& rng, int64_t reduction) : channels(channels), reduction(reduction) {
  if (channels <= 0 || reduction <= 0) fail("SEBlock: channels and reduction must be positive, got " + describe());
  int64_t hidden = reduced_channels(channels, reduction);
  fc1 = add_module("fc1", std::make_shared<Linear>(Linear::Options{.in = channels, .out = hidden}, rng));
  fc2 = add_module("fc2", std::make_shared<Linear>(Linear::Options{.in = hidden, .out = channels}, rng));
}

std::string SEBlock::describe() const { return std::to_string(channels) + ", reduction=" + std::to_string(reduction); }

Tensor SEBlock::forward(const Tensor& u) {  // u: (N, C, H, W)
  if (u.dim() != 4 || u.shape()[1] != channels)
    fail("SEBlock(" + describe() + "): expected input (N, " + std::to_string(channels) + ", H, W), got " +
         shape_str(u.shape()));
  Tensor z = global_avg_pool2d(u);                          // (N, C)     squeeze, Eq. 2
  Tensor s = sigmoid(fc2->forward(relu(fc1->forward(z))));  // (N, C)     excitation, Eq. 3
  observe("weights", s);                                    // (N, C)     what the pictures show
  return u * reshape(s, {u.shape()[0], channels, 1, 1});    // (N, C, H, W) scale, Eq. 4
}

}  // namespace glimpse
