// conv2d: a 2-D convolution (cross-correlation, as in every framework) by im2col + GEMM; the
// common 3x3 ResNet layer by direct kernels instead (Note [conv2d: direct 3x3]).
//
//   x (N, C, H, W), w (K, C, KH, KW), b (K) or none, stride s, padding p (zeros on every side)
//   out[n,k,oh,ow] = b[k] + sum_{c,kh,kw} w[k,c,kh,kw] * x[n, c, oh*s - p + kh, ow*s - p + kw]
//   OH = (H + 2p - KH) / s + 1,  OW = (W + 2p - KW) / s + 1   (floor)
//
// im2col copies, for one image, every input value each output position sees into a column, so
// that the whole convolution of that image becomes one matrix product (ggml, Caffe):
//
//   cols   = im2col(x[n])      // (C*KH*KW, OH*OW): row (c,kh,kw), column (oh,ow)
//   out[n] = w @ cols + b      // (K, C*KH*KW) @ (C*KH*KW, OH*OW) -> (K, OH*OW), already NCHW
//
// backward, differentiating the line above (dout[n] is (K, OH*OW)):
//
//   dw    += dout[n] @ cols^T  // (K, OH*OW) @ (OH*OW, C*KH*KW) -> (K, C*KH*KW), summed over n
//   dcols  = w^T @ dout[n]     // (C*KH*KW, K) @ (K, OH*OW) -> (C*KH*KW, OH*OW)
//   dx[n] += col2im(dcols)     // add each entry back onto the input pixel it was copied from
//   db[k] += sum_{n,oh,ow} dout[n,k,oh,ow]
//
// Note [conv2d: one image per task]
// The batch is cut into a fixed number of chunks of images, and each parallel task runs the
// products of its images with gemm_serial on a cols buffer of its own. The other layout, one
// cols of (C*KH*KW, N*OH*OW) for the whole batch and one large parallel GEMM (plus a transpose
// of its (K, N*OH*OW) result to NCHW), was measured slower in every case: its cols (75 MB for
// N=128, C=16, 32x32) leaves the cache, a per-image cols (0.6 MB) stays in it. Milliseconds of
// CPU time (both threads together) for forward + backward, 2 threads, best of 15, on the shared
// 2-core machine (without input gradient for the first layers, C = 1 or 3):
//
//   N    C->K   HxW    k/s/p    one image per task   batched GEMM
//   128  3->16  32x32  3/1/1        2.5 +  3.3        3.3 +  4.2
//   128 16->16  32x32  3/1/1       12.8 + 30.7       20.1 + 50.2
//   128 16->32  32x32  3/2/1        5.5 + 11.9        6.9 + 15.6
//   128 32->32  16x16  3/1/1       10.6 + 22.0       15.0 + 34.1
//   128 32->64  16x16  3/2/1        2.9 +  8.6        4.6 +  9.6
//   128 64->64   8x8   3/1/1        8.6 + 16.7       10.6 + 19.6
//   128 16->32  32x32  1/2/0        0.7 +  1.7        0.9 +  2.3
//    64  1->32  28x28  5/1/2        1.3 +  1.6        1.5 +  2.1
//    64 32->64  14x14  5/1/2       17.3 + 34.9       22.3 + 46.6
//
// A 1x1 convolution with stride 1 and no padding (attention56's bottlenecks) skips im2col and
// col2im: cols is the image itself. On four such layers (N=128; 64->16 and 16->64 at 32x32,
// 256->64 and 64->256 at 8x8) that cut the CPU time from 57 to 41 ms, so it stays.
//
// The weight gradient is summed over the images of a chunk into that chunk's own partial, and
// the partials are added in chunk order afterwards: no atomics, and since the chunks do not
// depend on the thread count, neither does dw. cols is not saved by the forward (it would be
// C*KH*KW times the size of x); the backward recomputes it, which costs one copy of memory per
// image against a GEMM.
//
// Note [conv2d: direct for few output channels]
// With K <= direct_max_channels output channels (CBAM's spatial attention: 2 -> 1, 7x7) the
// product w @ cols has one or two rows: im2col writes C*KH*KW values per output position that
// the GEMM then reads once, col2im reads as many back, and OpenBLAS runs such a thin product
// far below its peak. The direct loops below read x and dout in place instead, one input row
// at a time (the loops of im2col, with the product folded in):
//
//   forward  out[k, oh, :]    += w[k,c,kh,kw] * x[c, ih, :]        (ih = oh*s - p + kh)
//   dx       dx[c, ih, :]     += w[k,c,kh,kw] * dout[k, oh, :]
//   dw       dw[k,c,kh,kw]    += dot(dout[k, oh, :], x[c, ih, :])
//
// where ':' is the run of output columns ow whose input column ow*s - p + kw is inside the image.
// cbam_resnet20 (batch 128, 1 thread, A B A B): 631, 614 -> 598, 603 ms of CPU time per step.
//
// Note [conv2d: direct 3x3]
// ResNet's common layer, 3x3 with stride 1 and padding 1 and 16, 32 or 64 channels on each side,
// gives OpenBLAS thin products (K = 16..64 rows, C*9 = 144..576 inner) that it packs anew for
// every image, after im2col has copied the image 9 times. conv2d_direct.cpp computes it directly
// on the zero-padded image with 16 x 16 blocks of sums kept in registers (its header has the math
// and the blocking): the forward when K is a multiple of 16, and, when C is one too, dx (the same
// kernel on the padded dout, by the weight transposed and flipped) and dw (a sum over positions,
// 16 output channels to a vector). The stem (3 -> 16) runs the forward directly and its weight
// gradient by im2col + GEMM: a direct dw with C = 3 measured 3 % slower. Everything else (stride 2,
// 1x1, 5x5, 7x7, K not a multiple of 16) keeps im2col + GEMM.
//
// bench_gemm --threads 1 (batch 128, CPU ms, OpenBLAS's own kernels), im2col + GEMM -> direct:
//
//   C->K   HxW      forward         backward (dw + dx)
//   16->16 32x32   10.38 -> 4.09    25.68 -> 10.97
//   32->32 16x16    7.29 -> 3.81    15.83 ->  8.12
//   64->64  8x8     6.33 -> 4.17    12.17 ->  8.83
//   3->16  32x32    1.35 -> 0.90    (im2col both)
//   all convolutions of one step: 456 -> 247 ms, 68.7 -> 126.9 GFLOP/s
//
// Also faster on maps of 2x2 and 4x4 (64->64: 0.90 -> 0.82 and 2.40 -> 1.67 ms forward), so no
// size limit. Whole training steps, 1 thread, CPU ms per step, A B A B A B on the shared machine:
//
//   bench/ab_step.sh resnet20 5 3 BEFORE AFTER         648, 592, 688 -> 414, 491, 383
//   bench/ab_step.sh cbam_resnet20 5 3 BEFORE AFTER    896, 837, 885 -> 787, 672, 664
//   bench/ab_step.sh attention56 2 3 BEFORE AFTER     2305, 2471, 2227 -> 2021, 1818, 2054
#include <algorithm>

#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/ops/conv2d_direct.h"
#include "engine/parallel.h"

namespace glimpse {

struct ConvShape {
  int64_t N, C, H, W;      // input
  int64_t K, KH, KW;       // weight
  int64_t OH, OW;          // output
  int64_t stride, padding;
  int64_t rows() const { return C * KH * KW; }  // rows of cols
  int64_t cols() const { return OH * OW; }      // columns of cols: one per output position
  bool pointwise() const { return KH == 1 && KW == 1 && stride == 1 && padding == 0; }  // cols = x itself
  bool direct() const { return K <= direct_max_channels; }  // Note [conv2d: direct for few output channels]
  static constexpr int64_t direct_max_channels = 2;
  // Note [conv2d: direct 3x3]: the forward when K is a multiple of 16, the backward when C is too
  bool direct3x3() const {
    return KH == 3 && KW == 3 && stride == 1 && padding == 1 && K % detail::conv3x3_block == 0 && !direct();
  }
  bool direct3x3_backward() const { return direct3x3() && C % detail::conv3x3_block == 0; }
  detail::PaddedGrid grid() const { return {H, W}; }  // for direct3x3: OH = H, OW = W
};

// Output positions o in [0, out) that read input position o*s - p + k inside [0, size):
// the rest read the zero padding. The range is [first, last).
static std::pair<int64_t, int64_t> inside_range(int64_t k, int64_t size, int64_t out, int64_t s, int64_t p) {
  int64_t first = 0, last = out;
  while (first < last && first * s - p + k < 0) first++;
  while (last > first && (last - 1) * s - p + k >= size) last--;
  return {first, last};
}

// ---- kernels: one image ----

// cols (C*KH*KW, OH*OW) from x (C, H, W): cols[(c,kh,kw), (oh,ow)] = x[c, oh*s-p+kh, ow*s-p+kw], 0 outside
void im2col(real* cols, const real* x, const ConvShape& g) {
  const int64_t s = g.stride, p = g.padding;
  for (int64_t c = 0; c < g.C; c++)
    for (int64_t kh = 0; kh < g.KH; kh++)
      for (int64_t kw = 0; kw < g.KW; kw++) {
        real* row = cols + ((c * g.KH + kh) * g.KW + kw) * g.cols();
        auto [ow0, ow1] = inside_range(kw, g.W, g.OW, s, p);
        for (int64_t oh = 0; oh < g.OH; oh++) {
          real* out = row + oh * g.OW;
          const int64_t ih = oh * s - p + kh;
          if (ih < 0 || ih >= g.H) {
            std::fill(out, out + g.OW, real{0});
            continue;
          }
          const real* in = x + (c * g.H + ih) * g.W;  // input row ih of channel c
          std::fill(out, out + ow0, real{0});
          if (s == 1)  // the common case: a contiguous run, copied as a block
            std::copy(in + ow0 - p + kw, in + ow1 - p + kw, out + ow0);
          else
            for (int64_t ow = ow0; ow < ow1; ow++) out[ow] = in[ow * s - p + kw];
          std::fill(out + ow1, out + g.OW, real{0});
        }
      }
}

// dx (C, H, W) += col2im(dcols): the transpose of im2col, each entry added back onto its pixel
void col2im(real* dx, const real* dcols, const ConvShape& g) {
  const int64_t s = g.stride, p = g.padding;
  for (int64_t c = 0; c < g.C; c++)
    for (int64_t kh = 0; kh < g.KH; kh++)
      for (int64_t kw = 0; kw < g.KW; kw++) {
        const real* row = dcols + ((c * g.KH + kh) * g.KW + kw) * g.cols();
        auto [ow0, ow1] = inside_range(kw, g.W, g.OW, s, p);
        for (int64_t oh = 0; oh < g.OH; oh++) {
          const int64_t ih = oh * s - p + kh;
          if (ih < 0 || ih >= g.H) continue;  // a padding pixel: its gradient goes nowhere
          real* in = dx + (c * g.H + ih) * g.W;
          const real* out = row + oh * g.OW;
          if (s == 1)  // contiguous: the compiler vectorises this loop
            for (int64_t ow = ow0; ow < ow1; ow++) in[ow - p + kw] += out[ow];
          else
            for (int64_t ow = ow0; ow < ow1; ow++) in[ow * s - p + kw] += out[ow];
        }
      }
}

// ---- kernels: one image, direct (Note [conv2d: direct for few output channels]) ----

// y[i * incy] += a * x[i * incx] for i in [0, n): BLAS's axpy. The contiguous case gets a loop
// of its own, which the compiler vectorises.
static void axpy(int64_t n, real a, const real* x, int64_t incx, real* y, int64_t incy) {
  if (incx == 1 && incy == 1)
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
  else
    for (int64_t i = 0; i < n; i++) y[i * incy] += a * x[i * incx];
}

// out (K, OH, OW) += sum_{c,kh,kw} w[k,c,kh,kw] * x[c, oh*s-p+kh, ow*s-p+kw]: for each tap
// (k, c, kh, kw) and output row oh, one axpy of the input row ih over the columns [ow0, ow1)
// that read inside the image (the rest read zero padding and add nothing).
void conv2d_direct_forward(real* out, const real* x, const real* w, const ConvShape& g) {
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
void conv2d_direct_backward(real* dx, real* dw, real* row_sums, const real* dout, const real* x, const real* w,
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

// Scratch memory for one call, taken from the storage cache (Note [The storage cache] in
// engine/tensor.cpp) like a tensor's: a training step asks for the same sizes every time, and the
// cache hands the same blocks back, where glibc may return a large freed block to the OS and
// fault it in again on the next call.
class Scratch {
 public:
  explicit Scratch(int64_t count) : block_(count) {}  // uninitialised
  Scratch(int64_t count, real value) : block_(count) { std::fill(data(), data() + count, value); }
  real* data() { return block_.data(); }

 private:
  Storage block_;
};

// ---- kernels: the batch (Note [conv2d: one image per task]) ----

// The batch split into chunks of consecutive images; a fixed split, whatever the thread count.
struct ImageChunks {
  int64_t per_chunk, count;
  explicit ImageChunks(int64_t N) : per_chunk((N + 15) / 16), count(N == 0 ? 0 : (N + per_chunk - 1) / per_chunk) {}
  int64_t begin(int64_t chunk) const { return chunk * per_chunk; }
  int64_t end(int64_t chunk, int64_t N) const { return std::min(N, (chunk + 1) * per_chunk); }
};

// The cols of one image x_n (C, H, W): im2col into `scratch`, or, for a pointwise convolution
// (1x1, stride 1, no padding), the image itself seen as (C, H*W), with no copy at all.
static const real* image_cols(real* scratch, const real* x_n, const ConvShape& g) {
  if (g.pointwise()) return x_n;
  im2col(scratch, x_n, g);
  return scratch;
}

// out (N, K, H, W) = b + conv3x3(pad(x[n])), for each image n (Note [conv2d: direct 3x3])
static void conv2d_direct3x3_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const detail::PaddedGrid grid = g.grid();
  Scratch packed(g.K * g.C * 9);  // w as (K/16, C, 3, 3, 16)
  detail::conv3x3_pack_weight(packed.data(), w, g.K, g.C);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch x_padded(grid.padded_size(g.C), real{0});  // (C, H+2, W+2): the border stays 0
    Scratch out_grid(g.K * grid.positions());  // (K, positions)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* out_n = out + n * g.K * g.cols();                                   // (K, H, W)
        for (int64_t k = 0; k < g.K; k++)                                         // out_n = b (or 0), broadcast
          std::fill(out_n + k * g.cols(), out_n + (k + 1) * g.cols(), b ? b[k] : real{0});
        detail::conv3x3_pad(x_padded.data(), x + n * g.C * g.H * g.W, g.C, grid);  // x_padded = pad(x[n])
        detail::conv3x3_padded(out_grid.data(), x_padded.data(), packed.data(), g.C, g.K, grid);
        detail::conv3x3_add_unpadded(out_n, out_grid.data(), g.K, grid);         // out_n += out_grid
      }
  });
}

// out (N, K, OH*OW) = w (K, C*KH*KW) @ im2col(x[n]) + b, for each image n
void conv2d_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  if (g.direct3x3()) return conv2d_direct3x3_forward(out, x, w, b, g);
  const ImageChunks chunks(g.N);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch scratch(g.pointwise() || g.direct() ? 0 : g.rows() * g.cols());  // cols
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* out_n = out + n * g.K * g.cols();                                   // (K, OH*OW)
        const real* x_n = x + n * g.C * g.H * g.W;                                 // (C, H, W)
        if (g.direct()) {
          for (int64_t k = 0; k < g.K; k++)                                        // out_n = b (or 0), broadcast
            std::fill(out_n + k * g.cols(), out_n + (k + 1) * g.cols(), b ? b[k] : real{0});
          conv2d_direct_forward(out_n, x_n, w, g);                                 // out_n += w (*) x_n
          continue;
        }
        for (int64_t k = 0; b && k < g.K; k++)                                     // out_n = b, broadcast
          std::fill(out_n + k * g.cols(), out_n + (k + 1) * g.cols(), b[k]);
        const real* cols = image_cols(scratch.data(), x_n, g);                      // (C*KH*KW, OH*OW)
        gemm_serial(false, false, g.K, g.cols(), g.rows(), 1, w, g.rows(),        // out_n (+)= w @ cols
                    cols, g.cols(), b ? 1 : 0, out_n, g.cols());  // beta 0 without bias: out_n not read
      }
  });
}

// dx (N, C, H, W) += conv3x3(pad(dout[n])) by w transposed and flipped, dw (K, C, 3, 3) += the sum
// over n and the padded grid's positions (Note [conv2d: direct 3x3]); dx or dw may be null.
static void conv2d_direct3x3_backward(real* dx, real* dw, const real* dout, const real* x, const real* w,
                                      const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const detail::PaddedGrid grid = g.grid();
  const int64_t dw_size = g.K * g.C * 9;
  Scratch dw_partials(dw ? chunks.count * dw_size : 0, real{0});  // one (K/16, C, 3, 3, 16) per chunk
  Scratch w_flipped(dx ? dw_size : 0);                              // (C/16, K, 3, 3, 16)
  if (dx) detail::conv3x3_pack_weight_flipped(w_flipped.data(), w, g.K, g.C);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch x_padded(dw ? grid.padded_size(g.C) : 0, real{0});     // (C, H+2, W+2): the border stays 0
    Scratch dout_t(dw ? g.H * grid.row() * g.K : 0, real{0});      // (H*row, K): 0 past each row's end
    Scratch dout_padded(dx ? grid.padded_size(g.K) : 0, real{0});  // (K, H+2, W+2): the border stays 0
    Scratch dx_grid(dx ? g.C * grid.positions() : 0);  // (C, positions)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        const real* dout_n = dout + n * g.K * g.cols();  // (K, H, W)
        if (dw) {  // dw_chunk += sum_q dout_t[q, k] * x_padded[c, q + kh*row + kw]
          detail::conv3x3_pad(x_padded.data(), x + n * g.C * g.H * g.W, g.C, grid);
          detail::conv3x3_transpose_grad(dout_t.data(), dout_n, g.K, grid);
          detail::conv3x3_weight_grad(dw_partials.data() + chunk * dw_size, dout_t.data(), x_padded.data(), g.C, g.K,
                                      grid);
        }
        if (dx) {  // dx[n] += conv3x3(pad(dout_n)) by the flipped, transposed weight
          detail::conv3x3_pad(dout_padded.data(), dout_n, g.K, grid);
          detail::conv3x3_padded(dx_grid.data(), dout_padded.data(), w_flipped.data(), g.K, g.C, grid);
          detail::conv3x3_add_unpadded(dx + n * g.C * g.H * g.W, dx_grid.data(), g.C, grid);
        }
      }
  });
  if (dw)  // the chunks' partials in a fixed order: the same dw whatever the thread count
    for (int64_t chunk = 0; chunk < chunks.count; chunk++)
      detail::conv3x3_unpack_weight_add(dw, dw_partials.data() + chunk * dw_size, g.K, g.C);
}

// dx (N, C, H, W) += col2im(w^T @ dout[n]), dw (K, C*KH*KW) += sum_n dout[n] @ im2col(x[n])^T;
// dx or dw may be null when that gradient is not wanted (dx of the first layer).
void conv2d_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g) {
  if (g.direct3x3_backward()) return conv2d_direct3x3_backward(dx, dw, dout, x, w, g);
  const ImageChunks chunks(g.N);
  const int64_t dw_size = g.K * g.rows();
  Scratch dw_partials(dw ? chunks.count * dw_size : 0, real{0});  // one (K, C*KH*KW) per chunk
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    const int64_t scratch_size = g.direct() ? g.OW : g.pointwise() ? 0 : g.rows() * g.cols();
    Scratch scratch(scratch_size);  // cols, then dcols (direct: row sums)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        const real* dout_n = dout + n * g.K * g.cols();                        // (K, OH*OW)
        if (g.direct()) {
          real* dx_n = dx ? dx + n * g.C * g.H * g.W : nullptr;
          real* dw_chunk = dw ? dw_partials.data() + chunk * dw_size : nullptr;
          conv2d_direct_backward(dx_n, dw_chunk, scratch.data(), dout_n, x + n * g.C * g.H * g.W, w, g);
          continue;
        }
        if (dw) {
          const real* cols = image_cols(scratch.data(), x + n * g.C * g.H * g.W, g);  // (C*KH*KW, OH*OW)
          gemm_serial(false, true, g.K, g.rows(), g.cols(), 1, dout_n, g.cols(),  // dw_chunk += dout_n @ cols^T
                      cols, g.cols(), 1, dw_partials.data() + chunk * dw_size, g.rows());
        }
        if (dx && g.pointwise()) {  // cols was x[n] itself, so dcols is dx[n]: add straight into it
          gemm_serial(true, false, g.rows(), g.cols(), g.K, 1, w, g.rows(),    // dx[n] += w^T @ dout_n
                      dout_n, g.cols(), 1, dx + n * g.C * g.H * g.W, g.cols());
        } else if (dx) {
          gemm_serial(true, false, g.rows(), g.cols(), g.K, 1, w, g.rows(),    // dcols = w^T @ dout_n
                      dout_n, g.cols(), 0, scratch.data(), g.cols());
          col2im(dx + n * g.C * g.H * g.W, scratch.data(), g);                  // dx[n] += col2im(dcols)
        }
      }
  });
  if (dw)  // the chunks' partials in a fixed order: the same dw whatever the thread count
    for (int64_t chunk = 0; chunk < chunks.count; chunk++)
      for (int64_t i = 0; i < dw_size; i++) dw[i] += dw_partials.data()[chunk * dw_size + i];
}

// db (K) += sum over n, oh, ow of dout (N, K, OH*OW)
void conv2d_bias_backward(real* db, const real* dout, const ConvShape& g) {
  for (int64_t n = 0; n < g.N; n++)
    for (int64_t k = 0; k < g.K; k++) {
      const real* row = dout + (n * g.K + k) * g.cols();
      real total = 0;
      for (int64_t i = 0; i < g.cols(); i++) total += row[i];
      db[k] += total;
    }
}

// ---- autograd glue ----

struct Conv2dBackward : Node {
  Tensor x, w;  // saved inputs: dw needs x (to rebuild cols), dx needs w
  ConvShape g;
  bool has_bias = false;
  std::string name() const override { return "conv2d"; }
  void backward(const Tensor& dout) override {
    real* dx = needs_grad(0) ? input_grad(0).data() : nullptr;
    real* dw = needs_grad(1) ? input_grad(1).data() : nullptr;
    if (dx || dw) conv2d_backward(dx, dw, dout.data(), x.data(), w.data(), g);
    if (has_bias && needs_grad(2)) conv2d_bias_backward(input_grad(2).data(), dout.data(), g);
  }
};

static ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor& b, Conv2dOptions options) {
  if (x.dim() != 4) fail("conv2d: input must be (N, C, H, W), got " + shape_str(x.shape()));
  if (w.dim() != 4) fail("conv2d: weight must be (K, C, KH, KW), got " + shape_str(w.shape()));
  if (w.size(1) != x.size(1))
    fail("conv2d: weight " + shape_str(w.shape()) + " expects " + std::to_string(w.size(1)) +
         " input channels, input " + shape_str(x.shape()) + " has " + std::to_string(x.size(1)));
  if (b.defined() && b.shape() != Shape{w.size(0)})
    fail("conv2d: bias must be (" + std::to_string(w.size(0)) + ") for weight " + shape_str(w.shape()) +
         ", got " + shape_str(b.shape()));
  if (options.stride < 1 || options.padding < 0)
    fail("conv2d: stride must be >= 1 and padding >= 0, got stride " + std::to_string(options.stride) +
         ", padding " + std::to_string(options.padding));
  ConvShape g{};
  g.N = x.size(0), g.C = x.size(1), g.H = x.size(2), g.W = x.size(3);
  g.K = w.size(0), g.KH = w.size(2), g.KW = w.size(3);
  g.stride = options.stride, g.padding = options.padding;
  if (g.KH > g.H + 2 * g.padding || g.KW > g.W + 2 * g.padding)
    fail("conv2d: kernel " + std::to_string(g.KH) + "x" + std::to_string(g.KW) + " larger than the padded input " +
         shape_str(x.shape()) + " with padding " + std::to_string(g.padding));
  g.OH = (g.H + 2 * g.padding - g.KH) / g.stride + 1;
  g.OW = (g.W + 2 * g.padding - g.KW) / g.stride + 1;
  return g;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Conv2dOptions options) {
  const ConvShape g = conv_shape(x, w, b, options);
  Tensor out = Tensor::empty({g.N, g.K, g.OH, g.OW});
  conv2d_forward(out.data(), x.data(), w.data(), b.defined() ? b.data() : nullptr, g);
  auto node = std::make_shared<Conv2dBackward>();
  node->x = x.detach();
  node->w = w.detach();
  node->g = g;
  node->has_bias = b.defined();
  return record(out, node, {x, w, b});
}

}  // namespace glimpse
