// Losses: one number from a batch.
//
// cross_entropy: logits (N, K), labels N integers in [0, K)
//   L = -1/N sum_n log p[n, label_n],   p[n, :] = softmax(logits[n, :])
//   dlogits[n, k] += dL * (p[n, k] - [k = label_n]) / N
// Fused: log p = x - m - log sum e^(x - m) is taken straight from the logits, with no separate
// softmax node, so the loss stays finite even when p[label] would round to 0 in float, and the
// backward is the one line above. p is saved for it.
//
// mse_loss: prediction and target of one shape, n values
//   L = 1/n sum_i (p_i - t_i)^2
//   dp_i += dL * 2 (p_i - t_i) / n,   dt_i -= the same
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

constexpr int64_t rows_grain = 64;  // rows of logits per parallel task

// ---- cross_entropy ----

void check_labels(const Tensor& logits, const std::vector<int64_t>& labels) {
  if (logits.dim() != 2 || logits.size(1) == 0)
    fail("cross_entropy: logits must be (N, K) with K >= 1, got " + shape_str(logits.shape()));
  const int64_t N = logits.size(0), K = logits.size(1);
  if (static_cast<int64_t>(labels.size()) != N)
    fail("cross_entropy: " + std::to_string(labels.size()) + " labels for logits of shape " +
         shape_str(logits.shape()) + " (one label per row expected)");
  for (int64_t n = 0; n < N; n++)
    if (labels[n] < 0 || labels[n] >= K)
      fail("cross_entropy: label " + std::to_string(labels[n]) + " at index " + std::to_string(n) +
           " is out of range for " + std::to_string(K) + " classes (logits " + shape_str(logits.shape()) + ")");
}

// p = softmax of each row; returns -sum_n log p[n, label_n] (not yet divided by N).
double cross_entropy_forward(real* p, const real* x, const int64_t* labels, int64_t N, int64_t K) {
  std::vector<double> row_loss(N);
  parallel_for(N, rows_grain, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const real* xn = x + n * K;
      real* pn = p + n * K;
      real m = xn[0];  // subtract the row maximum for stability (ops/softmax.cpp)
      for (int64_t k = 1; k < K; k++) m = std::max(m, xn[k]);
      double total = 0;
      for (int64_t k = 0; k < K; k++) {
        pn[k] = std::exp(xn[k] - m);
        total += pn[k];
      }
      for (int64_t k = 0; k < K; k++) pn[k] = static_cast<real>(pn[k] / total);
      row_loss[n] = -(xn[labels[n]] - m - std::log(total));  // -log p[n, label]
    }
  });
  double loss = 0;
  for (double l : row_loss) loss += l;  // in row order: the same sum on any number of threads
  return loss;
}

void cross_entropy_backward(real* dx, const real* p, const int64_t* labels, int64_t N, int64_t K, real dL) {
  const real scale = dL / static_cast<real>(N);
  parallel_for(N, rows_grain, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      for (int64_t k = 0; k < K; k++) dx[n * K + k] += scale * p[n * K + k];
      dx[n * K + labels[n]] -= scale;  // the one-hot term
    }
  });
}

struct CrossEntropyBackward : Node {
  Tensor p;  // (N, K) softmax of the logits
  std::vector<int64_t> labels;
  std::string name() const override { return "cross_entropy"; }
  void backward(const Tensor& dL) override {
    cross_entropy_backward(input_grad(0).data(), p.data(), labels.data(), p.size(0), p.size(1), dL.item());
  }
};

// ---- mse_loss ----

struct MseLossBackward : Node {
  Tensor prediction, target;  // saved inputs, detached
  std::string name() const override { return "mse_loss"; }
  void backward(const Tensor& dL) override {
    const real* p = prediction.data();
    const real* t = target.data();
    const int64_t n = prediction.numel();
    const real scale = 2 * dL.item() / static_cast<real>(n);
    // in the forward this was: L += (p_i - t_i)^2 / n
    if (needs_grad(0)) {
      real* dp = input_grad(0).data();
      for (int64_t i = 0; i < n; i++) dp[i] += scale * (p[i] - t[i]);
    }
    if (needs_grad(1)) {
      real* dt = input_grad(1).data();
      for (int64_t i = 0; i < n; i++) dt[i] -= scale * (p[i] - t[i]);
    }
  }
};

}  // namespace

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  check_labels(logits, labels);
  const int64_t N = logits.size(0), K = logits.size(1);
  if (N == 0) fail("cross_entropy: empty batch, logits " + shape_str(logits.shape()));
  auto node = std::make_shared<CrossEntropyBackward>();
  node->p = Tensor::empty(logits.shape());
  node->labels = labels;
  double loss = cross_entropy_forward(node->p.data(), logits.data(), labels.data(), N, K);
  return record(Tensor::scalar(static_cast<real>(loss / N)), node, {logits});
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  if (prediction.shape() != target.shape())
    fail("mse_loss: prediction " + shape_str(prediction.shape()) + " and target " + shape_str(target.shape()) +
         " must have the same shape");
  if (prediction.numel() == 0) fail("mse_loss: empty tensors of shape " + shape_str(prediction.shape()));
  const real* p = prediction.data();
  const real* t = target.data();
  const int64_t n = prediction.numel();
  double total = 0;
  for (int64_t i = 0; i < n; i++) total += (double(p[i]) - t[i]) * (double(p[i]) - t[i]);
  auto node = std::make_shared<MseLossBackward>();
  node->prediction = prediction.detach();
  node->target = target.detach();
  return record(Tensor::scalar(static_cast<real>(total / n)), node, {prediction, target});
}

}  // namespace glimpse
