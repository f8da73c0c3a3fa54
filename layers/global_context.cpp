#include "layers/global_context.h"

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

GlobalContext::GlobalContext(int64_t channels_, Rng& rng, int64_t reduction_)
    : channels(channels_), reduction(reduction_) {
  if (channels <= 0 || reduction <= 0 || channels % reduction != 0)
    fail("GlobalContext: channels must be a positive multiple of the reduction, got " + describe());
  const int64_t hidden = channels / reduction;
  Wk = add_module("Wk", std::make_shared<Conv2d>(Conv2d::Options{.in = channels, .out = 1, .kernel = 1}, rng));
  Wv1 = add_module("Wv1", std::make_shared<Conv2d>(Conv2d::Options{.in = channels, .out = hidden, .kernel = 1}, rng));
  ln = add_module("ln", std::make_shared<LayerNorm>(Shape{hidden, 1, 1}));
  Wv2 = add_module("Wv2", std::make_shared<Conv2d>(Conv2d::Options{.in = hidden, .out = channels, .kernel = 1}, rng));
  fill(Wv2->weight, 0);  // the block starts as the identity
}

std::string GlobalContext::describe() const {
  return std::to_string(channels) + ", reduction=" + std::to_string(reduction);
}

Tensor GlobalContext::forward(const Tensor& x) {  // x: (N, C, H, W)
  if (x.dim() != 4 || x.size(1) != channels)
    fail("GlobalContext(" + describe() + "): expected input (N, " + std::to_string(channels) + ", H, W), got " +
         shape_str(x.shape()));
  const int64_t N = x.size(0), H = x.size(2), W = x.size(3);
  // context modelling: one attention map over the positions, the same for every query
  Tensor alpha = softmax(reshape(Wk->forward(x), {N, 1, H * W}), -1);  // (N, 1, HW)
  observe("alpha", reshape(alpha, {N, 1, H, W}));
  Tensor c = bmm(reshape(x, {N, channels, H * W}), alpha, false, true);  // (N, C, 1)  sum_j alpha_j x_j
  c = reshape(c, {N, channels, 1, 1});
  // transform: a bottleneck with layer normalisation
  Tensor t = Wv2->forward(relu(ln->forward(Wv1->forward(c))));  // (N, C, 1, 1)
  return x + t;                                                 // fusion, broadcast over H, W
}

}  // namespace glimpse
