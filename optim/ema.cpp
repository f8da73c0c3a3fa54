#include "optim/ema.h"

#include <algorithm>
#include <cmath>

namespace glimpse {

ExponentialMovingAverage::ExponentialMovingAverage(NamedTensors weights, real decay)
    : weights_(std::move(weights)), update_count_(Tensor::zeros({1})), decay_(decay) {
  if (!(decay >= 0 && decay < 1))
    fail("ExponentialMovingAverage: the decay must be in [0, 1), got " + std::to_string(decay));
  for (auto& [name, w] : weights_) averages_.push_back(w.detach().clone());  // the average starts at the weights
}

// For every weight w and its average a, after update t = 1, 2, ...:
//
//     d <- min(decay, (1 + t) / (10 + t))    a short memory at first, so that the average soon
//                                            forgets the random initial weights
//     a <- d a + (1 - d) w
//
// With decay 0.9999 the average weighs the last ~10,000 steps (1 / (1 - d)); the warm-up
// reaches that decay after ~90,000 updates.
void ExponentialMovingAverage::update() {
  real& count = update_count_.data()[0];
  count += 1;
  const real d = std::min(decay_, (1 + count) / (10 + count));
  for (size_t i = 0; i < weights_.size(); i++) {
    const real* w = weights_[i].second.data();
    real* a = averages_[i].data();
    for (int64_t j = 0; j < averages_[i].numel(); j++) a[j] = d * a[j] + (1 - d) * w[j];
  }
}

void ExponentialMovingAverage::swap() {
  for (size_t i = 0; i < weights_.size(); i++) {
    real* w = weights_[i].second.data();
    std::swap_ranges(w, w + averages_[i].numel(), averages_[i].data());
  }
}

NamedTensors ExponentialMovingAverage::state() {
  NamedTensors named = {{"updates", update_count_}};
  for (size_t i = 0; i < weights_.size(); i++) named.emplace_back("average." + weights_[i].first, averages_[i]);
  return named;
}

int64_t ExponentialMovingAverage::updates() const { return static_cast<int64_t>(update_count_.data()[0]); }

}  // namespace glimpse
