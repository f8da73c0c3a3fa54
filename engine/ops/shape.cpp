// Shape ops: the same values, arranged differently. Every backward moves dy back to where
// each value came from (and adds it there).
//
//   reshape(x, shape)       y shares x's storage, new shape          dx += dy (same order)
//   flatten(x, start)       reshape to (d_0, .., d_start-1, rest)
//   permute(x, order)       axis k of y is axis order[k] of x        dx += dy permuted back
//   transpose(x, a, b)      permute swapping two axes
//   concat(xs, axis)        inputs side by side along axis           dx_i += its block of dy
//   slice(x, axis, s, e)    y = x[.., s:e, ..]                       dx[.., s:e, ..] += dy
//   pad(x, before, after)   x inside a border of `value`             dx += the interior of dy
//
// Tensors are contiguous, so every op but reshape copies. Two walks cover all the copies:
// blocks (concat, slice: x seen as (outer, size, inner), one contiguous block per outer index)
// and rows (permute, pad: one tensor in order, the other through its own strides).
#include <algorithm>
#include <cstring>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

constexpr int64_t copy_grain = 1 << 15;  // values per parallel task

int64_t normalize_axis(const char* op, int64_t axis, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    fail(std::string(op) + ": axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape));
  return a;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; d--) strides[d] = stride, stride *= shape[d];
  return strides;
}

// dst[o * dst_stride + j] (+)= src[o * src_stride + j] for o < outer, j < n: one block per o.
void copy_blocks(real* dst, int64_t dst_stride, const real* src, int64_t src_stride, int64_t outer, int64_t n,
                 bool accumulate) {
  if (outer * n == 0) return;
  parallel_for(outer, std::max<int64_t>(1, copy_grain / n), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; o++) {
      real* d = dst + o * dst_stride;
      const real* s = src + o * src_stride;
      if (accumulate) {
        for (int64_t j = 0; j < n; j++) d[j] += s[j];
      } else {
        std::memcpy(d, s, sizeof(real) * n);
      }
    }
  });
}

// Walks a contiguous tensor of shape `shape` row by row (a row: its last axis) together with a
// second tensor reached through `strides` (one per axis of `shape`) from offset `base`:
// run(offset in the first, offset in the second, n, stride of the second along the row).
// Every position maps to its own position in the second tensor, so rows may run in parallel.
template <typename Run>
void walk_rows(const Shape& shape, const std::vector<int64_t>& strides, int64_t base, const Run& run) {
  const int64_t D = static_cast<int64_t>(shape.size());
  const int64_t n = D > 0 ? shape.back() : 1;
  const int64_t s = D > 0 ? strides.back() : 0;
  const int64_t rows = shape_numel(shape) / std::max<int64_t>(n, 1);
  if (rows * n == 0) return;
  parallel_for(rows, std::max<int64_t>(1, copy_grain / n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      int64_t offset = base;  // unravel row r over the outer axes
      for (int64_t d = D - 2, rest = r; d >= 0; d--) {
        offset += (rest % shape[d]) * strides[d];
        rest /= shape[d];
      }
      run(r * n, offset, n, s);
    }
  });
}

// ---- reshape ----

Shape infer_shape(const Shape& shape, const Shape& x_shape) {
  const int64_t count = shape_numel(x_shape);
  Shape out = shape;
  int64_t inferred = -1, known = 1;
  for (size_t d = 0; d < out.size(); d++) {
    if (out[d] == -1 && inferred < 0) {
      inferred = static_cast<int64_t>(d);
    } else if (out[d] < 0) {
      fail("reshape: bad target shape " + shape_str(shape) + " (only one -1 may be inferred) for input " +
           shape_str(x_shape));
    } else {
      known *= out[d];
    }
  }
  if (inferred >= 0 && known > 0 && count % known == 0) out[inferred] = count / known;
  if ((inferred >= 0 && out[inferred] < 0) || shape_numel(out) != count)
    fail("reshape: cannot reshape " + shape_str(x_shape) + " (" + std::to_string(count) + " values) to " +
         shape_str(shape));
  return out;
}

struct ReshapeBackward : Node {
  std::string name() const override { return "reshape"; }
  void backward(const Tensor& dy) override {
    real* dx = input_grad(0).data();  // the same values in the same order: add flat
    const real* g = dy.data();
    parallel_for(dy.numel(), copy_grain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) dx[i] += g[i];
    });
  }
};

// ---- permute ----

struct PermuteBackward : Node {
  std::vector<int64_t> order;
  std::string name() const override { return "permute"; }
  void backward(const Tensor& dy) override {
    std::vector<int64_t> x_strides = contiguous_strides(input_shape(0)), strides(order.size());
    for (size_t k = 0; k < order.size(); k++) strides[k] = x_strides[order[k]];
    real* dx = input_grad(0).data();
    const real* g = dy.data();
    // in the forward this was: y[yo + j] = x[xo + j * s]
    walk_rows(dy.shape(), strides, 0, [&](int64_t yo, int64_t xo, int64_t n, int64_t s) {
      for (int64_t j = 0; j < n; j++) dx[xo + j * s] += g[yo + j];
    });
  }
};

// ---- concat ----

// x seen as (outer, size, inner) around `axis`.
int64_t outer_size(const Shape& shape, int64_t axis) {
  int64_t n = 1;
  for (int64_t d = 0; d < axis; d++) n *= shape[d];
  return n;
}
int64_t inner_size(const Shape& shape, int64_t axis) {
  int64_t n = 1;
  for (size_t d = axis + 1; d < shape.size(); d++) n *= shape[d];
  return n;
}

struct ConcatBackward : Node {
  int64_t axis;
  std::string name() const override { return "concat"; }
  void backward(const Tensor& dy) override {
    const int64_t outer = outer_size(dy.shape(), axis), inner = inner_size(dy.shape(), axis);
    const int64_t row = dy.size(axis) * inner;  // one block of dy: every input's block side by side
    int64_t offset = 0;
    for (size_t i = 0; i < inputs.size(); i++) {
      const int64_t block = input_shape(i)[axis] * inner;
      if (needs_grad(i)) copy_blocks(input_grad(i).data(), block, dy.data() + offset, row, outer, block, true);
      offset += block;
    }
  }
};

// ---- slice ----

struct SliceBackward : Node {
  int64_t axis, start;
  std::string name() const override { return "slice"; }
  void backward(const Tensor& dy) override {
    const Shape& x_shape = input_shape(0);
    const int64_t outer = outer_size(x_shape, axis), inner = inner_size(x_shape, axis);
    // in the forward this was: y block o = x[o, start:end, :]
    copy_blocks(input_grad(0).data() + start * inner, x_shape[axis] * inner, dy.data(), dy.size(axis) * inner, outer,
                dy.size(axis) * inner, true);
  }
};

// ---- pad ----

// Where x's values sit inside the padded y: y's strides per axis of x, and the offset of x[0, .., 0].
struct PadPlacement {
  std::vector<int64_t> strides;
  int64_t base = 0;
};

PadPlacement pad_placement(const Shape& y_shape, const std::vector<int64_t>& before) {
  PadPlacement placement;
  placement.strides = contiguous_strides(y_shape);
  for (size_t d = 0; d < before.size(); d++) placement.base += before[d] * placement.strides[d];
  return placement;
}

struct PadBackward : Node {
  std::vector<int64_t> before;
  std::string name() const override { return "pad"; }
  void backward(const Tensor& dy) override {
    PadPlacement placement = pad_placement(dy.shape(), before);
    real* dx = input_grad(0).data();
    const real* g = dy.data();
    walk_rows(input_shape(0), placement.strides, placement.base, [&](int64_t xo, int64_t yo, int64_t n, int64_t s) {
      for (int64_t j = 0; j < n; j++) dx[xo + j] += g[yo + j * s];
    });
  }
};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.detach();  // a new handle onto the same storage
  y.impl()->shape = infer_shape(shape, x.shape());
  return record(y, std::make_shared<ReshapeBackward>(), {x});
}

Tensor flatten(const Tensor& x, int64_t start_axis) {
  const int64_t start = normalize_axis("flatten", start_axis, x.shape());
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  shape.push_back(shape_numel(Shape(x.shape().begin() + start, x.shape().end())));
  return reshape(x, shape);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
  const Shape& x_shape = x.shape();
  if (order.size() != x_shape.size())
    fail("permute: order of " + std::to_string(order.size()) + " axes for shape " + shape_str(x_shape));
  std::vector<int64_t> axes(order.size());
  std::vector<bool> seen(order.size(), false);
  for (size_t k = 0; k < order.size(); k++) {
    axes[k] = normalize_axis("permute", order[k], x_shape);
    if (seen[axes[k]])
      fail("permute: axis " + std::to_string(order[k]) + " appears twice in the order for shape " + shape_str(x_shape));
    seen[axes[k]] = true;
  }
  Shape y_shape(order.size());
  std::vector<int64_t> x_strides = contiguous_strides(x_shape), strides(order.size());
  for (size_t k = 0; k < axes.size(); k++) y_shape[k] = x_shape[axes[k]], strides[k] = x_strides[axes[k]];

  Tensor y = Tensor::empty(y_shape);
  real* yp = y.data();
  const real* xp = x.data();
  walk_rows(y_shape, strides, 0, [&](int64_t yo, int64_t xo, int64_t n, int64_t s) {
    for (int64_t j = 0; j < n; j++) yp[yo + j] = xp[xo + j * s];
  });
  auto node = std::make_shared<PermuteBackward>();
  node->order = axes;
  return record(y, node, {x}, OpSettings().with_ints("order", axes));
}

Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1) {
  std::vector<int64_t> order(x.dim());
  for (int64_t d = 0; d < x.dim(); d++) order[d] = d;
  std::swap(order[normalize_axis("transpose", axis0, x.shape())], order[normalize_axis("transpose", axis1, x.shape())]);
  return permute(x, order);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis) {
  if (xs.empty()) fail("concat: no tensors to concatenate");
  const Shape& first = xs[0].shape();
  const int64_t a = normalize_axis("concat", axis, first);
  Shape y_shape = first;
  y_shape[a] = 0;
  for (size_t i = 0; i < xs.size(); i++) {
    Shape expected = first, got = xs[i].shape();
    if (got.size() == expected.size()) expected[a] = got[a];  // the axis itself may differ
    if (got != expected)
      fail("concat: input " + std::to_string(i) + " has shape " + shape_str(got) + " but input 0 has shape " +
           shape_str(first) + "; only axis " + std::to_string(a) + " may differ");
    y_shape[a] += got[a];
  }
  Tensor y = Tensor::empty(y_shape);
  const int64_t outer = outer_size(y_shape, a), inner = inner_size(y_shape, a), row = y_shape[a] * inner;
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    const int64_t block = x.size(a) * inner;
    copy_blocks(y.data() + offset, row, x.data(), block, outer, block, false);
    offset += block;
  }
  auto node = std::make_shared<ConcatBackward>();
  node->axis = a;
  return record(y, node, xs, OpSettings().with_int("axis", a));
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
  const int64_t a = normalize_axis("slice", axis, x.shape());
  const int64_t size = x.size(a);
  if (start < 0 || start > end || end > size)
    fail("slice: range [" + std::to_string(start) + ", " + std::to_string(end) + ") out of range for axis " +
         std::to_string(axis) + " of size " + std::to_string(size) + " in shape " + shape_str(x.shape()));
  Shape y_shape = x.shape();
  y_shape[a] = end - start;
  Tensor y = Tensor::empty(y_shape);
  const int64_t outer = outer_size(x.shape(), a), inner = inner_size(x.shape(), a);
  copy_blocks(y.data(), (end - start) * inner, x.data() + start * inner, size * inner, outer, (end - start) * inner,
              false);
  auto node = std::make_shared<SliceBackward>();
  node->axis = a;
  node->start = start;
  return record(y, node, {x}, OpSettings().with_int("axis", a).with_int("start", start).with_int("end", end));
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& before, const std::vector<int64_t>& after, real value) {
  const Shape& x_shape = x.shape();
  if (before.size() != x_shape.size() || after.size() != x_shape.size())
    fail("pad: need one before and one after per axis of " + shape_str(x_shape) + ", got " +
         std::to_string(before.size()) + " and " + std::to_string(after.size()));
  Shape y_shape = x_shape;
  for (size_t d = 0; d < x_shape.size(); d++) {
    if (before[d] < 0 || after[d] < 0)
      fail("pad: negative padding on axis " + std::to_string(d) + " for shape " + shape_str(x_shape));
    y_shape[d] += before[d] + after[d];
  }
  Tensor y = Tensor::full(y_shape, value);
  PadPlacement placement = pad_placement(y_shape, before);
  real* yp = y.data();
  const real* xp = x.data();
  walk_rows(x_shape, placement.strides, placement.base, [&](int64_t xo, int64_t yo, int64_t n, int64_t s) {
    for (int64_t j = 0; j < n; j++) yp[yo + j * s] = xp[xo + j];
  });
  auto node = std::make_shared<PadBackward>();
  node->before = before;
  return record(y, node, {x},
                OpSettings().with_ints("before", before).with_ints("after", after).with_real("value", value));
}

}  // namespace glimpse
