// conv2d's path for ResNet's 3x3 layers: a direct 3x3 convolution (stride 1 or 2, padding 1),
// register-blocked, without im2col. choose_path() in conv2d.cpp takes it for the forward when K is
// a multiple of 16, and for the backward (dx and dw) when C is one too. Stride 2 is the same loop
// over another grid (PaddedGrid), and its input gradient four smaller ones (below).
//
// Why: with 16, 32 or 64 channels on each side, im2col + GEMM gives OpenBLAS thin products
// (K = 16..64 rows, C*9 = 144..576 inner) that it packs anew for every image, after im2col has
// copied the image 9 times; here the sums of a block stay in registers (below). The 3-channel stem
// (3 -> 16) runs its forward here and its backward by im2col + GEMM: the input gradient computes
// 16 input channels per block, and a direct weight gradient alone was no faster there. Small maps
// (2x2, 4x4) gain too, so there is no limit on the map size. bench/PERF.md has the measurements.
//
//   x (C, H, W), w (K, C, 3, 3); one image; at stride 1 the output has the input's size (H, W)
//   (stride 2: PaddedGrid below)
//   out[k, oh, ow] = sum_{c,kh,kw} w[k,c,kh,kw] * x[c, oh-1+kh, ow-1+kw]      (0 outside x)
//
// Padding x once into xpad (C, H+2, W+2) (zeros on the border) removes the bounds tests:
//
//   out[k, oh, ow] = sum_{c,kh,kw} w[k,c,kh,kw] * xpad[c, oh+kh, ow+kw]
//
// Seen as one flat plane, xpad[c, oh+kh, ow+kw] is xpad_c[q + kh*row + kw] with q = oh*row + ow
// and row = W+2: output positions q, q+1, ..., q+15 read 16 consecutive floats for every tap
// (c, kh, kw), even across a row's end. So the kernel computes out at every position q of the
// padded grid's first H rows; q = oh*row + W and oh*row + W+1 are not output pixels (their window
// wraps around into the next row) and are dropped when the result is copied out (PaddedGrid).
//
// Blocking: a block of output channels k0.. by positions q0.., its sums held in registers as
// vectors acc[j][p] (one row of vectors per channel, their lanes consecutive positions). For each
// tap:
//
//   v[p]       = xpad_c[q0 + p*lanes + kh*row + kw .. +lanes]          one load per vector
//   acc[j][p] += w[k0+j, c, kh, kw] * v[p]          for every j, p       a multiply-add each
//
// With AVX-512 (32 registers of 16 floats) a block is 16 channels x 1 vector: 16 accumulators,
// 16 multiply-adds per load. With AVX2 (16 registers of 8 floats) 16 x 2 vectors would need 32
// registers and spill to memory on every tap, so a block is 4 channels x 2 vectors (16
// positions): 8 accumulators, as many multiply-adds as both FMA units keep in flight, beside the
// 2 inputs and a broadcast weight (4 x 3 vectors fill all 16 registers and ran slower,
// bench/PERF.md). Either way the loop runs at the speed of the FMA units, where im2col + GEMM
// first writes each input 9 times into cols and the GEMM then packs cols again. The weights
// w[k0+j, c, kh, kw] are read as scalars broadcast to all lanes, so they are packed once per call
// as (K/16, C, 3, 3, 16): a block reads its weights in order.
//
// The input gradient is the same convolution. In the forward, x[c, ih, iw] meets dout[k, oh, ow]
// through w[k,c,kh,kw] when ih = oh-1+kh and iw = ow-1+kw, so
//
//   dx[c, ih, iw] = sum_{k,kh,kw} w[k,c,kh,kw] * dout[k, ih+1-kh, iw+1-kw]
//                 = sum_{k,kh,kw} w[k,c,2-kh,2-kw] * doutpad[k, ih+kh, iw+kw]
//
// (doutpad: dout padded by 1, as xpad; kh renamed 2-kh): a 3x3 convolution of doutpad by the
// weight transposed (C <-> K) and flipped, which conv3x3_pack_weight_flipped lays out.
//
// The weight gradient is a sum over positions, on the same grid:
//
//   dw[k, c, kh, kw] = sum_q dout_t[q, k] * xpad_c[q + kh*row + kw]
//
// with dout_t[oh*row + ow, k] = dout[k, oh, ow] (dout transposed, zero at ow = W, W+1). Here the
// vector lanes are 16 output channels k0..k0+15 and a block is 2 input channels x 9 taps, 18
// (channel, tap) pairs. A pass keeps the sums of some of the pairs in registers, acc[t][p], across
// the whole loop over q. For each position:
//
//   d[p]       = dout_t[q, k0 + p*lanes .. +lanes]                      16 gradients
//   acc[t][p] += xpad_{c0+cc}[q + kh*row + kw] * d[p]    for the pass's pairs t = (cc, kh, kw)
//
// With AVX-512 one pass holds all 18 pairs (18 accumulators, d one vector); with AVX2 d is two
// vectors and each of three passes holds 6 pairs (12 accumulators, 8 loads per 12 multiply-adds).
// The sums are added once per image to the chunk's partial, in the packed layout (K/16, C, 3, 3, 16),
// and the partials into dw once per call, in chunk order.
#include <algorithm>
#include <array>
#include <cstring>

#include "engine/ops/conv2d.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

// ---- the vectors and the blocks (Blocking, above) ----

// A vector is one register of the widest unit the build targets, its arithmetic (+, *) lane by
// lane (GCC vector extension); memcpy loads and stores it from any address, aligned or not.
// With AVX-512: forward 16 accumulators of the 32 registers, weight gradient 18 in one pass.
// Otherwise (AVX2, or any CPU with 16 vector registers): forward 8 accumulators, the weight
// gradient 12 in each of 3 passes.
#if defined(__AVX512F__)
constexpr int64_t lanes = 16;
constexpr int64_t block_channels = 16, block_vectors = 1;
constexpr int64_t grad_vectors = 1, grad_pairs = 18;
#else
constexpr int64_t lanes = 8;
constexpr int64_t block_channels = 4, block_vectors = 2;
constexpr int64_t grad_vectors = 2, grad_pairs = 6;
#endif
constexpr int64_t block_positions = block_vectors * lanes;
static_assert(conv3x3_block % block_channels == 0 && grad_vectors * lanes == conv3x3_block && 18 % grad_pairs == 0,
              "the blocks tile the packed weights' runs of 16 channels and the 18 (channel, tap) pairs");

typedef float vec __attribute__((vector_size(lanes * sizeof(float))));
static_assert(sizeof(real) == sizeof(float), "vec holds floats");

// Built for a CPU whose registers are narrower than vec, GCC splits it into smaller vectors and
// warns that passing one to a function changes the ABI: harmless for these file-local, inlined helpers.
#pragma GCC diagnostic ignored "-Wpsabi"

vec load_vec(const real* p) {
  vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store_vec(real* p, vec v) { std::memcpy(p, &v, sizeof v); }

// ---- the padded grid ----

// The grid the kernels walk, for stride 1 or 2 (padding 1). Output pixel (oh, ow) sits at
// position q = oh*row + ow, and tap (kh, kw) of its window is read at q + tap[kh*3 + kw]. The
// kernels compute every position of the first OH rows, in whole blocks (`positions()`); the
// last of each row (ow = OW, and OW + 1 at stride 1) straddle the row's end and are thrown away.
//
//   stride 1: the plane padded to (H+2, W+2), row = W+2:  tap (kh, kw) at kh*row + kw
//   stride 2: xpad[2oh+kh, 2ow+kw] = P_{kh%2,kw%2}[oh + kh/2, ow + kw/2], where the padded plane's
//             four parity planes P_ab[i, j] = xpad[2i+a, 2j+b], each (OH+1, OW+1) with row = OW+1,
//             lie one after the other: tap (kh, kw) at (its parity plane's start) + (kh/2)*row + kw/2.
//             The stride-2 convolution is the stride-1 kernel's loop with these offsets.
struct PaddedGrid {
  int64_t H, W, stride;  // the input's size; stride 1 or 2
  int64_t OH, OW;        // the output's
  int64_t row;           // positions per row of the grid
  int64_t parity_plane;  // stride 2: floats of one parity plane
  int64_t plane;         // floats of one channel's padded plane (its four parity planes)
  int64_t tap[9];        // the offset of tap kh*3 + kw from the output position
  int64_t positions() const { return (OH * row + block_positions - 1) / block_positions * block_positions; }
  // floats of a padded buffer of `planes` planes: the last block of the last plane reads up to
  // block_positions + 1 floats past that plane's end (into values only thrown-away positions see)
  int64_t padded_size(int64_t planes) const { return planes * plane + 2 * block_positions; }
};

PaddedGrid padded_grid(int64_t H, int64_t W, int64_t stride) {
  PaddedGrid g{.H = H,
               .W = W,
               .stride = stride,
               .OH = H,
               .OW = W,
               .row = W + 2,
               .parity_plane = 0,
               .plane = (H + 2) * (W + 2),
               .tap = {}};
  if (stride == 2) {
    g.OH = (H - 1) / 2 + 1, g.OW = (W - 1) / 2 + 1;  // (H + 2 - 3) / 2 + 1
    g.row = g.OW + 1;
    g.parity_plane = (g.OH + 1) * g.row;
    g.plane = 4 * g.parity_plane;
  }
  for (int64_t kh = 0; kh < 3; kh++)
    for (int64_t kw = 0; kw < 3; kw++)
      g.tap[kh * 3 + kw] =
          stride == 1 ? kh * g.row + kw : ((kh % 2) * 2 + kw % 2) * g.parity_plane + (kh / 2) * g.row + kw / 2;
  return g;
}

// ---- kernels: one image ----

// packed (K/16, C, 3, 3, 16) from w (K, C, 3, 3): packed[k/16, c, kh, kw, k%16] = w[k, c, kh, kw]
void conv3x3_pack_weight(real* packed, const real* w, int64_t K, int64_t C) {
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t tap = 0; tap < 9; tap++)  // tap = kh*3 + kw
        packed[(((k / conv3x3_block) * C + c) * 9 + tap) * conv3x3_block + k % conv3x3_block] =
            w[(k * C + c) * 9 + tap];
}

// packed (C/16, K, 3, 3, 16) from w (K, C, 3, 3), transposed and flipped (the input gradient's
// weight): packed[c/16, k, kh, kw, c%16] = w[k, c, 2-kh, 2-kw]
void conv3x3_pack_weight_flipped(real* packed, const real* w, int64_t K, int64_t C) {
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t tap = 0; tap < 9; tap++)  // tap (kh, kw) lands on (2-kh, 2-kw): tap 8 - tap
        packed[(((c / conv3x3_block) * K + k) * 9 + 8 - tap) * conv3x3_block + c % conv3x3_block] =
            w[(k * C + c) * 9 + tap];
}

// padded (C, plane) from x (C, H, W). Stride 1: x inside the (H+2, W+2) plane. Stride 2: the four
// parity planes P_ab[i, j] = x[2i+a-1, 2j+b-1]. The zeros (border, parity planes' edges) are not
// written: zero the buffer once.
void conv3x3_pad(real* padded, const real* x, int64_t C, const PaddedGrid& g) {
  for (int64_t c = 0; c < C; c++) {
    const real* x_c = x + c * g.H * g.W;
    real* plane = padded + c * g.plane;
    if (g.stride == 1) {
      for (int64_t h = 0; h < g.H; h++)  // row h of x is row h+1 of the grid, from column 1
        std::copy(x_c + h * g.W, x_c + (h + 1) * g.W, plane + (h + 1) * g.row + 1);
      continue;
    }
    for (int64_t h = 0; h < g.H; h++)    // padded row h+1: parity a = (h+1)%2, row i = (h+1)/2 of P_a0, P_a1
      for (int64_t b = 0; b < 2; b++) {  // P_ab's columns j = (w+1)/2 hold x's columns w = 2j+b-1
        real* parity_row = plane + ((h + 1) % 2 * 2 + b) * g.parity_plane + (h + 1) / 2 * g.row;
        for (int64_t w = 1 - b; w < g.W; w += 2) parity_row[(w + 1) / 2] = x_c[h * g.W + w];
      }
  }
}

// One block: out[k0+j, q0+i] for j < block_channels, i < block_positions, from the padded planes
// seen from position q0 (padded_q0 = padded + q0; planes `plane` floats apart), tap t read at
// tap_offset[t], and the weights of channel k0+j at packed_k0[(c*taps + t)*16 + j] (C*taps runs
// of 16). A 3x3 convolution has 9 taps; the stride-2 input gradient's parity planes 4, 2 or 1.
// The pragmas unroll the loops so that the accumulators stay in registers instead of in memory.
template <int64_t taps>
void conv3x3_one_block(real* out_k0q0, int64_t out_stride, const real* padded_q0, const real* packed_k0, int64_t C,
                       int64_t plane, const int64_t* tap_offset) {
  vec acc[block_channels][block_vectors] = {};
  for (int64_t c = 0; c < C; c++) {
    const real* plane_c = padded_q0 + c * plane;
#pragma GCC unroll 9
    for (int64_t t = 0; t < taps; t++) {
      vec v[block_vectors];  // padded_c[q0+i + tap_offset[t]] for the block's positions i
#pragma GCC unroll 3
      for (int64_t p = 0; p < block_vectors; p++) v[p] = load_vec(plane_c + tap_offset[t] + p * lanes);
      const real* weights = packed_k0 + (c * taps + t) * conv3x3_block;  // w[k0+j, c, tap t]
#pragma GCC unroll 16
      for (int64_t j = 0; j < block_channels; j++)
#pragma GCC unroll 3
        for (int64_t p = 0; p < block_vectors; p++) acc[j][p] += weights[j] * v[p];
    }
  }
#pragma GCC unroll 16
  for (int64_t j = 0; j < block_channels; j++)
#pragma GCC unroll 3
    for (int64_t p = 0; p < block_vectors; p++) store_vec(out_k0q0 + j * out_stride + p * lanes, acc[j][p]);
}

// out (K, positions) = the convolution of padded (C, plane each) by packed (K/16, C, taps, 16),
// tap t at tap_offset[t], at every position q < positions (K a multiple of 16)
template <int64_t taps>
void convolve_padded(real* out, const real* padded, const real* packed, int64_t C, int64_t K, int64_t positions,
                     int64_t plane, const int64_t* tap_offset) {
  for (int64_t k0 = 0; k0 < K; k0 += block_channels) {
    const real* packed_k0 = packed + (k0 / conv3x3_block) * C * taps * conv3x3_block + k0 % conv3x3_block;
    for (int64_t q0 = 0; q0 < positions; q0 += block_positions)
      conv3x3_one_block<taps>(out + k0 * positions + q0, positions, padded + q0, packed_k0, C, plane, tap_offset);
  }
}

// out (K, positions) = 3x3 convolution of the padded grid (C planes) by packed (K/16, C, 3, 3, 16)
void conv3x3_padded(real* out, const real* padded, const real* packed, int64_t C, int64_t K, const PaddedGrid& g) {
  convolve_padded<9>(out, padded, packed, C, K, g.positions(), g.plane, g.tap);
}

// y (K, OH, OW) += out (K, positions): each row's first OW positions, those past its end dropped
void conv3x3_add_unpadded(real* y, const real* out, int64_t K, const PaddedGrid& g) {
  for (int64_t k = 0; k < K; k++)
    for (int64_t h = 0; h < g.OH; h++) {
      real* y_row = y + (k * g.OH + h) * g.OW;
      const real* out_row = out + k * g.positions() + h * g.row;
      for (int64_t w = 0; w < g.OW; w++) y_row[w] += out_row[w];
    }
}

// dout_t (OH*row, K) from dout (K, OH, OW): dout_t[oh*row + ow, k] = dout[k, oh, ow]. The
// positions past each row's end (ow >= OW) are not written: zero them once, they add nothing.
void conv3x3_transpose_grad(real* dout_t, const real* dout, int64_t K, const PaddedGrid& g) {
  for (int64_t k = 0; k < K; k++)
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++) dout_t[(oh * g.row + ow) * K + k] = dout[(k * g.OH + oh) * g.OW + ow];
}

// ---- the input gradient at stride 2: four small convolutions, one per parity plane ----
//
// dx at padded pixel (2i+a, 2j+b) gathers dout[k, oh, ow] through the taps with kh = 2i+a-2oh
// and kw = 2j+b-2ow: the kh of parity a (0 and 2, or 1), the kw of parity b. With doutpad = dout
// padded by 1 (a stride-1 grid of the output's size, row = OW+2):
//
//   dxpad[c, 2i+a, 2j+b] = sum_{k, kh = a mod 2, kw = b mod 2} w[k,c,kh,kw] * doutpad[k, i+1-kh/2, j+1-kw/2]
//
// a convolution of doutpad by 4, 2, 2 or 1 taps for (a, b) = (0,0), (0,1), (1,0), (1,1), computed at
// positions q = i*row + j for i <= OH by the same block kernel, then added into dx.

// One parity plane (a, b) of the input gradient: its taps (kh, kw) in the order their weights
// are packed, where each reads doutpad (tap t at offset[t]: doutpad[k, i+1-kh/2, j+1-kw/2]), and
// its packed weights. Prepared once per call, used for every image.
struct ParityPlane {
  int64_t a = 0, b = 0, count = 0;
  int64_t kh[4] = {}, kw[4] = {}, offset[4] = {};
  const real* packed = nullptr;
};

// packed (C/16, K, taps, 16) from w (K, C, 3, 3): packed[c/16, k, t, c%16] = w[k, c, kh_t, kw_t]
void conv3x3_pack_parity_weight(real* packed, const real* w, int64_t K, int64_t C, const ParityPlane& plane) {
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t t = 0; t < plane.count; t++)
        packed[(((c / conv3x3_block) * K + k) * plane.count + t) * conv3x3_block + c % conv3x3_block] =
            w[(k * C + c) * 9 + plane.kh[t] * 3 + plane.kw[t]];
}

// The four parity planes of w's input gradient, their weights packed one after the other into
// `packed` (4 + 2 + 2 + 1 = 9 taps: the size of w)
std::array<ParityPlane, 4> conv3x3_parity_planes(real* packed, const real* w, int64_t K, int64_t C,
                                                 const PaddedGrid& dout_grid) {
  std::array<ParityPlane, 4> planes;
  for (int64_t a = 0; a < 2; a++)
    for (int64_t b = 0; b < 2; b++) {
      ParityPlane& plane = planes[static_cast<size_t>(a * 2 + b)];
      plane.a = a, plane.b = b;
      for (int64_t kh = a; kh < 3; kh += 2)
        for (int64_t kw = b; kw < 3; kw += 2) {
          plane.kh[plane.count] = kh, plane.kw[plane.count] = kw;
          plane.offset[plane.count++] = (1 - kh / 2) * dout_grid.row + (1 - kw / 2);
        }
      conv3x3_pack_parity_weight(packed, w, K, C, plane);
      plane.packed = packed;
      packed += K * C * plane.count;
    }
  return planes;
}

// The grid of one parity plane's sums: (OH+1) rows of doutpad's row, rounded up to whole blocks
int64_t parity_positions(const PaddedGrid& dout_grid) {
  return ((dout_grid.OH + 1) * dout_grid.row + block_positions - 1) / block_positions * block_positions;
}

// dx_c (C, H, W) += the parity plane (a, b)'s sums, sums[c, i*row + j] at dx pixel (2i+a-1, 2j+b-1)
void conv3x3_add_parity(real* dx, const real* sums, int64_t C, int64_t H, int64_t W, int64_t a, int64_t b,
                        const PaddedGrid& dout_grid) {
  const int64_t positions = parity_positions(dout_grid);
  for (int64_t c = 0; c < C; c++)
    for (int64_t ih = 1 - a; ih < H; ih += 2) {  // ih + 1 = 2i + a
      real* dx_row = dx + (c * H + ih) * W;
      const real* sums_row = sums + c * positions + (ih + 1) / 2 * dout_grid.row;
      for (int64_t iw = 1 - b; iw < W; iw += 2) dx_row[iw] += sums_row[(iw + 1) / 2];
    }
}

// dx (C, H, W) += the stride-2 input gradient of one image, from doutpad (K planes of dout_grid)
// and the four parity planes
void conv3x3_stride2_input_grad(real* dx, real* sums, const real* dout_padded, const std::array<ParityPlane, 4>& planes,
                                int64_t C, int64_t K, int64_t H, int64_t W, const PaddedGrid& dout_grid) {
  const int64_t positions = parity_positions(dout_grid);
  for (const ParityPlane& plane : planes) {
    switch (plane.count) {
      case 4:
        convolve_padded<4>(sums, dout_padded, plane.packed, K, C, positions, dout_grid.plane, plane.offset);
        break;
      case 2:
        convolve_padded<2>(sums, dout_padded, plane.packed, K, C, positions, dout_grid.plane, plane.offset);
        break;
      default:
        convolve_padded<1>(sums, dout_padded, plane.packed, K, C, positions, dout_grid.plane, plane.offset);
        break;
    }
    conv3x3_add_parity(dx, sums, C, H, W, plane.a, plane.b, dout_grid);
  }
}

// One pass of a block: the sums of the (channel, tap) pairs first .. first+grad_pairs-1 of the 18
// pairs pair = cc*9 + kh*3 + kw of input channels c0, c0+1, for output channels k0..k0+15, added
// over the image's positions to dw_k0c0[pair*16 + k] (the packed layout's runs; dout_t_k0 =
// dout_t + k0, rows K apart; padded_c0: the plane of channel c0). The pragmas unroll the pairs so
// that their sums stay in registers and each pair's offset is a constant.
template <int64_t first>
void conv3x3_weight_grad_pass(real* dw_k0c0, const real* dout_t_k0, int64_t K, const real* padded_c0,
                              const PaddedGrid& g) {
  vec acc[grad_pairs][grad_vectors];
  for (int64_t t = 0; t < grad_pairs; t++)
    for (int64_t p = 0; p < grad_vectors; p++) acc[t][p] = load_vec(dw_k0c0 + (first + t) * conv3x3_block + p * lanes);
  for (int64_t q = 0; q < g.OH * g.row; q++) {
    vec d[grad_vectors];  // dout[k0+k, oh, ow] at q = oh*row + ow, k = 0..15
#pragma GCC unroll 2
    for (int64_t p = 0; p < grad_vectors; p++) d[p] = load_vec(dout_t_k0 + q * K + p * lanes);
#pragma GCC unroll 18
    for (int64_t t = 0; t < grad_pairs; t++) {
      const int64_t pair = first + t, cc = pair / 9, tap = pair % 9;
      const real x = padded_c0[cc * g.plane + q + g.tap[tap]];
#pragma GCC unroll 2
      for (int64_t p = 0; p < grad_vectors; p++) acc[t][p] += x * d[p];
    }
  }
  for (int64_t t = 0; t < grad_pairs; t++)
    for (int64_t p = 0; p < grad_vectors; p++) store_vec(dw_k0c0 + (first + t) * conv3x3_block + p * lanes, acc[t][p]);
}

// One block: dw[k0..k0+15, c0..c0+1, all taps] += the sum over the image's positions, pass by pass
template <int64_t first = 0>
void conv3x3_weight_grad_block(real* dw_k0c0, const real* dout_t_k0, int64_t K, const real* padded_c0,
                               const PaddedGrid& g) {
  conv3x3_weight_grad_pass<first>(dw_k0c0, dout_t_k0, K, padded_c0, g);
  if constexpr (first + grad_pairs < 18)
    conv3x3_weight_grad_block<first + grad_pairs>(dw_k0c0, dout_t_k0, K, padded_c0, g);
}

// dw_packed (K/16, C, 3, 3, 16) += sum_q dout_t[q, k] * padded[c, q + g.tap[kh*3 + kw]], the weight
// gradient of one image in the packed layout (padded: as conv3x3_pad writes it; the tap offset is
// kh*row + kw at stride 1; K a multiple of 16, C even)
void conv3x3_weight_grad(real* dw_packed, const real* dout_t, const real* padded, int64_t C, int64_t K,
                         const PaddedGrid& g) {
  for (int64_t k0 = 0; k0 < K; k0 += conv3x3_block)
    for (int64_t c0 = 0; c0 < C; c0 += 2)
      conv3x3_weight_grad_block(dw_packed + (k0 * C + c0 * conv3x3_block) * 9, dout_t + k0, K, padded + c0 * g.plane,
                                g);
}

// dw (K, C, 3, 3) += packed (K/16, C, 3, 3, 16): conv3x3_pack_weight's layout back
void conv3x3_unpack_weight_add(real* dw, const real* packed, int64_t K, int64_t C) {
  for (int64_t k = 0; k < K; k++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t tap = 0; tap < 9; tap++)
        dw[(k * C + c) * 9 + tap] +=
            packed[(((k / conv3x3_block) * C + c) * 9 + tap) * conv3x3_block + k % conv3x3_block];
}

}  // namespace

// ---- the batch (Note [conv2d: chunks of images per task]) ----

// out (N, K, OH, OW) = b + conv3x3(pad(x[n])), for each image n (stride 1 or 2)
void direct_3x3_forward(real* out, const real* x, const real* w, const real* b, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const PaddedGrid grid = padded_grid(g.H, g.W, g.stride);
  Scratch packed(g.K * g.C * 9);  // w as (K/16, C, 3, 3, 16)
  conv3x3_pack_weight(packed.data(), w, g.K, g.C);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch x_padded(grid.padded_size(g.C), real{0});  // (C, plane): the zeros stay 0
    Scratch out_grid(g.K * grid.positions());          // (K, positions)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        real* out_n = out + n * g.K * g.cols();                            // (K, OH, OW)
        fill_bias(out_n, b, g);                                            // out_n = b (or 0), broadcast
        conv3x3_pad(x_padded.data(), x + n * g.C * g.H * g.W, g.C, grid);  // x_padded = pad(x[n])
        conv3x3_padded(out_grid.data(), x_padded.data(), packed.data(), g.C, g.K, grid);
        conv3x3_add_unpadded(out_n, out_grid.data(), g.K, grid);  // out_n += out_grid
      }
  });
}

// dx (N, C, H, W) += conv3x3(pad(dout[n])) by w transposed and flipped, dw (K, C, 3, 3) += the sum
// over n and the padded grid's positions (stride 1 or 2); dx or dw may be null.
void direct_3x3_backward(real* dx, real* dw, const real* dout, const real* x, const real* w, const ConvShape& g) {
  const ImageChunks chunks(g.N);
  const PaddedGrid grid = padded_grid(g.H, g.W, g.stride);
  const PaddedGrid dout_grid = padded_grid(g.OH, g.OW, 1);  // dout padded by 1 (at stride 1, grid itself)
  const int64_t dw_size = g.K * g.C * 9;
  Scratch dw_partials(dw ? chunks.count * dw_size : 0, real{0});  // one (K/16, C, 3, 3, 16) per chunk
  Scratch w_flipped(dx ? dw_size : 0);  // stride 1: (C/16, K, 3, 3, 16); stride 2: the 4 parity planes' packings
  std::array<ParityPlane, 4> parity_planes;
  if (dx && g.stride == 1) conv3x3_pack_weight_flipped(w_flipped.data(), w, g.K, g.C);
  if (dx && g.stride == 2) parity_planes = conv3x3_parity_planes(w_flipped.data(), w, g.K, g.C, dout_grid);
  const int64_t dx_positions = g.stride == 1 ? grid.positions() : parity_positions(dout_grid);
  parallel_for(chunks.count, 1, [&](int64_t c0, int64_t c1) {
    Scratch x_padded(dw ? grid.padded_size(g.C) : 0, real{0});          // (C, plane): the zeros stay 0
    Scratch dout_t(dw ? g.OH * grid.row * g.K : 0, real{0});            // (OH*row, K): 0 past each row's end
    Scratch dout_padded(dx ? dout_grid.padded_size(g.K) : 0, real{0});  // (K, OH+2, OW+2): the border stays 0
    Scratch dx_grid(dx ? g.C * dx_positions : 0);                       // (C, positions)
    for (int64_t chunk = c0; chunk < c1; chunk++)
      for (int64_t n = chunks.begin(chunk); n < chunks.end(chunk, g.N); n++) {
        const real* dout_n = dout + n * g.K * g.cols();  // (K, OH, OW)
        if (dw) {  // dw_chunk += sum_q dout_t[q, k] * x_padded[c, q + tap(kh, kw)]
          conv3x3_pad(x_padded.data(), x + n * g.C * g.H * g.W, g.C, grid);
          conv3x3_transpose_grad(dout_t.data(), dout_n, g.K, grid);
          conv3x3_weight_grad(dw_partials.data() + chunk * dw_size, dout_t.data(), x_padded.data(), g.C, g.K, grid);
        }
        if (dx) conv3x3_pad(dout_padded.data(), dout_n, g.K, dout_grid);
        if (dx && g.stride == 1) {  // dx[n] += conv3x3(pad(dout_n)) by the flipped, transposed weight
          conv3x3_padded(dx_grid.data(), dout_padded.data(), w_flipped.data(), g.K, g.C, grid);
          conv3x3_add_unpadded(dx + n * g.C * g.H * g.W, dx_grid.data(), g.C, grid);
        }
        if (dx && g.stride == 2)  // dx[n] += each parity plane's convolution of pad(dout_n)
          conv3x3_stride2_input_grad(dx + n * g.C * g.H * g.W, dx_grid.data(), dout_padded.data(), parity_planes, g.C,
                                     g.K, g.H, g.W, dout_grid);
      }
  });
  if (dw)  // the chunks' partials in a fixed order: the same dw whatever the thread count
    for (int64_t chunk = 0; chunk < chunks.count; chunk++)
      conv3x3_unpack_weight_add(dw, dw_partials.data() + chunk * dw_size, g.K, g.C);
}

}  // namespace glimpse
