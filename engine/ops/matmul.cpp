// Matrix product of 2-D tensors, with either operand read transposed.
//
//   C = op(A) op(B)        op(A) (M, K), op(B) (K, N), C (M, N);  op(X) = X or X^T
//
// Backward, from dC (M, N):
//   d op(A) = dC op(B)^T   (M, K)        d op(B) = op(A)^T dC   (K, N)
// and where an operand was read transposed its gradient is the transpose of that:
//   A stored (M, K):  dA += dC op(B)^T           A stored (K, M):  dA += op(B) dC^T
//   B stored (K, N):  dB += op(A)^T dC           B stored (N, K):  dB += dC^T op(A)
// Each is one gemm that reads its operands transposed in place (no transposed copies) and adds
// into the gradient buffer (beta = 1).
//
// bmm(a, b) is the same product for a batch of B independent pairs, a (B, ., .) and b (B, ., .):
// C[i] = op(A[i]) op(B[i]), with the same backward per pair. Attention is made of such products
// (queries against keys, weights against values), each small, so the batch is what runs in
// parallel: one single-threaded gemm per pair.
//
// linear(x, w, b) = x w^T + b,  x (N, in), w (out, in), b (out): matmul then a broadcast add,
// so it needs no node of its own (its backward is theirs: dx = dy w, dw = dy^T x, db = sum_N dy).
#include <string>

#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

// The gradients of C = op(A) op(B) for one pair; `product` is gemm or gemm_serial.
template <typename Gemm>
void matmul_backward(const Gemm& product, const real* dC, const real* A, const real* B, real* dA, real* dB,
                     bool transpose_a, bool transpose_b, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb) {
  if (dA) {
    if (!transpose_a)  // dA (M, K) += dC (M, N) op(B)^T (N, K)
      product(false, !transpose_b, M, K, N, 1, dC, N, B, ldb, 1, dA, K);
    else  // dA (K, M) += op(B) (K, N) dC^T (N, M)
      product(transpose_b, true, K, M, N, 1, B, ldb, dC, N, 1, dA, M);
  }
  if (dB) {
    if (!transpose_b)  // dB (K, N) += op(A)^T (K, M) dC (M, N)
      product(!transpose_a, false, K, N, M, 1, A, lda, dC, N, 1, dB, N);
    else  // dB (N, K) += dC^T (N, M) op(A) (M, K)
      product(true, transpose_a, N, K, M, 1, dC, N, A, lda, 1, dB, K);
  }
}

struct MatmulBackward : Node {
  // saved inputs, detached: dA reads B and dB reads A, so each is saved only if the other
  // operand needs a gradient (a linear layer's weight gradient keeps x, its dx keeps w)
  Tensor A, B;
  bool transpose_a, transpose_b;
  int64_t batch, M, N, K;  // batch 0: the 2-D matmul; else bmm's number of pairs
  std::string name() const override { return batch ? "bmm" : "matmul"; }
  void backward(const Tensor& dC) override {
    const int64_t lda = input_shape(0).back(), ldb = input_shape(1).back();  // row strides as stored
    real* dA = needs_grad(0) ? input_grad(0).data() : nullptr;
    real* dB = needs_grad(1) ? input_grad(1).data() : nullptr;
    if (batch == 0) {
      matmul_backward(gemm, dC.data(), dB ? A.data() : nullptr, dA ? B.data() : nullptr, dA, dB, transpose_a,
                      transpose_b, M, N, K, lda, ldb);
      return;
    }
    parallel_for(batch, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++)
        matmul_backward(gemm_serial, dC.data() + i * M * N, dB ? A.data() + i * M * K : nullptr,
                        dA ? B.data() + i * K * N : nullptr, dA ? dA + i * M * K : nullptr,
                        dB ? dB + i * K * N : nullptr, transpose_a, transpose_b, M, N, K, lda, ldb);
    });
  }
};

std::string operand_str(const Tensor& t, bool transposed) { return shape_str(t.shape()) + (transposed ? "^T" : ""); }

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  if (a.dim() != 2 || b.dim() != 2)
    fail("matmul: expects 2-D tensors, got " + operand_str(a, transpose_a) + " x " + operand_str(b, transpose_b));
  const int64_t M = transpose_a ? a.size(1) : a.size(0), K = transpose_a ? a.size(0) : a.size(1);
  const int64_t N = transpose_b ? b.size(0) : b.size(1), Kb = transpose_b ? b.size(1) : b.size(0);
  if (K != Kb)
    fail("matmul: inner sizes differ (" + std::to_string(K) + " vs " + std::to_string(Kb) + ") in " +
         operand_str(a, transpose_a) + " x " + operand_str(b, transpose_b));
  Tensor C = Tensor::empty({M, N});
  if (K == 0)
    C = Tensor::zeros({M, N});  // an empty sum; gemm is not asked to handle it
  else
    gemm(transpose_a, transpose_b, M, N, K, 1, a.data(), a.size(1), b.data(), b.size(1), 0, C.data(), N);
  auto node = std::make_shared<MatmulBackward>();
  node->transpose_a = transpose_a;
  node->transpose_b = transpose_b;
  node->batch = 0, node->M = M, node->N = N, node->K = K;
  if (b.requires_grad()) node->A = a.detach();
  if (a.requires_grad()) node->B = b.detach();
  return record(C, node, {a, b},
                OpSettings().with_int("transpose_a", transpose_a).with_int("transpose_b", transpose_b));
}

Tensor bmm(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  if (a.dim() != 3 || b.dim() != 3 || a.size(0) != b.size(0))
    fail("bmm: expects 3-D tensors with the same batch size, got " + operand_str(a, transpose_a) + " x " +
         operand_str(b, transpose_b));
  const int64_t batch = a.size(0);
  const int64_t M = transpose_a ? a.size(2) : a.size(1), K = transpose_a ? a.size(1) : a.size(2);
  const int64_t N = transpose_b ? b.size(1) : b.size(2), Kb = transpose_b ? b.size(2) : b.size(1);
  if (K != Kb)
    fail("bmm: inner sizes differ (" + std::to_string(K) + " vs " + std::to_string(Kb) + ") in " +
         operand_str(a, transpose_a) + " x " + operand_str(b, transpose_b));
  Tensor C = Tensor::zeros({batch, M, N});
  if (K > 0 && batch > 0)
    parallel_for(batch, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++)  // C[i] = op(A[i]) op(B[i])
        gemm_serial(transpose_a, transpose_b, M, N, K, 1, a.data() + i * M * K, a.size(2), b.data() + i * K * N,
                    b.size(2), 0, C.data() + i * M * N, N);
    });
  auto node = std::make_shared<MatmulBackward>();
  node->transpose_a = transpose_a;
  node->transpose_b = transpose_b;
  node->batch = batch, node->M = M, node->N = N, node->K = K;
  if (b.requires_grad()) node->A = a.detach();
  if (a.requires_grad()) node->B = b.detach();
  return record(C, node, {a, b},
                OpSettings().with_int("transpose_a", transpose_a).with_int("transpose_b", transpose_b));
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1))
    fail("linear: expects x (N, in) and w (out, in), got x " + shape_str(x.shape()) + ", w " + shape_str(w.shape()));
  if (b.defined() && b.shape() != Shape{w.size(0)})
    fail("linear: bias must be (out) = (" + std::to_string(w.size(0)) + "), got " + shape_str(b.shape()));
  Tensor y = matmul(x, w, false, /*transpose_b=*/true);  // (N, in) (in, out) -> (N, out)
  return b.defined() ? add(y, b) : y;                    // + b broadcast over N
}

}  // namespace glimpse
