// conv2d's path for a pointwise convolution (1x1, stride 1, no padding; attention56's
// bottlenecks): the reference's GEMMs without im2col or col2im. choose_path() in conv2d.cpp takes
// it for the forward and the backward.
//
//   out[n,k,i] = b[k] + sum_c w[k,c] * x[n,c,i]        i = one of the H*W positions (OH = H, OW = W)
//
// Why: im2col of such a convolution copies x[n] unchanged (row c, column i), so cols is x[n]
// itself, seen as (C, H*W), and the products read the image in place:
//
//   out[n] = w @ x[n] + b       // (K, C) @ (C, H*W) -> (K, H*W)
//   dw    += dout[n] @ x[n]^T   // (K, H*W) @ (H*W, C) -> (K, C), summed over n
//   dx[n] += w^T @ dout[n]      // (C, K) @ (K, H*W) -> (C, H*W), added straight into dx: dcols is dx[n]
//
// bench/PERF.md has the measurements.
#include "engine/blas.h"
#include "engine/ops/conv2d.h"
#include "engine/parallel.h"

namespace glimpse {

// ---- the batch (Note [conv2d: chunks of images per task]) ----

void pointwise_gemm_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* out_n = out + n * g.K * g.cols();                                      // (K, H*W)
        if (b) fill_bias(out_n, b, g);                                               // out_n = b, broadcast
        gemm_serial(false, false, g.K, g.cols(), g.C, 1, w, g.C,                     // out_n (+)= w @ x[n]
                    x + n * g.C * g.H * g.W, g.cols(), b ? 1 : 0, out_n, g.cols());  // beta 0 without bias
      }
  });
}

// dx or dw may be null
void pointwise_gemm_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const int64_t dw_size = g.K * g.C;
  Scratch dw_partials(dw ? chunks.count * dw_size : 0, real{0});  // one (K, C) per chunk
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        const real* dout_n = dout + n * g.K * g.cols();  // (K, H*W)
        const int64_t image = n * g.C * g.H * g.W;       // x[n], dx[n]: (C, H*W)
        if (dw)
          gemm_serial(false, true, g.K, g.C, g.cols(), 1, dout_n, g.cols(),  // dw_chunk += dout_n @ x[n]^T
                      x + image, g.cols(), 1, dw_partials.data() + chunk * dw_size, g.C);
        if (dx)
          gemm_serial(true, false, g.C, g.cols(), g.K, 1, w, g.C,  // dx[n] += w^T @ dout_n
                      dout_n, g.cols(), 1, dx + image, g.cols());
      }
  });
  if (dw) add_chunk_partials(dw, dw_partials.data(), chunks.count, dw_size);
}

}  // namespace glimpse
