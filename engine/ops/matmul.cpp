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
// linear(x, w, b) = x w^T + b,  x (N, in), w (out, in), b (out): matmul then a broadcast add,
// so it needs no node of its own (its backward is theirs: dx = dy w, dw = dy^T x, db = sum_N dy).
#include <string>

#include "engine/blas.h"
#include "engine/ops.h"

namespace glimpse {

namespace {

struct MatmulBackward : Node {
  // saved inputs, detached: dA reads B and dB reads A, so each is saved only if the other
  // operand needs a gradient (a linear layer's weight gradient keeps x, its dx keeps w)
  Tensor A, B;
  bool transpose_a, transpose_b;
  int64_t M, N, K;
  std::string name() const override { return "matmul"; }
  void backward(const Tensor& dC) override {
    const int64_t lda = input_shape(0)[1], ldb = input_shape(1)[1];  // row strides as stored
    if (needs_grad(0)) {
      real* dA = input_grad(0).data();
      if (!transpose_a)  // dA (M, K) += dC (M, N) op(B)^T (N, K)
        gemm(false, !transpose_b, M, K, N, 1, dC.data(), N, B.data(), ldb, 1, dA, K);
      else  // dA (K, M) += op(B) (K, N) dC^T (N, M)
        gemm(transpose_b, true, K, M, N, 1, B.data(), ldb, dC.data(), N, 1, dA, M);
    }
    if (needs_grad(1)) {
      real* dB = input_grad(1).data();
      if (!transpose_b)  // dB (K, N) += op(A)^T (K, M) dC (M, N)
        gemm(!transpose_a, false, K, N, M, 1, A.data(), lda, dC.data(), N, 1, dB, N);
      else  // dB (N, K) += dC^T (N, M) op(A) (M, K)
        gemm(true, transpose_a, N, K, M, 1, dC.data(), N, A.data(), lda, 1, dB, K);
    }
  }
};

std::string operand_str(const Tensor& t, bool transposed) {
  return shape_str(t.shape()) + (transposed ? "^T" : "");
}

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
  if (K == 0) C = Tensor::zeros({M, N});  // an empty sum; gemm is not asked to handle it
  else gemm(transpose_a, transpose_b, M, N, K, 1, a.data(), a.size(1), b.data(), b.size(1), 0, C.data(), N);
  auto node = std::make_shared<MatmulBackward>();
  node->transpose_a = transpose_a;
  node->transpose_b = transpose_b;
  node->M = M, node->N = N, node->K = K;
  if (b.requires_grad()) node->A = a.detach();
  if (a.requires_grad()) node->B = b.detach();
  return record(C, node, {a, b});
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1))
    fail("linear: expects x (N, in) and w (out, in), got x " + shape_str(x.shape()) + ", w " + shape_str(w.shape()));
  if (b.defined() && b.shape() != Shape{w.size(0)})
    fail("linear: bias must be (out) = (" + std::to_string(w.size(0)) + "), got " + shape_str(b.shape()));
  Tensor y = matmul(x, w, false, /*transpose_b=*/true);  // (N, in) (in, out) -> (N, out)
  return b.defined() ? add(y, b) : y;                      // + b broadcast over N
}

}  // namespace glimpse
