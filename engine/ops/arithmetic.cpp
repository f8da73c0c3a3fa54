// Element-wise arithmetic with NumPy broadcasting, any ranks.
//
//   add:  y = a + b     da += sum_to(dy)              db += sum_to(dy)
//   sub:  y = a - b     da += sum_to(dy)              db -= sum_to(dy)
//   mul:  y = a * b     da += sum_to(dy * b)          db += sum_to(dy * a)
//   div:  y = a / b     da += sum_to(dy / b)          db -= sum_to(dy / b * y)   (since y = a / b)
//   neg:  y = -x                  dx -= dy
//   add_scalar:  y = x + s        dx += dy
//   mul_scalar:  y = x * s        dx += s * dy
//
// a, b: any shapes that broadcast to y's shape; sum_to reduces a y-shaped gradient back to an
// input's shape (Note [Broadcasting]).
#include <algorithm>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

constexpr int64_t elementwise_grain = 1 << 15;  // values per parallel task

// Note [Broadcasting]
// ~~~~~~~~~~~~~~~~~~~
// Two shapes broadcast as in NumPy: line them up from the right, pad the shorter one with
// leading 1s, and in every axis the sizes must be equal or one of them 1; the output takes the
// larger size. An operand of size 1 in an axis is read again and again along that axis:
//
//     a (2, 3, 4)              y[i, j, k] = a[i, j, k] + b[j, 0]
//     b    (3, 1)  ->  (1, 3, 1)
//     y (2, 3, 4)
//
// Forward, the kernel walks y in order and gives each operand a stride per axis of y: its
// usual row-major stride, or 0 in an axis where it is broadcast, so the same value is read
// again. Two neighbouring axes can be walked as one when both operands step through them
// alike ((N, C, H, W) * (1, C, 1, 1) is walked as (N, C, H*W) with b's strides (0, 1, 0)), so
// after merging, the innermost axis is a run in which each operand is either contiguous
// (stride 1) or a single repeated value (stride 0): a plain loop the compiler vectorises.
// Same shapes merge into one run, which is the fast path of the common case.
//
// Backward, a value read many times gets the sum of the gradients of every place it went to
// (the chain rule adds over all uses, as for any fan-out). So the gradient of a broadcast
// operand is the y-shaped gradient summed over the axes it was broadcast along, keeping the
// size-1 axes and dropping the padded leading ones: sum_to(dy, b.shape). For (N, C) + (C) that
// is db = sum over N of dy, the familiar bias gradient. sum_to is an ordinary sum() over those
// axes (ops/reduce.cpp); an input that was not broadcast takes dy as it is.

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; i++) {  // i counts axes from the right
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      fail(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast (axis " +
           std::to_string(rank - 1 - i) + " of the output: " + std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// ---- the broadcast walk ----

// How y and two operands are walked together (Note [Broadcasting]): y's axes with size-1 axes
// dropped and neighbours merged; per axis, each operand's stride (0 where it is broadcast).
struct BroadcastLayout {
  std::vector<int64_t> sizes;
  std::vector<int64_t> a_strides, b_strides;
};

// Strides of `shape` seen from an output of shape `out` (right-aligned), 0 on broadcast axes.
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); i++) {  // from the right
    size_t axis = out.size() - 1 - i;
    int64_t size = shape[shape.size() - 1 - i];
    strides[axis] = size == 1 ? 0 : stride;
    stride *= size;
  }
  return strides;
}

BroadcastLayout broadcast_layout(const Shape& a, const Shape& b, const Shape& out) {
  std::vector<int64_t> sa = broadcast_strides(a, out), sb = broadcast_strides(b, out);
  BroadcastLayout L;
  for (size_t axis = 0; axis < out.size(); axis++) {
    if (out[axis] == 1) continue;  // a size-1 axis moves no operand
    // merge with the previous axis when both operands step through the pair as through one axis
    if (!L.sizes.empty() && L.a_strides.back() == sa[axis] * out[axis] && L.b_strides.back() == sb[axis] * out[axis]) {
      L.sizes.back() *= out[axis];
      L.a_strides.back() = sa[axis];
      L.b_strides.back() = sb[axis];
    } else {
      L.sizes.push_back(out[axis]);
      L.a_strides.push_back(sa[axis]);
      L.b_strides.push_back(sb[axis]);
    }
  }
  if (L.sizes.empty()) L = {{1}, {0}, {0}};  // a single value
  return L;
}

// One run of the innermost axis: n values of y, each operand contiguous (stride 1) or one
// repeated value (stride 0). Split four ways so that every loop is plain and vectorises.
// `op(y, a, b)` stores into y (forward: y = a * b; backward: da += dy * b).
template <typename Op>
void broadcast_run(real* y, const real* a, int64_t sa, const real* b, int64_t sb, int64_t n, Op op) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = 0; j < n; j++) op(y[j], a[j], b[j]);
  } else if (sa == 1) {
    const real bv = b[0];
    for (int64_t j = 0; j < n; j++) op(y[j], a[j], bv);
  } else if (sb == 1) {
    const real av = a[0];
    for (int64_t j = 0; j < n; j++) op(y[j], av, b[j]);
  } else {
    const real av = a[0], bv = b[0];
    for (int64_t j = 0; j < n; j++) op(y[j], av, bv);
  }
}

// y (contiguous, the broadcast shape) op= a, b along the layout.
template <typename Op>
void broadcast_apply(const BroadcastLayout& L, real* y, const real* a, const real* b, Op op) {
  const int64_t D = static_cast<int64_t>(L.sizes.size());
  const int64_t n = L.sizes.back();  // length of a run
  const int64_t sa = L.a_strides.back(), sb = L.b_strides.back();
  int64_t rows = 1;
  for (int64_t d = 0; d < D - 1; d++) rows *= L.sizes[d];
  if (rows * n == 0) return;
  if (rows == 1) {  // one run (same shapes, or an operand that is one value): split it instead
    parallel_for(n, elementwise_grain,
                 [&](int64_t j0, int64_t j1) { broadcast_run(y + j0, a + j0 * sa, sa, b + j0 * sb, sb, j1 - j0, op); });
    return;
  }
  parallel_for(rows, std::max<int64_t>(1, elementwise_grain / n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      int64_t a_offset = 0, b_offset = 0;  // unravel row r over the outer axes
      for (int64_t d = D - 2, rest = r; d >= 0; d--) {
        int64_t index = rest % L.sizes[d];
        rest /= L.sizes[d];
        a_offset += index * L.a_strides[d];
        b_offset += index * L.b_strides[d];
      }
      broadcast_run(y + r * n, a + a_offset, sa, b + b_offset, sb, n, op);
    }
  });
}

// y = op(a, b) broadcast, as a new tensor.
template <typename Op>
Tensor broadcast_binary(const Tensor& a, const Tensor& b, const char* name, Op op) {
  Shape out = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor y = Tensor::empty(out);
  if (y.numel() == 0) return y;
  broadcast_apply(broadcast_layout(a.shape(), b.shape(), out), y.data(), a.data(), b.data(), op);
  return y;
}

// ---- sum_to: a y-shaped gradient back to an input's shape ----

// dx += scale * sum_to(g, shape of x). Shapes equal: one flat pass, no temporary.
void accumulate_sum_to(const Tensor& dx, const Tensor& g, real scale) {
  const Shape& shape = dx.shape();
  const int64_t lead = g.dim() - dx.dim();  // axes padded in front of x's shape
  std::vector<int64_t> axes;
  for (int64_t axis = 0; axis < g.dim(); axis++) {
    const int64_t x_size = axis < lead ? 1 : shape[axis - lead];    // x's shape padded with leading 1s
    if (x_size == 1 && g.shape()[axis] != 1) axes.push_back(axis);  // x was broadcast along it
  }
  Tensor summed = g;
  if (!axes.empty()) {
    NoGradGuard no_grad;
    summed = sum(g, axes, /*keepdim=*/true);  // same values in the same order as x's shape
  }
  real* d = dx.data();
  const real* s = summed.data();
  parallel_for(dx.numel(), elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) d[i] += scale * s[i];
  });
}

// d(input i) += sum_to(op(dy, other)), where other is broadcast to dy's shape. When input i
// has dy's shape (it was not broadcast), op adds straight into its gradient buffer.
template <typename Op>
void accumulate_broadcast_grad(Node& node, size_t i, const Tensor& dy, const Tensor& other, Op op) {
  BroadcastLayout L = broadcast_layout(dy.shape(), other.shape(), dy.shape());
  Tensor dx = node.input_grad(i);
  if (dx.shape() == dy.shape()) {
    broadcast_apply(L, dx.data(), dy.data(), other.data(), op);
    return;
  }
  Tensor full = Tensor::zeros(dy.shape());  // op adds onto zeros: the y-shaped gradient
  broadcast_apply(L, full.data(), dy.data(), other.data(), op);
  accumulate_sum_to(dx, full, 1);
}

// ---- add, sub ----

struct AddBackward : Node {
  real b_sign;  // +1 for add, -1 for sub
  explicit AddBackward(real sign) : b_sign(sign) {}
  std::string name() const override { return b_sign > 0 ? "add" : "sub"; }
  void backward(const Tensor& dy) override {
    if (needs_grad(0)) accumulate_sum_to(input_grad(0), dy, 1);
    if (needs_grad(1)) accumulate_sum_to(input_grad(1), dy, b_sign);
  }
};

// ---- mul ----

struct MulBackward : Node {
  // saved inputs, detached: da reads b and db reads a, so each is saved only if the other
  // operand needs a gradient (x * a constant mask keeps no copy of x alive)
  Tensor a, b;
  std::string name() const override { return "mul"; }
  void backward(const Tensor& dy) override {
    // in the forward this was: y = a * b
    if (needs_grad(0))
      accumulate_broadcast_grad(*this, 0, dy, b, [](real& da, real dy_i, real b_i) { da += dy_i * b_i; });
    if (needs_grad(1))
      accumulate_broadcast_grad(*this, 1, dy, a, [](real& db, real dy_i, real a_i) { db += dy_i * a_i; });
  }
};

// ---- div ----

struct DivBackward : Node {
  Tensor b;  // saved input, detached
  Tensor y;  // saved output, detached: db = -dy * a / b^2 = -dy * y / b
  std::string name() const override { return "div"; }
  void backward(const Tensor& dy) override {
    // in the forward this was: y = a / b
    if (needs_grad(0))
      accumulate_broadcast_grad(*this, 0, dy, b, [](real& da, real dy_i, real b_i) { da += dy_i / b_i; });
    if (needs_grad(1)) {
      Tensor dy_y = Tensor::empty(dy.shape());  // dy * y, both y-shaped
      real* p = dy_y.data();
      const real* g = dy.data();
      const real* yp = y.data();
      parallel_for(dy.numel(), elementwise_grain, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; i++) p[i] = g[i] * yp[i];
      });
      accumulate_broadcast_grad(*this, 1, dy_y, b, [](real& db, real dy_y_i, real b_i) { db -= dy_y_i / b_i; });
    }
  }
};

// ---- neg, add_scalar, mul_scalar: y = scale * x + shift ----

Tensor affine_forward(const Tensor& x, real scale, real shift) {
  Tensor y = Tensor::empty(x.shape());
  const real* xp = x.data();
  real* yp = y.data();
  parallel_for(x.numel(), elementwise_grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) yp[i] = scale * xp[i] + shift;
  });
  return y;
}

struct ScaleBackward : Node {  // dx += scale * dy, for neg, add_scalar and mul_scalar
  std::string op;
  real scale;
  ScaleBackward(std::string op, real scale) : op(std::move(op)), scale(scale) {}
  std::string name() const override { return op; }
  void backward(const Tensor& dy) override {
    real* dx = input_grad(0).data();
    const real* g = dy.data();
    parallel_for(dy.numel(), elementwise_grain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) dx[i] += scale * g[i];
    });
  }
};

}  // namespace

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (broadcast_shapes(shape, x.shape(), "sum_to") != x.shape())
    fail("sum_to: shape " + shape_str(shape) + " does not broadcast to the shape " + shape_str(x.shape()) +
         " it should be summed from");
  Tensor out = Tensor::zeros(shape);
  accumulate_sum_to(out, x, 1);
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = broadcast_binary(a, b, "add", [](real& out, real lhs, real rhs) { out = lhs + rhs; });
  return record(y, std::make_shared<AddBackward>(1), {a, b});
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = broadcast_binary(a, b, "sub", [](real& out, real lhs, real rhs) { out = lhs - rhs; });
  return record(y, std::make_shared<AddBackward>(-1), {a, b});
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = broadcast_binary(a, b, "mul", [](real& out, real lhs, real rhs) { out = lhs * rhs; });
  auto node = std::make_shared<MulBackward>();
  if (b.requires_grad()) node->a = a.detach();
  if (a.requires_grad()) node->b = b.detach();
  return record(y, node, {a, b});
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = broadcast_binary(a, b, "div", [](real& out, real lhs, real rhs) { out = lhs / rhs; });
  auto node = std::make_shared<DivBackward>();
  node->b = b.detach();
  node->y = y.detach();
  return record(y, node, {a, b});
}

Tensor neg(const Tensor& x) {
  return record(affine_forward(x, -1, 0), std::make_shared<ScaleBackward>("neg", -1), {x});
}

Tensor add_scalar(const Tensor& x, real s) {
  return record(affine_forward(x, 1, s), std::make_shared<ScaleBackward>("add_scalar", 1), {x},
                OpSettings().with_real("scalar", s));
}

Tensor mul_scalar(const Tensor& x, real s) {
  return record(affine_forward(x, s, 0), std::make_shared<ScaleBackward>("mul_scalar", s), {x},
                OpSettings().with_real("scalar", s));
}

}  // namespace glimpse
