// Element-wise functions, any shape.
//
//   exp:    y = e^x                     dx += dy * y
//   log:    y = ln x                    dx += dy / x
//   sqrt:   y = x^(1/2)                 dx += dy / (2 y)
//   pow:    y = x^p                     dx += dy * p * x^(p-1)
//   abs:    y = |x|                     dx += dy * sign(x)
//   clamp:  y = min(max(x, low), high)  dx += dy * [low < x < high]
//
// exp and sqrt save their output y; the others save their input x. At the kinks
// (abs at 0, clamp at low and high) the gradient is taken as 0: the value does not move there
// with x on one side.
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

constexpr int64_t elementwise_grain = 1 << 15;  // values per parallel task

// y[i] = f(x[i]) into a new tensor of x's shape.
template <typename F>
Tensor map(const Tensor& x, F f) {
  Tensor y = Tensor::empty(x.shape());
  const real* xp = x.data();
  real* yp = y.data();
  parallel_for(x.numel(), elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) yp[i] = f(xp[i]);
  });
  return y;
}

// dx[i] += dy[i] * f'(i), where the local derivative f'(i) reads whatever the op saved.
template <typename Derivative>
void accumulate_chain(const Tensor& dx, const Tensor& dy, Derivative derivative) {
  real* d = dx.data();
  const real* g = dy.data();
  parallel_for(dy.numel(), elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) d[i] += g[i] * derivative(i);
  });
}

// ---- exp ----

struct ExpBackward : Node {
  Tensor y;  // saved output, detached (Note [Saved tensors and cycles])
  std::string name() const override { return "exp"; }
  void backward(const Tensor& dy) override {
    const real* yp = y.data();
    accumulate_chain(input_grad(0), dy, [&](int64_t i) { return yp[i]; });
  }
};

// ---- log ----

struct LogBackward : Node {
  Tensor x;  // saved input, detached
  std::string name() const override { return "log"; }
  void backward(const Tensor& dy) override {
    const real* xp = x.data();
    accumulate_chain(input_grad(0), dy, [&](int64_t i) { return 1 / xp[i]; });
  }
};

// ---- sqrt ----

struct SqrtBackward : Node {
  Tensor y;
  std::string name() const override { return "sqrt"; }
  void backward(const Tensor& dy) override {
    const real* yp = y.data();
    accumulate_chain(input_grad(0), dy, [&](int64_t i) { return real(0.5) / yp[i]; });
  }
};

// ---- pow ----

struct PowBackward : Node {
  Tensor x;  // saved input, detached
  real p;
  std::string name() const override { return "pow"; }
  void backward(const Tensor& dy) override {
    const real* xp = x.data();
    accumulate_chain(input_grad(0), dy, [&](int64_t i) { return p * std::pow(xp[i], p - 1); });
  }
};

// ---- abs ----

struct AbsBackward : Node {
  Tensor x;  // saved input, detached
  std::string name() const override { return "abs"; }
  void backward(const Tensor& dy) override {
    const real* xp = x.data();
    accumulate_chain(input_grad(0), dy, [&](int64_t i) { return real((xp[i] > 0) - (xp[i] < 0)); });
  }
};

// ---- clamp ----

struct ClampBackward : Node {
  Tensor x;  // saved input, detached
  real low, high;
  std::string name() const override { return "clamp"; }
  void backward(const Tensor& dy) override {
    const real* xp = x.data();
    // only values strictly inside (low, high) passed through unchanged
    accumulate_chain(input_grad(0), dy, [&](int64_t i) { return real(xp[i] > low && xp[i] < high); });
  }
};

}  // namespace

// ---- the ops ----

Tensor exp(const Tensor& x) {
  Tensor y = map(x, [](real v) { return std::exp(v); });
  auto node = std::make_shared<ExpBackward>();
  node->y = y.detach();
  return record(y, node, {x});
}

Tensor log(const Tensor& x) {
  auto node = std::make_shared<LogBackward>();
  node->x = x.detach();
  return record(map(x, [](real v) { return std::log(v); }), node, {x});
}

Tensor sqrt(const Tensor& x) {
  Tensor y = map(x, [](real v) { return std::sqrt(v); });
  auto node = std::make_shared<SqrtBackward>();
  node->y = y.detach();
  return record(y, node, {x});
}

Tensor pow(const Tensor& x, real p) {
  auto node = std::make_shared<PowBackward>();
  node->p = p;
  node->x = x.detach();
  return record(map(x, [p](real v) { return std::pow(v, p); }), node, {x}, OpSettings().with_real("exponent", p));
}

Tensor abs(const Tensor& x) {
  auto node = std::make_shared<AbsBackward>();
  node->x = x.detach();
  return record(map(x, [](real v) { return std::abs(v); }), node, {x});
}

Tensor clamp(const Tensor& x, real low, real high) {
  if (!(low <= high))
    fail("clamp: low must not exceed high, got low " + std::to_string(low) + ", high " + std::to_string(high));
  auto node = std::make_shared<ClampBackward>();
  node->low = low;
  node->high = high;
  node->x = x.detach();
  return record(map(x, [=](real v) { return std::min(std::max(v, low), high); }), node, {x},
                OpSettings().with_real("low", low).with_real("high", high));
}

}  // namespace glimpse
