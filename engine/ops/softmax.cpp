// softmax and log_softmax along one axis of any shape.
//
// Along the axis, for one line x_1..x_K of values (all other indices fixed), m = max_k x_k:
//   softmax:      y_k = e^(x_k - m) / sum_j e^(x_j - m)
//   log_softmax:  y_k = x_k - m - log sum_j e^(x_j - m)
// Subtracting m changes nothing mathematically (it cancels) but keeps every exponent <= 0, so
// e^ cannot overflow, and the largest term is e^0 = 1, so the sum cannot underflow to 0.
//
// Backward, per line, with the saved output y:
//   softmax:      dx_k += y_k * (dy_k - sum_j dy_j y_j)        (dy_k/dx_j = y_k ([k = j] - y_j))
//   log_softmax:  dx_k += dy_k - e^(y_k) * sum_j dy_j          (dy_k/dx_j = [k = j] - softmax_j)
//
// x viewed as (outer, K, inner), K the size of the axis: line (o, i) holds the K values
// x[o, :, i], a stride of `inner` apart (contiguous when the axis is the last one).
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

constexpr int64_t softmax_grain = 1 << 14;  // values per parallel task

struct Lines {
  int64_t outer = 1, K = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  int64_t start(int64_t line) const { return (line / inner) * K * inner + line % inner; }  // offset of value 0
};

Lines lines_along(const char* op, const Shape& shape, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    fail(std::string(op) + ": axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape));
  Lines lines;
  for (int64_t d = 0; d < a; d++) lines.outer *= shape[d];
  lines.K = shape[a];
  for (int64_t d = a + 1; d < rank; d++) lines.inner *= shape[d];
  return lines;
}

// Runs body(start, stride) for every line, in parallel.
template <typename Body>
void for_each_line(const Lines& lines, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, softmax_grain / std::max<int64_t>(1, lines.K));
  parallel_for(lines.count(), grain, [&](int64_t l0, int64_t l1) {
    for (int64_t l = l0; l < l1; l++) body(lines.start(l), lines.inner);
  });
}

// y = softmax(x) (log_space false) or log_softmax(x) (log_space true), line by line.
void softmax_forward(const Lines& lines, real* y, const real* x, bool log_space) {
  const int64_t K = lines.K;
  for_each_line(lines, [&](int64_t start, int64_t s) {
    const real* xl = x + start;
    real* yl = y + start;
    real m = xl[0];
    for (int64_t k = 1; k < K; k++) m = std::max(m, xl[k * s]);
    double total = 0;  // sum_j e^(x_j - m), at least 1
    for (int64_t k = 0; k < K; k++) {
      yl[k * s] = std::exp(xl[k * s] - m);  // kept for softmax, overwritten for log_softmax
      total += yl[k * s];
    }
    if (log_space) {
      const real log_total = static_cast<real>(std::log(total));
      for (int64_t k = 0; k < K; k++) yl[k * s] = xl[k * s] - m - log_total;
    } else {
      const real inv_total = static_cast<real>(1 / total);
      for (int64_t k = 0; k < K; k++) yl[k * s] *= inv_total;
    }
  });
}

void softmax_backward(const Lines& lines, real* dx, const real* dy, const real* y) {
  const int64_t K = lines.K;
  for_each_line(lines, [&](int64_t start, int64_t s) {
    double dot = 0;  // sum_j dy_j y_j
    for (int64_t k = 0; k < K; k++) dot += dy[start + k * s] * y[start + k * s];
    for (int64_t k = 0; k < K; k++) {
      int64_t i = start + k * s;
      dx[i] += y[i] * (dy[i] - static_cast<real>(dot));
    }
  });
}

void log_softmax_backward(const Lines& lines, real* dx, const real* dy, const real* y) {
  const int64_t K = lines.K;
  for_each_line(lines, [&](int64_t start, int64_t s) {
    double total = 0;  // sum_j dy_j
    for (int64_t k = 0; k < K; k++) total += dy[start + k * s];
    for (int64_t k = 0; k < K; k++) {
      int64_t i = start + k * s;
      dx[i] += dy[i] - std::exp(y[i]) * static_cast<real>(total);  // e^y: the softmax
    }
  });
}

struct SoftmaxBackward : Node {
  Lines lines;
  Tensor y;  // saved output, detached (Note [Saved tensors and cycles])
  bool log_space;
  std::string name() const override { return log_space ? "log_softmax" : "softmax"; }
  void backward(const Tensor& dy) override {
    if (log_space)
      log_softmax_backward(lines, input_grad(0).data(), dy.data(), y.data());
    else
      softmax_backward(lines, input_grad(0).data(), dy.data(), y.data());
  }
};

Tensor softmax_along(const char* op, const Tensor& x, int64_t axis, bool log_space) {
  Lines lines = lines_along(op, x.shape(), axis);
  Tensor y = Tensor::empty(x.shape());
  if (x.numel() > 0) softmax_forward(lines, y.data(), x.data(), log_space);
  auto node = std::make_shared<SoftmaxBackward>();
  node->lines = lines;
  node->y = y.detach();
  node->log_space = log_space;
  return record(y, node, {x}, OpSettings().with_int("axis", axis));
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_along("softmax", x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_along("log_softmax", x, axis, true); }

}  // namespace glimpse
