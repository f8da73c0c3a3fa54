// criss_cross_logits and criss_cross_sum: the two halves of CCNet's criss-cross attention
// (Huang et al., ICCV 2019, Sec. 3.2, Eq. 1-2), where each position attends to the H + W - 1
// positions of its own column and row (itself once) instead of all H * W.
//
// The keys of position u = (i, j), numbered t = 0 .. H+W-2:
//   t <  H-1:  the column, (i', j) with i' = t for t < i, else t + 1   (u itself skipped)
//   t >= H-1:  the row,    (i, j') with j' = t - (H-1)                  (u itself included)
//
//   criss_cross_logits:  E[n,i,j,t] = sum_c Q[n,c,i,j] * K[n,c,key(i,j,t)]          Eq. 1 ("affinity")
//     Q, K (N, C, H, W) -> E (N, H, W, H+W-1)
//   criss_cross_sum:     out[n,c,i,j] = sum_t A[n,i,j,t] * V[n,c,key(i,j,t)]       Eq. 2 ("aggregation")
//     A (N, H, W, H+W-1), V (N, C, H, W) -> out (N, C, H, W)
// Between them the layer takes the softmax over t (layers/criss_cross.h).
//
// Backward, each product read the other way round:
//   logits:  dQ[n,c,i,j]          += sum_t dE[n,i,j,t] * K[n,c,key(i,j,t)]
//            dK[n,c,key(i,j,t)]   += dE[n,i,j,t] * Q[n,c,i,j]
//   sum:     dA[n,i,j,t]          += sum_c dout[n,c,i,j] * V[n,c,key(i,j,t)]
//            dV[n,c,key(i,j,t)]   += A[n,i,j,t] * dout[n,c,i,j]
//
// Why ops of their own: the same products composed of existing ops need the column and the row
// as two batched matrix products over permuted copies, a mask of -inf on the column's diagonal
// and a concatenation, which hides the "row and column" of the paper behind the data movement.
// Here the loops read as Eq. 1 and 2, and at CCNet's size in cc_resnet20 (8x8 positions, 15 keys
// each) they cost little next to the convolutions. The sum (C = 64 values against the logits'
// C/8 queries) runs on each image's values turned to (HW, C), so a key adds a row of channels.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/ops/lane_sum.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

struct CrissCross {
  int64_t N, C, H, W;
  int64_t keys() const { return H + W - 1; }
  // key[u * T + t]: the flat index of key t of position u, worked out once per call
  std::vector<int64_t> key_table() const {
    std::vector<int64_t> key(static_cast<size_t>(H * W * keys()));
    for (int64_t u = 0; u < H * W; u++)
      for (int64_t t = 0; t < keys(); t++) key[static_cast<size_t>(u * keys() + t)] = criss_cross_key(u, t, H, W);
    return key;
  }
};

// ---- kernels: every image on its own, so the loops over n run in parallel ----

void criss_cross_logits_forward(real* E, const real* Q, const real* K, const CrissCross& s) {
  const int64_t HW = s.H * s.W, T = s.keys();
  const std::vector<int64_t> key = s.key_table();
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t u = 0; u < HW; u++)
        for (int64_t t = 0; t < T; t++) {
          const int64_t v = key[static_cast<size_t>(u * T + t)];
          real e = 0;
          for (int64_t c = 0; c < s.C; c++) e += Q[(n * s.C + c) * HW + u] * K[(n * s.C + c) * HW + v];
          E[(n * HW + u) * T + t] = e;
        }
  });
}

void criss_cross_logits_backward(real* dQ, real* dK, const real* dE, const real* Q, const real* K,
                                 const CrissCross& s) {
  const int64_t HW = s.H * s.W, T = s.keys();
  const std::vector<int64_t> key = s.key_table();
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t u = 0; u < HW; u++)
        for (int64_t t = 0; t < T; t++) {
          const int64_t v = key[static_cast<size_t>(u * T + t)];
          const real g = dE[(n * HW + u) * T + t];
          for (int64_t c = 0; c < s.C; c++) {
            if (dQ) dQ[(n * s.C + c) * HW + u] += g * K[(n * s.C + c) * HW + v];
            if (dK) dK[(n * s.C + c) * HW + v] += g * Q[(n * s.C + c) * HW + u];
          }
        }
  });
}

// The sum's values are read as one image's (HW, C): each position's C channels side by side, so
// that a key contributes a whole row of channels at once (a loop the compiler vectorises), where
// the (C, HW) layout gathers one value per channel and key. transpose_matrix turns (C, HW) into
// (HW, C) and back; add_transposed_matrix adds the result instead of writing it.
void transpose_matrix(real* dst, const real* src, int64_t rows, int64_t cols) {  // dst (cols, rows) = src^T
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}
void add_transposed_matrix(real* dst, const real* src, int64_t rows, int64_t cols) {  // dst (cols, rows) += src^T
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) dst[c * rows + r] += src[r * cols + c];
}

// Images per parallel task: each task turns its images' values around in buffers of its own.
constexpr int64_t images_per_task = 8;

// out_t[u, :] = sum_t A[u, t] * V_t[key(u, t), :], then out = out_t as (C, HW)
void criss_cross_sum_forward(real* out, const real* A, const real* V, const CrissCross& s) {
  const int64_t C = s.C, HW = s.H * s.W, T = s.keys();
  const std::vector<int64_t> key = s.key_table();
  parallel_for(s.N, images_per_task, [&](int64_t n0, int64_t n1) {
    std::vector<real> V_t(static_cast<size_t>(HW * C)), out_t(static_cast<size_t>(HW * C));
    for (int64_t n = n0; n < n1; n++) {
      transpose_matrix(V_t.data(), V + n * C * HW, C, HW);
      for (int64_t u = 0; u < HW; u++) {
        real* o = out_t.data() + u * C;
        std::fill(o, o + C, real{0});
        for (int64_t t = 0; t < T; t++) {
          const real a = A[(n * HW + u) * T + t];
          const real* v = V_t.data() + key[static_cast<size_t>(u * T + t)] * C;
          for (int64_t c = 0; c < C; c++) o[c] += a * v[c];
        }
      }
      transpose_matrix(out + n * C * HW, out_t.data(), HW, C);
    }
  });
}

// dA[u, t] += dout_t[u, :] . V_t[key, :];  dV_t[key, :] += A[u, t] * dout_t[u, :], then dV += dV_t
void criss_cross_sum_backward(real* dA, real* dV, const real* dout, const real* A, const real* V, const CrissCross& s) {
  const int64_t C = s.C, HW = s.H * s.W, T = s.keys();
  const std::vector<int64_t> key = s.key_table();
  parallel_for(s.N, images_per_task, [&](int64_t n0, int64_t n1) {
    const auto size = static_cast<size_t>(HW * C);
    std::vector<real> dout_t(size), V_t(dA ? size : 0), dV_t(dV ? size : 0);
    for (int64_t n = n0; n < n1; n++) {
      transpose_matrix(dout_t.data(), dout + n * C * HW, C, HW);
      if (dA) transpose_matrix(V_t.data(), V + n * C * HW, C, HW);
      std::fill(dV_t.begin(), dV_t.end(), real{0});
      for (int64_t u = 0; u < HW; u++) {
        const real* g = dout_t.data() + u * C;
        for (int64_t t = 0; t < T; t++) {
          const int64_t v = key[static_cast<size_t>(u * T + t)];
          if (dA)
            dA[(n * HW + u) * T + t] += lane_sum(C, [g, vt = V_t.data() + v * C](int64_t c) { return g[c] * vt[c]; });
          if (dV) {
            const real a = A[(n * HW + u) * T + t];
            real* dv = dV_t.data() + v * C;
            for (int64_t c = 0; c < C; c++) dv[c] += a * g[c];
          }
        }
      }
      if (dV) add_transposed_matrix(dV + n * C * HW, dV_t.data(), HW, C);
    }
  });
}

// ---- autograd glue ----

struct CrissCrossLogitsBackward : Node {
  Tensor Q, K;  // detached
  CrissCross s;
  std::string name() const override { return "criss_cross_logits"; }
  void backward(const Tensor& dE) override {
    criss_cross_logits_backward(needs_grad(0) ? input_grad(0).data() : nullptr,
                                needs_grad(1) ? input_grad(1).data() : nullptr, dE.data(), Q.data(), K.data(), s);
  }
};

struct CrissCrossSumBackward : Node {
  Tensor A, V;  // detached
  CrissCross s;
  std::string name() const override { return "criss_cross_sum"; }
  void backward(const Tensor& dout) override {
    criss_cross_sum_backward(needs_grad(0) ? input_grad(0).data() : nullptr,
                             needs_grad(1) ? input_grad(1).data() : nullptr, dout.data(), A.data(), V.data(), s);
  }
};

}  // namespace

int64_t criss_cross_key(int64_t u, int64_t t, int64_t H, int64_t W) {
  const int64_t i = u / W, j = u % W;
  if (t < H - 1) return (t < i ? t : t + 1) * W + j;  // the column, u itself skipped
  return i * W + (t - (H - 1));                       // the row
}

Tensor criss_cross_logits(const Tensor& Q, const Tensor& K) {
  if (Q.dim() != 4 || Q.shape() != K.shape())
    fail("criss_cross_logits: expects queries and keys of one shape (N, C, H, W), got " + shape_str(Q.shape()) +
         " and " + shape_str(K.shape()));
  CrissCross s{.N = Q.size(0), .C = Q.size(1), .H = Q.size(2), .W = Q.size(3)};
  Tensor E = Tensor::empty({s.N, s.H, s.W, s.keys()});
  criss_cross_logits_forward(E.data(), Q.data(), K.data(), s);
  auto node = std::make_shared<CrissCrossLogitsBackward>();
  node->Q = Q.detach();
  node->K = K.detach();
  node->s = s;
  return record(E, node, {Q, K});
}

Tensor criss_cross_sum(const Tensor& A, const Tensor& V) {
  if (V.dim() != 4 || A.shape() != Shape{V.size(0), V.size(2), V.size(3), V.size(2) + V.size(3) - 1})
    fail("criss_cross_sum: expects weights (N, H, W, H+W-1) for values (N, C, H, W), got " + shape_str(A.shape()) +
         " and " + shape_str(V.shape()));
  CrissCross s{.N = V.size(0), .C = V.size(1), .H = V.size(2), .W = V.size(3)};
  Tensor out = Tensor::empty(V.shape());
  criss_cross_sum_forward(out.data(), A.data(), V.data(), s);
  auto node = std::make_shared<CrissCrossSumBackward>();
  node->A = A.detach();
  node->V = V.detach();
  node->s = s;
  return record(out, node, {A, V});
}

}  // namespace glimpse
