// What conv2d's paths share (engine/ops/conv2d.cpp has the math and choose_path(), which picks
// one): the shape of a call, the choice, the split of the batch into chunks, and the scratch
// memory. Not part of the public API (that is conv2d() in engine/ops.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "engine/tensor.h"

namespace glimpse {

struct ConvShape {
  int64_t N, C, H, W;  // input
  int64_t K, KH, KW;   // weight
  int64_t OH, OW;      // output
  int64_t stride, padding;
  int64_t rows() const { return C * KH * KW; }  // rows of cols
  int64_t cols() const { return OH * OW; }      // columns of cols: one per output position
};

// The loops that compute a convolution; conv2d.cpp's header says why each exists.
enum class ConvolutionPath {
  im2col_gemm,         // the reference: im2col of each image, then one GEMM    (conv2d.cpp)
  pointwise_gemm,      // 1x1, stride 1, no padding: the GEMMs read x in place  (conv2d_pointwise.cpp)
  direct_few_outputs,  // K <= 2 output channels: loops over input rows         (conv2d_few_outputs.cpp)
  direct_3x3,          // 3x3, stride 1 or 2, padding 1: register-blocked, padded x  (conv2d_3x3.cpp)
};

// The forward's path and the backward's (dx and dw): they differ only for the blocked 3x3
// kernel, whose backward needs C to be a multiple of 16 as well (the 3-channel stem does not).
struct ConvolutionPaths {
  ConvolutionPath forward, backward;
};
ConvolutionPaths choose_path(const ConvShape& g);  // conv2d.cpp

// The 3x3 kernel packs its weights in runs of 16 output channels (forward) or input channels
// (input gradient), which its register blocks tile (conv2d_3x3.cpp): it takes multiples of 16.
constexpr int64_t conv3x3_block = 16;

// ---- the paths other than the reference, each forward and backward on the whole batch ----
// out (N, K, OH, OW) = b + conv(x, w), b may be null. dx (N, C, H, W) and dw (K, C, KH, KW) are
// added to; either may be null when that gradient is not wanted (dx of the first layer).

void pointwise_gemm_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g);
void pointwise_gemm_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g);
void direct_few_outputs_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g);
void direct_few_outputs_backward(real* dx, real* dw, const real* dout, const real* x, const real* w,
                                 const ConvShape& g);
void direct_3x3_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g);
void direct_3x3_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g);

// ---- helpers of every path ----

// Output positions o in [0, out) that read input position o*s - p + k inside [0, size):
// the rest read the zero padding. The range is [first, last).
inline std::pair<int64_t, int64_t> inside_range(int64_t k, int64_t size, int64_t out, int64_t s, int64_t p) {
  int64_t first = 0, last = out;
  while (first < last && first * s - p + k < 0) first++;
  while (last > first && (last - 1) * s - p + k >= size) last--;
  return {first, last};
}

// The batch split into chunks of consecutive images; a fixed split, whatever the thread count
// (Note [conv2d: chunks of images per task]).
struct ImageChunks {
  int64_t per_chunk, count;
  explicit ImageChunks(int64_t N) : per_chunk((N + 15) / 16), count(N == 0 ? 0 : (N + per_chunk - 1) / per_chunk) {}
  int64_t begin(int64_t chunk) const { return chunk * per_chunk; }
  int64_t end(int64_t chunk, int64_t N) const { return std::min(N, (chunk + 1) * per_chunk); }
};

// Scratch memory for one call, taken from the storage cache (Note [The storage cache] in
// engine/storage_cache.cpp) like a tensor's: a training step asks for the same sizes every time,
// and the cache hands the same blocks back, where glibc may return a large freed block to the OS
// and fault it in again on the next call.
class Scratch {
 public:
  explicit Scratch(int64_t count) : block_(count) {}  // uninitialised
  Scratch(int64_t count, real value) : block_(count) { std::fill(data(), data() + count, value); }
  real* data() { return block_.data(); }

 private:
  Storage block_;
};

// out_n (K, OH*OW) = b[k] on every row k, or 0 without a bias
inline void fill_bias(real* out_n, const real* b, const ConvShape& g) {
  for (int64_t k = 0; k < g.K; k++) std::fill(out_n + k * g.cols(), out_n + (k + 1) * g.cols(), b ? b[k] : real{0});
}

// dw += the chunks' partial sums (count of them, `size` values each) in chunk order: the same dw
// whatever the thread count
inline void add_chunk_partials(real* dw, const real* partials, int64_t count, int64_t size) {
  for (int64_t chunk = 0; chunk < count; chunk++)
    for (int64_t i = 0; i < size; i++) dw[i] += partials[chunk * size + i];
}

}  // namespace glimpse
