// Activations, element-wise on any shape.
//
//   relu:     y = max(x, 0), NaN -> NaN          dx += dy * [x > 0]
//   sigmoid:  y = 1 / (1 + e^-x)                dx += dy * y * (1 - y)
//   tanh:     y = (e^x - e^-x) / (e^x + e^-x)   dx += dy * (1 - y^2)
//
// Each backward needs only the saved output y (relu reads the sign of x off y: y > 0 iff x > 0).
#include <cmath>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

constexpr int64_t elementwise_grain = 1 << 15;  // values per parallel task

// ---- relu ----

static void relu_forward(real* y, const real* x, int64_t n) {
  parallel_for(n, elementwise_grain, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) y[i] = x[i] < 0 ? 0 : x[i];  // a NaN stays NaN (x < 0 is false)
  });
}
static void relu_backward(real* dx, const real* dy, const real* y, int64_t n) {
  parallel_for(n, elementwise_grain, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const real g = dy[i];  // read whatever the sign: a select, not a branch, so the loop vectorises
      dx[i] += y[i] > 0 ? g : 0;
    }
  });
}

struct ReluBackward : Node {
  Tensor y;  // saved output, detached (Note [Saved tensors and cycles])
  std::string name() const override { return "relu"; }
  void backward(const Tensor& dy) override { relu_backward(input_grad(0).data(), dy.data(), y.data(), y.numel()); }
};

Tensor relu(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  relu_forward(y.data(), x.data(), x.numel());
  auto node = std::make_shared<ReluBackward>();
  node->y = y.detach();
  return record(y, node, {x});
}

// ---- sigmoid ----

static void sigmoid_forward(real* y, const real* x, int64_t n) {
  parallel_for(n, elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) y[i] = 1 / (1 + std::exp(-x[i]));
  });
}
static void sigmoid_backward(real* dx, const real* dy, const real* y, int64_t n) {
  parallel_for(n, elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) dx[i] += dy[i] * y[i] * (1 - y[i]);
  });
}

struct SigmoidBackward : Node {
  Tensor y;
  std::string name() const override { return "sigmoid"; }
  void backward(const Tensor& dy) override { sigmoid_backward(input_grad(0).data(), dy.data(), y.data(), y.numel()); }
};

Tensor sigmoid(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  sigmoid_forward(y.data(), x.data(), x.numel());
  auto node = std::make_shared<SigmoidBackward>();
  node->y = y.detach();
  return record(y, node, {x});
}

// ---- tanh ----

static void tanh_forward(real* y, const real* x, int64_t n) {
  parallel_for(n, elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) y[i] = std::tanh(x[i]);
  });
}
static void tanh_backward(real* dx, const real* dy, const real* y, int64_t n) {
  parallel_for(n, elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
  });
}

struct TanhBackward : Node {
  Tensor y;
  std::string name() const override { return "tanh"; }
  void backward(const Tensor& dy) override { tanh_backward(input_grad(0).data(), dy.data(), y.data(), y.numel()); }
};

Tensor tanh(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  tanh_forward(y.data(), x.data(), x.numel());
  auto node = std::make_shared<TanhBackward>();
  node->y = y.detach();
  return record(y, node, {x});
}

}  // namespace glimpse
