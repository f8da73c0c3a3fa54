// dropout and dropout2d, "inverted" (Srivastava et al. 2014, scaled at training time so that
// evaluation needs nothing):
//
//   training:  keep_u ~ Bernoulli(1 - p) for each unit u,  y = x * keep_u / (1 - p)
//              (E[y] = x, so the next layer sees the same scale in training and evaluation)
//   backward:  dx += dy * keep_u / (1 - p)       the mask is saved
//   evaluation (or p = 0): y = x, the same tensor, no node
//
// A unit is one value for dropout, one whole channel (H*W values) of (N, C, H, W) for dropout2d,
// which drops feature maps (Tompson et al. 2015) since neighbouring pixels are correlated.
// The mask is drawn from rng one unit after another on the calling thread, so the same seed
// gives the same mask whatever the number of threads; only the multiply runs in parallel. A
// process of a data-parallel step holding rows first.. of the step's batch (RowsOfBatch) skips
// the draws of the rows before its own: its mask is those rows of one process's mask.
#include <algorithm>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

constexpr int64_t dropout_grain = 1 << 15;  // values per parallel task

// ---- kernels: x seen as `units` runs of `unit` consecutive values; keep (units) is 0 or 1 ----

static void dropout_forward(real* y, const real* x, const uint8_t* keep, real scale, int64_t units, int64_t unit) {
  parallel_for(units, std::max<int64_t>(1, dropout_grain / unit), [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) {
      const real s = keep[u] ? scale : 0;  // 1 / (1 - p) or 0
      for (int64_t i = u * unit; i < (u + 1) * unit; i++) y[i] = x[i] * s;
    }
  });
}
static void dropout_backward(real* dx, const real* dy, const uint8_t* keep, real scale, int64_t units, int64_t unit) {
  parallel_for(units, std::max<int64_t>(1, dropout_grain / unit), [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) {
      const real s = keep[u] ? scale : 0;  // in the forward: y = x * s
      for (int64_t i = u * unit; i < (u + 1) * unit; i++) dx[i] += dy[i] * s;
    }
  });
}

// ---- autograd glue ----

struct DropoutBackward : Node {
  std::vector<uint8_t> keep;  // the mask, one entry per unit
  real scale = 1;             // 1 / (1 - p)
  int64_t unit = 1;           // values per unit
  std::string name() const override { return unit == 1 ? "dropout" : "dropout2d"; }
  void backward(const Tensor& dy) override {
    dropout_backward(input_grad(0).data(), dy.data(), keep.data(), scale, static_cast<int64_t>(keep.size()), unit);
  }
};

// x as units of `unit` values (1 or H*W), each kept with probability 1 - p
static Tensor dropout_units(const Tensor& x, real p, Rng& rng, int64_t unit, RowsOfBatch rows) {
  const int64_t units = unit == 0 ? 0 : x.numel() / unit;
  const int64_t N = x.dim() > 0 ? x.size(0) : 1;
  if (rows.total > 0 && (rows.first < 0 || rows.first + N > rows.total))
    fail("dropout: rows " + std::to_string(rows.first) + ".." + std::to_string(rows.first + N - 1) + " of a batch of " +
         std::to_string(rows.total));
  const int64_t skipped = N > 0 ? rows.first * (units / N) : 0;  // the draws of the rows before these
  for (int64_t i = 0; i < skipped; i++) rng.bernoulli(1 - p);
  auto node = std::make_shared<DropoutBackward>();
  node->keep.resize(units);
  for (uint8_t& k : node->keep) k = rng.bernoulli(1 - p) ? 1 : 0;  // in order, on this thread (header)
  node->scale = 1 / (1 - p);
  node->unit = unit;
  Tensor y = Tensor::empty(x.shape());
  dropout_forward(y.data(), x.data(), node->keep.data(), node->scale, units, unit);
  return record(y, node, {x}, OpSettings().with_real("p", p));
}

static void check_probability(real p, const char* op) {
  if (!(p >= 0 && p < 1)) fail(std::string(op) + ": p must be in [0, 1), got " + std::to_string(p));
}

Tensor dropout(const Tensor& x, real p, bool training, Rng& rng, RowsOfBatch rows) {
  check_probability(p, "dropout");
  if (!training || p == 0) return x;
  return dropout_units(x, p, rng, 1, rows);
}

Tensor dropout2d(const Tensor& x, real p, bool training, Rng& rng, RowsOfBatch rows) {
  check_probability(p, "dropout2d");
  if (x.dim() != 4) fail("dropout2d: input must be (N, C, H, W), got " + shape_str(x.shape()));
  if (!training || p == 0) return x;
  return dropout_units(x, p, rng, x.size(2) * x.size(3), rows);
}

}  // namespace glimpse
