// Matrix multiply, the engine's only door to OpenBLAS (cblas.h is included nowhere else).
//
//   C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C,   row-major,
//   op(X) = X or X^T as trans_a / trans_b say; lda, ldb, ldc are the row strides as stored.
//
// Large products are cut into row blocks of C that oneTBB runs in parallel, each block one
// single-threaded cblas_sgemm (see parallel.h for why OpenBLAS itself runs on one thread).
#pragma once

#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace glimpse {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, real alpha, const real* A, int64_t lda,
          const real* B, int64_t ldb, real beta, real* C, int64_t ldc);

// The same product on the calling thread only: for code that is already inside a parallel loop.
void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, real alpha, const real* A, int64_t lda,
                 const real* B, int64_t ldb, real beta, real* C, int64_t ldc);

void blas_use_one_thread();

// The kernels OpenBLAS chose for this CPU as it loaded ("Haswell" for AVX2, "SkylakeX" for
// AVX-512, ...), or the ones the environment variable OPENBLAS_CORETYPE forced.
std::string blas_kernels();

}  // namespace glimpse
