// conv1d: a 1-D convolution (cross-correlation, as in every framework), written out directly.
//
//   y[n,k,o] = b[k] + sum_{c,j} w[k,c,j] * x[n, c, o + j - padding]     (zero outside 0..L-1)
//   x (N, C, L), w (K, C, KL), b (K) or undefined -> y (N, K, OL),  OL = L + 2*padding - KL + 1
//
// Backward, from dy (N, K, OL), each term of the sum read the other way:
//   db[k]            += sum_{n,o} dy[n,k,o]
//   dw[k,c,j]        += sum_{n,o} dy[n,k,o] * x[n, c, o + j - padding]
//   dx[n,c,o+j-pad]  += sum_{k}   dy[n,k,o] * w[k,c,j]
//
// Where it is used: ECA-Net slides a 3-tap kernel along the channel axis of a pooled feature map,
// y (N, 1, C) (layers/eca.h). There L is 16 to 64 and the kernel 3 taps: the direct loops are as
// fast as an im2col + GEMM would be and read as the formula, so there is no lowering to GEMM.
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

struct Conv1dShape {
  int64_t N, C, L, K, KL, OL, padding;
};

// ---- kernels ----

void conv1d_forward(real* y, const real* x, const real* w, const real* b, const Conv1dShape& s) {
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t k = 0; k < s.K; k++)
        for (int64_t o = 0; o < s.OL; o++) {
          real total = b ? b[k] : 0;
          for (int64_t c = 0; c < s.C; c++)
            for (int64_t j = 0; j < s.KL; j++) {
              const int64_t i = o + j - s.padding;
              if (i >= 0 && i < s.L) total += w[(k * s.C + c) * s.KL + j] * x[(n * s.C + c) * s.L + i];
            }
          y[(n * s.K + k) * s.OL + o] = total;
        }
  });
}

// Each of dx, dw, db may be null. dx is split by image; dw and db gather from every image, on the
// calling thread.
void conv1d_backward(real* dx, real* dw, real* db, const real* dy, const real* x, const real* w, const Conv1dShape& s) {
  if (dx)
    parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; n++)
        for (int64_t k = 0; k < s.K; k++)
          for (int64_t o = 0; o < s.OL; o++)
            for (int64_t c = 0; c < s.C; c++)
              for (int64_t j = 0; j < s.KL; j++) {
                const int64_t i = o + j - s.padding;
                if (i >= 0 && i < s.L)
                  dx[(n * s.C + c) * s.L + i] += dy[(n * s.K + k) * s.OL + o] * w[(k * s.C + c) * s.KL + j];
              }
    });
  for (int64_t n = 0; n < s.N; n++)
    for (int64_t k = 0; k < s.K; k++)
      for (int64_t o = 0; o < s.OL; o++) {
        const real g = dy[(n * s.K + k) * s.OL + o];
        if (db) db[k] += g;
        if (dw)
          for (int64_t c = 0; c < s.C; c++)
            for (int64_t j = 0; j < s.KL; j++) {
              const int64_t i = o + j - s.padding;
              if (i >= 0 && i < s.L) dw[(k * s.C + c) * s.KL + j] += g * x[(n * s.C + c) * s.L + i];
            }
      }
}

// ---- autograd glue ----

struct Conv1dBackward : Node {
  Tensor x, w;  // detached; x is saved only when w needs a gradient, w only when x does
  Conv1dShape s;
  std::string name() const override { return "conv1d"; }
  void backward(const Tensor& dy) override {
    conv1d_backward(needs_grad(0) ? input_grad(0).data() : nullptr, needs_grad(1) ? input_grad(1).data() : nullptr,
                    needs_grad(2) ? input_grad(2).data() : nullptr, dy.data(), needs_grad(1) ? x.data() : nullptr,
                    needs_grad(0) ? w.data() : nullptr, s);
  }
};

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b, int64_t padding) {
  if (x.dim() != 3 || w.dim() != 3 || x.size(1) != w.size(1) || padding < 0)
    fail("conv1d: expects x (N, C, L), w (K, C, KL) and padding >= 0, got x " + shape_str(x.shape()) + ", w " +
         shape_str(w.shape()) + ", padding " + std::to_string(padding));
  if (b.defined() && b.shape() != Shape{w.size(0)})
    fail("conv1d: bias must be (K) = (" + std::to_string(w.size(0)) + "), got " + shape_str(b.shape()));
  Conv1dShape s{
      .N = x.size(0), .C = x.size(1), .L = x.size(2), .K = w.size(0), .KL = w.size(2), .OL = 0, .padding = padding};
  s.OL = s.L + 2 * padding - s.KL + 1;
  if (s.OL <= 0)
    fail("conv1d: the kernel (" + std::to_string(s.KL) + ") is longer than the padded input (" +
         std::to_string(s.L + 2 * padding) + ")");
  Tensor y = Tensor::empty({s.N, s.K, s.OL});
  conv1d_forward(y.data(), x.data(), w.data(), b.defined() ? b.data() : nullptr, s);
  auto node = std::make_shared<Conv1dBackward>();
  node->s = s;
  if (w.requires_grad()) node->x = x.detach();
  if (x.requires_grad()) node->w = w.detach();
  return record(y, node, {x, w, b}, OpSettings().with_int("padding", padding));
}

}  // namespace glimpse
