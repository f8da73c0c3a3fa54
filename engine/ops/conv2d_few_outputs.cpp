// conv2d's path for one or two output channels (K <= 2; CBAM's spatial attention, 2 -> 1, 7x7):
// direct loops, no im2col. choose_path() in conv2d.cpp takes it for the forward and the backward.
//
// Why: with K <= 2 the reference's product w @ cols has one or two rows. im2col writes C*KH*KW
// values per output position that the GEMM then reads once, col2im reads as many back, and OpenBLAS
// runs such a thin product far below its peak. These loops read x and dout in place instead, one
// input row at a time (the loops of im2col, with the product folded in):
//
//   forward  out[k, oh, :]    += w[k,c,kh,kw] * x[c, ih, :]        (ih = oh*s - p + kh)
//   dx       dx[c, ih, :]     += w[k,c,kh,kw] * dout[k, oh, :]
//   dw       dw[k,c,kh,kw]    += dot(dout[k, oh, :], x[c, ih, :])
//
// where ':' is the run of output columns ow whose input column ow*s - p + kw is inside the image.
// bench/PERF.md has the measurements.
#include <algorithm>

#include "engine/ops/conv2d.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

// ---- kernels: one image ----

// y[i * incy] += a * x[i * incx] for i in [0, n): BLAS's axpy. The contiguous case gets a loop
// of its own, which the compiler vectorises.
void axpy(int64_t n, real a, const real* x, int64_t incx, real* y, int64_t incy) {
  if (incx == 1 && incy == 1)
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
  else
    for (int64_t i = 0; i < n; i++) y[i * incy] += a * x[i * incx];
}

// out (K, OH, OW) += sum_{c,kh,kw} w[k,c,kh,kw] * x[c, oh*s-p+kh, ow*s-p+kw]: for each tap
// (k, c, kh, kw) and output row oh, one axpy of the input row ih over the columns [ow0, ow1)
// that read inside the image (the rest read zero padding and add nothing).
void forward_one_image(real* out, const real* x, const real* w, const ConvShape& g) {
  const int64_t s = g.stride, p = g.padding;
  for (int64_t k = 0; k < g.K; k++)
    for (int64_t c = 0; c < g.C; c++)
      for (int64_t kh = 0; kh < g.KH; kh++)
        for (int64_t kw = 0; kw < g.KW; kw++) {
          const real weight = w[((k * g.C + c) * g.KH + kh) * g.KW + kw];
          auto [ow0, ow1] = inside_range(kw, g.W, g.OW, s, p);
          for (int64_t oh = 0; oh < g.OH; oh++) {
            const int64_t ih = oh * s - p + kh;
            if (ih < 0 || ih >= g.H || ow0 >= ow1) continue;
            const real* in = x + (c * g.H + ih) * g.W + ow0 * s - p + kw;  // x[c, ih, ow0*s-p+kw]
            axpy(ow1 - ow0, weight, in, s, out + (k * g.OH + oh) * g.OW + ow0, 1);
          }
        }
}

// dx (C, H, W) += w[k,c,kh,kw] * dout[k, oh, ow] at pixel (oh*s-p+kh, ow*s-p+kw), the same runs
// as the forward with the axpy reversed; dw[k,c,kh,kw] += sum_{oh,ow} dout[k,oh,ow] * x[c, ih, iw],
// summed per column into `row_sums` (OW) first: a float sum in one chain does not vectorise.
// Either of dx and dw may be null.
void backward_one_image(real* dx, real* dw, real* row_sums, const real* dout, const real* x, const real* w,
                        const ConvShape& g) {
  const int64_t s = g.stride, p = g.padding;
  for (int64_t k = 0; k < g.K; k++)
    for (int64_t c = 0; c < g.C; c++)
      for (int64_t kh = 0; kh < g.KH; kh++)
        for (int64_t kw = 0; kw < g.KW; kw++) {
          const int64_t tap = ((k * g.C + c) * g.KH + kh) * g.KW + kw;
          auto [ow0, ow1] = inside_range(kw, g.W, g.OW, s, p);
          std::fill(row_sums, row_sums + g.OW, real{0});
          for (int64_t oh = 0; oh < g.OH; oh++) {
            const int64_t ih = oh * s - p + kh;
            if (ih < 0 || ih >= g.H || ow0 >= ow1) continue;
            const int64_t pixel = (c * g.H + ih) * g.W + ow0 * s - p + kw;  // (c, ih, ow0*s-p+kw)
            const real* d = dout + (k * g.OH + oh) * g.OW + ow0;
            if (dx) axpy(ow1 - ow0, w[tap], d, 1, dx + pixel, s);
            if (dw)
              for (int64_t i = 0; i < ow1 - ow0; i++) row_sums[i] += d[i] * x[pixel + i * s];
          }
          if (dw)
            for (int64_t i = 0; i < g.OW; i++) dw[tap] += row_sums[i];
        }
}

}  // namespace

// ---- the batch (Note [conv2d: chunks of images per task]) ----

// out (N, K, OH, OW) = b + the loops above, for each image n
void direct_few_outputs_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* out_n = out + n * g.K * g.cols();                   // (K, OH*OW)
        fill_bias(out_n, b, g);                                   // out_n = b (or 0), broadcast
        forward_one_image(out_n, x + n * g.C * g.H * g.W, w, g);  // out_n += w (*) x[n]
      }
  });
}

// dx (N, C, H, W) += the loops above for each image n; dw (K, C, KH, KW) += their sum over n, per
// chunk first; dx or dw may be null.
void direct_few_outputs_backward(real* dx, real* dw, const real* dout, const real* x, const real* w,
                                 const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const int64_t dw_size = g.K * g.rows();
  Scratch dw_partials(dw ? chunks.count * dw_size : 0, real{0});  // one (K, C*KH*KW) per chunk
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch row_sums(g.OW);
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* dx_n = dx ? dx + n * g.C * g.H * g.W : nullptr;
        real* dw_chunk = dw ? dw_partials.data() + chunk * dw_size : nullptr;
        backward_one_image(dx_n, dw_chunk, row_sums.data(), dout + n * g.K * g.cols(), x + n * g.C * g.H * g.W, w, g);
      }
  });
  if (dw) add_chunk_partials(dw, dw_partials.data(), chunks.count, dw_size);
}

}  // namespace glimpse
