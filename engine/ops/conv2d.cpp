// conv2d: a 2-D convolution (cross-correlation, as in every framework).
//
//   x (N, C, H, W), w (K, C, KH, KW), b (K) or none, stride s, padding p (zeros on every side)
//   out[n,k,oh,ow] = b[k] + sum_{c,kh,kw} w[k,c,kh,kw] * x[n, c, oh*s - p + kh, ow*s - p + kw]
//   OH = (H + 2p - KH) / s + 1,  OW = (W + 2p - KW) / s + 1   (floor)
//
// backward, from dout (N, K, OH, OW): each term w[k,c,kh,kw] * x[n,c,ih,iw] of the sum, with
// ih = oh*s - p + kh and iw = ow*s - p + kw inside the image, sends dout[n,k,oh,ow] back to both
// factors:
//
//   dx[n,c,ih,iw] += w[k,c,kh,kw] * dout[n,k,oh,ow]
//   dw[k,c,kh,kw] += x[n,c,ih,iw] * dout[n,k,oh,ow]
//   db[k]         += dout[n,k,oh,ow]
//
// The reference, in this file, is im2col + GEMM (ggml, Caffe): im2col copies, for one image, every
// input value each output position sees into a column, so that the whole convolution of that image
// becomes one matrix product, and its backward two more:
//
//   cols   = im2col(x[n])      // (C*KH*KW, OH*OW): row (c,kh,kw), column (oh,ow)
//   out[n] = w @ cols + b      // (K, C*KH*KW) @ (C*KH*KW, OH*OW) -> (K, OH*OW), already NCHW
//   dw    += dout[n] @ cols^T  // (K, OH*OW) @ (OH*OW, C*KH*KW) -> (K, C*KH*KW), summed over n
//   dcols  = w^T @ dout[n]     // (C*KH*KW, K) @ (K, OH*OW) -> (C*KH*KW, OH*OW)
//   dx[n] += col2im(dcols)     // add each entry back onto the input pixel it was copied from
//
// Three other paths compute the same sums where im2col + GEMM wastes its time, each in a file of
// its own whose header has its math. choose_path() below picks the path from the shape alone, so a
// shape always takes the same one (ConvolutionPath in conv2d.h):
//
//   pointwise_gemm      1x1, stride 1, no padding (conv2d_pointwise.cpp): cols would be x[n]
//                       itself, so the GEMMs read the image in place, no im2col or col2im
//   direct_few_outputs  K <= 2 (conv2d_few_outputs.cpp): a GEMM of one or two rows would read each
//                       copied value once; loops over the input rows read x and dout in place
//   direct_3x3          3x3, stride 1 or 2, padding 1, K a multiple of 16 (conv2d_3x3.cpp):
//                       ResNet's 3x3 layers, where OpenBLAS gets thin products to repack for
//                       every image after a 9-fold copy; 16 x 16 blocks of sums in registers
//                       instead. Its backward needs C a multiple of 16 too, else it is im2col + GEMM.
//
// The tests check every path against the definition; bench/PERF.md has the measurements that
// chose them.
//
// Note [conv2d: chunks of images per task]
// The batch is cut into a fixed number of chunks of images (ImageChunks), and each parallel task
// runs the products of its images with gemm_serial on a cols buffer of its own. The other layout,
// one cols of (C*KH*KW, N*OH*OW) for the whole batch and one large parallel GEMM (plus a transpose
// of its (K, N*OH*OW) result to NCHW), was measured slower in every case: its cols (75 MB for
// N=128, C=16, 32x32) leaves the cache, a per-image cols (0.6 MB) stays in it.
//
// The weight gradient is summed over the images of a chunk into that chunk's own partial, and
// the partials are added in chunk order afterwards: no atomics, and since the chunks do not
// depend on the thread count, neither does dw. cols is not saved by the forward (it would be
// KH*KW*OH*OW / (H*W) times the size of x, about KH*KW); the backward recomputes it, which costs one copy of memory per
// image against a GEMM.
#include "engine/ops/conv2d.h"

#include <algorithm>

#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

// ---- the reference: im2col + GEMM ----

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

// dx (C, H, W) += col2im(dcols): the transpose of im2col, each entry added back onto its pixel.
// Only the rows and columns that land inside the image are visited (the padding's gradient goes
// nowhere). The shape is read into locals and dx and dcols are known apart (__restrict), so the
// inner loop is vectorised without reloading them or checking for overlap on every short row.
void col2im(real* __restrict dx, const real* __restrict dcols, const ConvShape& g) {
  const int64_t C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW, OH = g.OH, OW = g.OW;
  const int64_t s = g.stride, p = g.padding;
  for (int64_t c = 0; c < C; c++)
    for (int64_t kh = 0; kh < KH; kh++)
      for (int64_t kw = 0; kw < KW; kw++) {
        const real* row = dcols + ((c * KH + kh) * KW + kw) * OH * OW;
        const auto [oh0, oh1] = inside_range(kh, H, OH, s, p);
        const auto [ow0, ow1] = inside_range(kw, W, OW, s, p);
        for (int64_t oh = oh0; oh < oh1; oh++) {
          real* in = dx + (c * H + oh * s - p + kh) * W;  // row ih = oh*s - p + kh of channel c
          const real* out = row + oh * OW;
          for (int64_t ow = ow0; ow < ow1; ow++) in[ow * s - p + kw] += out[ow];
        }
      }
}

// out (N, K, OH*OW) = w (K, C*KH*KW) @ im2col(x[n]) + b, for each image n
void im2col_gemm_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch cols(g.rows() * g.cols());  // (C*KH*KW, OH*OW)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* out_n = out + n * g.K * g.cols();                             // (K, OH*OW)
        if (b) fill_bias(out_n, b, g);                                      // out_n = b, broadcast
        im2col(cols.data(), x + n * g.C * g.H * g.W, g);                    // cols = im2col(x[n])
        gemm_serial(false, false, g.K, g.cols(), g.rows(), 1, w, g.rows(),  // out_n (+)= w @ cols
                    cols.data(), g.cols(), b ? 1 : 0, out_n, g.cols());     // beta 0 without bias: out_n not read
      }
  });
}

// dx (N, C, H, W) += col2im(w^T @ dout[n]), dw (K, C*KH*KW) += sum_n dout[n] @ im2col(x[n])^T;
// dx or dw may be null when that gradient is not wanted (dx of the first layer).
void im2col_gemm_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const int64_t dw_size = g.K * g.rows();
  Scratch dw_partials(dw ? chunks.count * dw_size : 0, real{0});  // one (K, C*KH*KW) per chunk
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch cols(g.rows() * g.cols());  // cols, then dcols: (C*KH*KW, OH*OW)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        const real* dout_n = dout + n * g.K * g.cols();  // (K, OH*OW)
        if (dw) {
          im2col(cols.data(), x + n * g.C * g.H * g.W, g);                        // cols = im2col(x[n])
          gemm_serial(false, true, g.K, g.rows(), g.cols(), 1, dout_n, g.cols(),  // dw_chunk += dout_n @ cols^T
                      cols.data(), g.cols(), 1, dw_partials.data() + chunk * dw_size, g.rows());
        }
        if (dx) {
          gemm_serial(true, false, g.rows(), g.cols(), g.K, 1, w, g.rows(),  // dcols = w^T @ dout_n
                      dout_n, g.cols(), 0, cols.data(), g.cols());
          col2im(dx + n * g.C * g.H * g.W, cols.data(), g);  // dx[n] += col2im(dcols)
        }
      }
  });
  if (dw) add_chunk_partials(dw, dw_partials.data(), chunks.count, dw_size);
}

// db (K) += sum over n, oh, ow of dout (N, K, OH*OW): the bias gradient of every path
// A channel per task: each db[k] adds its images' sums in the order one thread would.
void bias_backward(real* db, const real* dout, const ConvShape& g) {
  parallel_for(g.K, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++)
      for (int64_t n = 0; n < g.N; n++) {
        const real* row = dout + (n * g.K + k) * g.cols();
        real total = 0;
        for (int64_t i = 0; i < g.cols(); i++) total += row[i];
        db[k] += total;
      }
  });
}

}  // namespace

// ---- the choice of path ----

ConvolutionPaths choose_path(const ConvShape& g) {
  using Path = ConvolutionPath;
  constexpr int64_t few_outputs = 2;
  if (g.K <= few_outputs) return {Path::direct_few_outputs, Path::direct_few_outputs};
  if (g.KH == 3 && g.KW == 3 && (g.stride == 1 || g.stride == 2) && g.padding == 1 && g.K % conv3x3_block == 0)
    return {Path::direct_3x3, g.C % conv3x3_block == 0 ? Path::direct_3x3 : Path::im2col_gemm};
  if (g.KH == 1 && g.KW == 1 && g.stride == 1 && g.padding == 0) return {Path::pointwise_gemm, Path::pointwise_gemm};
  return {Path::im2col_gemm, Path::im2col_gemm};
}

namespace {

// out (N, K, OH, OW) = b + conv(x, w) by the forward's path
void conv2d_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  switch (choose_path(g).forward) {
    case ConvolutionPath::im2col_gemm:
      return im2col_gemm_forward(out, x, w, b, g);
    case ConvolutionPath::pointwise_gemm:
      return pointwise_gemm_forward(out, x, w, b, g);
    case ConvolutionPath::direct_few_outputs:
      return direct_few_outputs_forward(out, x, w, b, g);
    case ConvolutionPath::direct_3x3:
      return direct_3x3_forward(out, x, w, b, g);
  }
}

// dx (N, C, H, W) and dw (K, C, KH, KW) += their gradients by the backward's path; either may be null
void conv2d_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g) {
  switch (choose_path(g).backward) {
    case ConvolutionPath::im2col_gemm:
      return im2col_gemm_backward(dx, dw, dout, x, w, g);
    case ConvolutionPath::pointwise_gemm:
      return pointwise_gemm_backward(dx, dw, dout, x, w, g);
    case ConvolutionPath::direct_few_outputs:
      return direct_few_outputs_backward(dx, dw, dout, x, w, g);
    case ConvolutionPath::direct_3x3:
      return direct_3x3_backward(dx, dw, dout, x, w, g);
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
    if (has_bias && needs_grad(2)) bias_backward(input_grad(2).data(), dout.data(), g);
  }
};

ConvShape conv_shape(const Tensor& x, const Tensor& w, const Tensor& b, Conv2dOptions options) {
  if (x.dim() != 4) fail("conv2d: input must be (N, C, H, W), got " + shape_str(x.shape()));
  if (w.dim() != 4) fail("conv2d: weight must be (K, C, KH, KW), got " + shape_str(w.shape()));
  if (w.size(1) != x.size(1))
    fail("conv2d: weight " + shape_str(w.shape()) + " expects " + std::to_string(w.size(1)) +
         " input channels, input " + shape_str(x.shape()) + " has " + std::to_string(x.size(1)));
  if (b.defined() && b.shape() != Shape{w.size(0)})
    fail("conv2d: bias must be (" + std::to_string(w.size(0)) + ") for weight " + shape_str(w.shape()) + ", got " +
         shape_str(b.shape()));
  if (options.stride < 1 || options.padding < 0)
    fail("conv2d: stride must be >= 1 and padding >= 0, got stride " + std::to_string(options.stride) + ", padding " +
         std::to_string(options.padding));
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

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Conv2dOptions options) {
  const ConvShape g = conv_shape(x, w, b, options);
  Tensor out = Tensor::empty({g.N, g.K, g.OH, g.OW});
  conv2d_forward(out.data(), x.data(), w.data(), b.defined() ? b.data() : nullptr, g);
  auto node = std::make_shared<Conv2dBackward>();
  node->x = x.detach();
  node->w = w.detach();
  node->g = g;
  node->has_bias = b.defined();
  return record(out, node, {x, w, b},
                OpSettings().with_int("stride", options.stride).with_int("padding", options.padding));
}

}  // namespace glimpse
