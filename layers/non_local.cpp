#include "layers/non_local.h"

#include "engine/ops.h"
#include "layers/init.h"

namespace glimpse {

NonLocal::NonLocal(int64_t channels_, Rng& rng) : channels(channels_) {
  if (channels < 2 || channels % 2 != 0) fail("NonLocal: channels must be even and positive, got " + describe());
  const int64_t inner = channels / 2;
  auto conv1x1 = [&](int64_t in, int64_t out) {
    return std::make_shared<Conv2d>(Conv2d::Options{.in = in, .out = out, .kernel = 1}, rng);
  };
  theta = add_module("theta", conv1x1(channels, inner));
  phi = add_module("phi", conv1x1(channels, inner));
  g = add_module("g", conv1x1(channels, inner));
  Wz = add_module("Wz", conv1x1(inner, channels));
  bn = add_module("bn", std::make_shared<BatchNorm2d>(channels));
  fill(bn->gamma, 0);  // the block starts as the identity
}

Tensor NonLocal::forward(const Tensor& x) {  // x: (N, C, H, W)
  if (x.dim() != 4 || x.size(1) != channels || x.size(2) % 2 != 0 || x.size(3) % 2 != 0)
    fail("NonLocal(" + describe() + "): expected input (N, " + std::to_string(channels) +
         ", H, W) with H and W even, got " + shape_str(x.shape()));
  const int64_t N = x.size(0), H = x.size(2), W = x.size(3), inner = channels / 2;
  Tensor q = reshape(theta->forward(x), {N, inner, H * W});                // (N, C/2, HW)    queries
  Tensor k = reshape(max_pool2d(phi->forward(x)), {N, inner, H * W / 4});  // (N, C/2, HW/4)  keys, sub-sampled
  Tensor v = reshape(max_pool2d(g->forward(x)), {N, inner, H * W / 4});    // (N, C/2, HW/4)  values
  Tensor f = softmax(bmm(q, k, true, false), -1);                          // (N, HW, HW/4)   f(x_i, x_j)
  observe("f", f);
  Tensor y = bmm(v, f, false, true);                                  // (N, C/2, HW)    y_i = sum_j f_ij g(x_j)
  return bn->forward(Wz->forward(reshape(y, {N, inner, H, W}))) + x;  // (N, C, H, W)    z = BN(W_z y) + x
}

}  // namespace glimpse
