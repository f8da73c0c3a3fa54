// Reductions over a list of axes (empty list = every axis; negative axes count from the end).
//
//   sum:   y[o] = sum_{i -> o} x[i]                dx[i] += dy[o]
//   mean:  y[o] = sum_{i -> o} x[i] / count        dx[i] += dy[o] / count
//   max:   y[o] = max_{i -> o} x[i]                dx[argmax(o)] += dy[o]   (the first maximum;
//                                                   NaN if any value is NaN, at the first NaN)
//
// "i -> o": input position i lands on output position o when they agree on every kept axis;
// count = x.numel() / y.numel() values land on each output. y has x's shape without the reduced
// axes, or with them as size 1 if keepdim (so that y broadcasts against x).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

constexpr int64_t reduce_grain = 1 << 15;  // input values per parallel task

namespace {

// ---- layout: which axes are reduced ----

// x's shape as a reduction walks it: size-1 axes dropped, neighbouring axes of the same kind
// (reduced or kept) merged. (N, C, H, W) over axes {0, 2, 3} is walked as (N, C, H*W) with
// reduced = (yes, no, yes). The walk goes through x in order, one run of the last merged axis
// at a time: a reduced run is summed into one output, a kept run is added onto a run of outputs.
struct ReduceLayout {
  Shape out_shape;
  std::vector<int64_t> sizes;  // merged axes of x
  std::vector<bool> reduced;
  std::vector<int64_t> out_strides;  // stride of each merged axis in y; 0 if reduced
};

std::vector<bool> reduced_axes(const char* op, const Shape& shape, const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<bool> reduced(rank, axes.empty());  // empty list: every axis
  for (int64_t axis : axes) {
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank)
      fail(std::string(op) + ": axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape));
    if (reduced[a])
      fail(std::string(op) + ": axis " + std::to_string(axis) + " appears twice in the axes for shape " +
           shape_str(shape));
    reduced[a] = true;
  }
  return reduced;
}

ReduceLayout reduce_layout(const char* op, const Shape& shape, const std::vector<int64_t>& axes, bool keepdim) {
  std::vector<bool> reduced = reduced_axes(op, shape, axes);
  ReduceLayout L;
  for (size_t axis = 0; axis < shape.size(); axis++) {
    if (!reduced[axis])
      L.out_shape.push_back(shape[axis]);
    else if (keepdim)
      L.out_shape.push_back(1);
    if (shape[axis] == 1) continue;
    if (!L.sizes.empty() && L.reduced.back() == reduced[axis]) {
      L.sizes.back() *= shape[axis];
    } else {
      L.sizes.push_back(shape[axis]);
      L.reduced.push_back(reduced[axis]);
    }
  }
  if (L.sizes.empty()) L.sizes = {1}, L.reduced = {false};  // one value
  L.out_strides.assign(L.sizes.size(), 0);
  for (int64_t d = static_cast<int64_t>(L.sizes.size()) - 1, stride = 1; d >= 0; d--) {
    if (L.reduced[d]) continue;
    L.out_strides[d] = stride;
    stride *= L.sizes[d];
  }
  return L;
}

// Calls run(x_offset, y_offset) for every run of the last merged axis, in x's order.
// Runs are split between threads by the first merged axis when it is kept, so that two
// threads never write to the same output; otherwise the walk is serial.
template <typename Run>
void for_each_run(const ReduceLayout& L, const Run& run) {
  const int64_t D = static_cast<int64_t>(L.sizes.size());
  const int64_t n = L.sizes.back();
  int64_t rows = 1;  // runs in all
  for (int64_t d = 0; d < D - 1; d++) rows *= L.sizes[d];
  if (rows * n == 0) return;
  auto walk = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      int64_t y_offset = 0;  // unravel run r over the outer axes
      for (int64_t d = D - 2, rest = r; d >= 0; d--) {
        y_offset += (rest % L.sizes[d]) * L.out_strides[d];
        rest /= L.sizes[d];
      }
      run(r * n, y_offset);
    }
  };
  if (D == 1 || L.reduced[0]) {
    walk(0, rows);
    return;
  }
  const int64_t rows_per_index = rows / L.sizes[0];  // runs under one index of the first axis
  const int64_t grain = std::max<int64_t>(1, reduce_grain / (rows_per_index * n));
  parallel_for(L.sizes[0], grain, [&](int64_t i0, int64_t i1) { walk(i0 * rows_per_index, i1 * rows_per_index); });
}

// ---- sum and mean ----

// The sum of a contiguous run, in double (a long run of floats would lose digits), kept in four
// running sums: four independent chains of additions, which the compiler puts in one vector
// register, instead of one chain where every addition waits for the previous one.
double sum_run(const real* x, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) s0 += x[j], s1 += x[j + 1], s2 += x[j + 2], s3 += x[j + 3];
  for (; j < n; j++) s0 += x[j];
  return (s0 + s1) + (s2 + s3);
}

void sum_forward(const ReduceLayout& L, real* y, const real* x) {
  const int64_t n = L.sizes.back();
  const bool run_reduced = L.reduced.back();
  for_each_run(L, [&](int64_t xo, int64_t yo) {
    if (run_reduced) {
      y[yo] += static_cast<real>(sum_run(x + xo, n));
    } else {
      for (int64_t j = 0; j < n; j++) y[yo + j] += x[xo + j];
    }
  });
}

void sum_backward(const ReduceLayout& L, real* dx, const real* dy, real scale) {
  const int64_t n = L.sizes.back();
  const bool run_reduced = L.reduced.back();
  for_each_run(L, [&](int64_t xo, int64_t yo) {
    // in the forward this was: y[yo] += x[xo + j]   (or y[yo + j] += x[xo + j] on a kept run)
    if (run_reduced) {
      for (int64_t j = 0; j < n; j++) dx[xo + j] += scale * dy[yo];
    } else {
      for (int64_t j = 0; j < n; j++) dx[xo + j] += scale * dy[yo + j];
    }
  });
}

struct SumBackward : Node {
  const char* op;  // "sum" or "mean"
  ReduceLayout layout;
  real scale;  // 1 for sum, 1 / count for mean
  std::string name() const override { return op; }
  void backward(const Tensor& dy) override { sum_backward(layout, input_grad(0).data(), dy.data(), scale); }
};

Tensor sum_or_mean(const char* op, const Tensor& x, const std::vector<int64_t>& axes, bool keepdim, bool mean) {
  ReduceLayout L = reduce_layout(op, x.shape(), axes, keepdim);
  Tensor y = Tensor::zeros(L.out_shape);
  if (x.numel() > 0) sum_forward(L, y.data(), x.data());
  real scale = 1;
  if (mean) {
    scale = static_cast<real>(y.numel()) / static_cast<real>(x.numel());  // 1 / count
    real* yp = y.data();
    for (int64_t i = 0, n = y.numel(); i < n; i++) yp[i] *= scale;
  }
  auto node = std::make_shared<SumBackward>();
  node->op = op;
  node->layout = std::move(L);
  node->scale = scale;
  return record(y, node, {x}, OpSettings().with_ints("axes", axes).with_int("keepdim", keepdim));
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return sum_or_mean("sum", x, axes, keepdim, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  if (x.numel() == 0) fail("mean: empty tensor of shape " + shape_str(x.shape()));
  return sum_or_mean("mean", x, axes, keepdim, true);
}

// ---- max ----

namespace {

// The position of the first maximum of a contiguous run x[0..n), or of its first NaN if it has
// one (a NaN is not lost in a maximum, as in PyTorch). Two passes: the maximum in 8 lanes (and
// whether any lane saw a NaN), 8 independent chains of compares that the CPU runs side by side,
// where one scan keeping the best position waits on every compare and reloads x[best]; then the
// search for its first occurrence.
int64_t first_max_in_run(const real* x, int64_t n) {
  constexpr int lanes = 8;
  real lane_max[lanes], lane_nan[lanes] = {};  // lane_nan: 1 once the lane has seen a NaN
  for (real& m : lane_max) m = x[0];
  int64_t j = 0;
  for (; j + lanes <= n; j += lanes)
    for (int l = 0; l < lanes; l++) {
      const real v = x[j + l];
      lane_max[l] = v > lane_max[l] ? v : lane_max[l];
      lane_nan[l] = v != v ? 1 : lane_nan[l];
    }
  real best = x[0];
  bool nan = best != best;
  for (; j < n; j++) best = x[j] > best ? x[j] : best, nan = nan || x[j] != x[j];
  for (int l = 0; l < lanes; l++) best = lane_max[l] > best ? lane_max[l] : best, nan = nan || lane_nan[l] != 0;
  for (j = 0; j < n; j++)
    if (nan ? x[j] != x[j] : x[j] == best) return j;
  return 0;  // not reached: best is one of the values
}

// Takes a kept run x[0..n), which sits at flat position `at` of the input, into the running
// maxima y[0..n) of its n outputs: a value replaces its output's maximum when it is larger, or
// when it is the first NaN. A select per value, no branch, so that the loop vectorises.
bool replaces(real v, real current) { return v > current || (v != v && current == current); }
void max_onto_run(real* y, int64_t* argmax, const real* x, int64_t at, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    const bool take = replaces(x[j], y[j]);
    y[j] = take ? x[j] : y[j];
    argmax[j] = take ? at + j : argmax[j];
  }
}

// y = the maximum of each output's values; argmax = the flat position in x of the first one
// (x is walked in order and only a strictly larger value, or the first NaN, replaces it).
void max_forward(const ReduceLayout& L, real* y, int64_t* argmax, const real* x) {
  const int64_t n = L.sizes.back();
  const bool run_reduced = L.reduced.back();
  for_each_run(L, [=](int64_t xo, int64_t yo) {
    if (run_reduced) {
      const int64_t best = xo + first_max_in_run(x + xo, n);
      if (argmax[yo] < 0 || replaces(x[best], y[yo])) y[yo] = x[best], argmax[yo] = best;
    } else if (argmax[yo] < 0) {  // the first run onto these outputs: its values are the maxima so far
      std::copy(x + xo, x + xo + n, y + yo);
      std::iota(argmax + yo, argmax + yo + n, xo);
    } else {
      max_onto_run(y + yo, argmax + yo, x + xo, xo, n);
    }
  });
}

struct MaxBackward : Node {
  std::vector<int64_t> argmax;  // per output value, its position in x
  std::string name() const override { return "max"; }
  void backward(const Tensor& dy) override {
    real* dx = input_grad(0).data();
    const real* g = dy.data();
    for (size_t o = 0; o < argmax.size(); o++) dx[argmax[o]] += g[o];
  }
};

}  // namespace

Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  ReduceLayout L = reduce_layout("max", x.shape(), axes, keepdim);
  // an output with no values to take the maximum of; no output at all (an empty batch) is fine
  if (x.numel() == 0 && shape_numel(L.out_shape) > 0) fail("max: empty tensor of shape " + shape_str(x.shape()));
  Tensor y = Tensor::empty(L.out_shape);
  auto node = std::make_shared<MaxBackward>();
  node->argmax.assign(y.numel(), -1);
  max_forward(L, y.data(), node->argmax.data(), x.data());
  return record(y, node, {x}, OpSettings().with_ints("axes", axes).with_int("keepdim", keepdim));
}

std::vector<int64_t> argmax(const Tensor& x) {
  if (x.dim() != 2 || x.size(1) == 0) fail("argmax: expects a non-empty (N, K) tensor, got " + shape_str(x.shape()));
  const int64_t N = x.size(0), K = x.size(1);
  std::vector<int64_t> indices(N);
  for (int64_t n = 0; n < N; n++) {
    const real* row = x.data() + n * K;
    int64_t best = 0;
    for (int64_t k = 1; k < K; k++)
      if (row[k] > row[best]) best = k;
    indices[n] = best;
  }
  return indices;
}

}  // namespace glimpse
