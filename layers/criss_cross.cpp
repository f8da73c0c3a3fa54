#include "layers/criss_cross.h"

#include "engine/ops.h"

namespace glimpse {

CrissCrossAttention::CrissCrossAttention(int64_t channels_, Rng& rng, int64_t recurrence_)
    : channels(channels_), recurrence(recurrence_) {
  if (channels <= 0 || channels % 8 != 0 || recurrence < 1)
    fail("CrissCrossAttention: channels must be a positive multiple of 8 and the recurrence at least 1, got " +
         describe());
  auto conv1x1 = [&](int64_t out) {
    return std::make_shared<Conv2d>(Conv2d::Options{.in = channels, .out = out, .kernel = 1}, rng);
  };
  query = add_module("query", conv1x1(channels / 8));
  key = add_module("key", conv1x1(channels / 8));
  value = add_module("value", conv1x1(channels));
  gamma = add_parameter("gamma", Tensor::zeros({1}));
}

std::string CrissCrossAttention::describe() const {
  return std::to_string(channels) + ", recurrence=" + std::to_string(recurrence);
}

Tensor CrissCrossAttention::pass(const Tensor& x, int64_t r) {                     // x: (N, C, H, W)
  Tensor A = softmax(criss_cross_logits(query->forward(x), key->forward(x)), -1);  // (N, H, W, H+W-1)  Eq. 1
  observe("A" + std::to_string(r), A);
  return gamma * criss_cross_sum(A, value->forward(x)) + x;  // (N, C, H, W)      Eq. 2
}

Tensor CrissCrossAttention::forward(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) != channels)
    fail("CrissCrossAttention(" + describe() + "): expected input (N, " + std::to_string(channels) + ", H, W), got " +
         shape_str(x.shape()));
  Tensor h = x;
  for (int64_t r = 1; r <= recurrence; r++) h = pass(h, r);  // the same weights each time (Fig. 3)
  return h;
}

}  // namespace glimpse
