#include "engine/blas.h"

#include <algorithm>

#include <cblas.h>

#include "engine/parallel.h"

namespace glimpse {

void blas_use_one_thread() { openblas_set_num_threads(1); }

std::string blas_kernels() { return openblas_get_corename(); }

void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, real alpha, const real* A, int64_t lda,
                 const real* B, int64_t ldb, real beta, real* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B,
              static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, real alpha, const real* A, int64_t lda,
          const real* B, int64_t ldb, real beta, real* C, int64_t ldc) {
  num_threads();  // make sure the threading policy is in force before the first product
  const int64_t work = M * N * K;
  if (work < (int64_t{1} << 18)) {  // small: not worth a task
    gemm_serial(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (M >= N) {  // split the rows of C: rows of op(A)
    const int64_t block = std::max<int64_t>(16, (M + 7) / 8);
    const int64_t blocks = (M + block - 1) / block;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) {
        int64_t m0 = b * block, m = std::min(block, M - m0);
        const real* A_block = trans_a ? A + m0 : A + m0 * lda;  // op(A) rows m0.. are A's columns if transposed
        gemm_serial(trans_a, trans_b, m, N, K, alpha, A_block, lda, B, ldb, beta, C + m0 * ldc, ldc);
      }
    });
  } else {  // split the columns of C: columns of op(B)
    const int64_t block = std::max<int64_t>(16, (N + 7) / 8);
    const int64_t blocks = (N + block - 1) / block;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; b++) {
        int64_t n0 = b * block, n = std::min(block, N - n0);
        const real* B_block = trans_b ? B + n0 * ldb : B + n0;
        gemm_serial(trans_a, trans_b, M, n, K, alpha, A, lda, B_block, ldb, beta, C + n0, ldc);
      }
    });
  }
}

}  // namespace glimpse
