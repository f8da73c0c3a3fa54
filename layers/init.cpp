#include "layers/init.h"

#include <cmath>

namespace glimpse {

static void check_weight_shape(const Tensor& w, const char* who) {
  if (w.dim() < 2) fail(std::string(who) + ": a weight needs at least 2 axes, got " + shape_str(w.shape()));
}

// receptive field = KH * KW for a convolution weight, 1 for a linear one
static int64_t receptive_field(const Tensor& w) {
  int64_t field = 1;
  for (int64_t axis = 2; axis < w.dim(); axis++) field *= w.size(axis);
  return field;
}

int64_t fan_in(const Tensor& w) {
  check_weight_shape(w, "fan_in");
  return w.size(1) * receptive_field(w);
}

int64_t fan_out(const Tensor& w) {
  check_weight_shape(w, "fan_out");
  return w.size(0) * receptive_field(w);
}

void fill(const Tensor& t, real value) {
  real* p = t.data();
  for (int64_t i = 0; i < t.numel(); i++) p[i] = value;
}

void fill_uniform(const Tensor& t, real low, real high, Rng& rng) {
  real* p = t.data();
  for (int64_t i = 0; i < t.numel(); i++) p[i] = rng.uniform(low, high);
}

void fill_normal(const Tensor& t, real mean, real stddev, Rng& rng) {
  real* p = t.data();
  for (int64_t i = 0; i < t.numel(); i++) p[i] = rng.normal(mean, stddev);
}

// He et al. 2015: keeping the variance of the gradients constant through a ReLU layer in the
// backward pass needs Var(w) = 2 / fan_out.
void kaiming_normal_fan_out_relu(const Tensor& w, Rng& rng) {
  fill_normal(w, 0, static_cast<real>(std::sqrt(2.0 / static_cast<double>(fan_out(w)))), rng);
}

void linear_default_init(const Tensor& w, const Tensor& b, Rng& rng) {
  real bound = static_cast<real>(1.0 / std::sqrt(static_cast<double>(fan_in(w))));
  fill_uniform(w, -bound, bound, rng);
  if (b.defined()) fill_uniform(b, -bound, bound, rng);
}

}  // namespace glimpse
