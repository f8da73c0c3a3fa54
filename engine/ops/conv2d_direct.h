// The register-blocked direct 3x3 convolution that conv2d uses for ResNet's common layer
// (3x3 kernel, stride 1, padding 1, output channels a multiple of 16). The math and the blocking
// are in conv2d_direct.cpp; conv2d.cpp says when it runs (Note [conv2d: direct 3x3]).
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace glimpse::detail {

// How many output channels (forward) or input channels (input gradient) one block computes,
// and how many positions: a block is 16 x 16 values, 16 vectors of 16 floats held in registers.
constexpr int64_t conv3x3_block = 16;

// The zero-padded grid of a 3x3, stride-1, padding-1 convolution of (H, W) planes: each plane
// padded to (H+2, W+2), its rows `row()` = W+2 apart. Output pixel (oh, ow) sits at position
// q = oh*row + ow of the grid, and its 3x3 window starts there: it reads grid[q + kh*row + kw].
// The kernel computes every position of the first H rows, in whole blocks of 16 (`positions()`);
// the last two of each row (ow = W, W+1) straddle the row's end and are thrown away.
struct PaddedGrid {
  int64_t H, W;
  int64_t row() const { return W + 2; }
  int64_t plane() const { return (H + 2) * row(); }
  int64_t positions() const { return (H * row() + conv3x3_block - 1) / conv3x3_block * conv3x3_block; }
  // floats of a padded buffer of `planes` planes: the last block of the last plane reads up to
  // 16 floats past that plane's end (into values only thrown-away positions see)
  int64_t padded_size(int64_t planes) const { return planes * plane() + 2 * conv3x3_block; }
};

// packed (K/16, C, 3, 3, 16) from w (K, C, 3, 3): packed[k/16, c, kh, kw, k%16] = w[k, c, kh, kw]
void conv3x3_pack_weight(real* packed, const real* w, int64_t K, int64_t C);

// packed (C/16, K, 3, 3, 16) from w (K, C, 3, 3), transposed and flipped (the input gradient's
// weight): packed[c/16, k, kh, kw, c%16] = w[k, c, 2-kh, 2-kw]
void conv3x3_pack_weight_flipped(real* packed, const real* w, int64_t K, int64_t C);

// padded (C, H+2, W+2) = x (C, H, W) inside; the border is not written (zero it once)
void conv3x3_pad(real* padded, const real* x, int64_t C, const PaddedGrid& g);

// out (K, positions) = 3x3 convolution of padded (C, H+2, W+2) by packed (K/16, C, 3, 3, 16),
// at every grid position q < positions (K a multiple of 16)
void conv3x3_padded(real* out, const real* padded, const real* packed, int64_t C, int64_t K, const PaddedGrid& g);

// y (K, H, W) += out (K, positions): each row's first W positions, the two past its end dropped
void conv3x3_add_unpadded(real* y, const real* out, int64_t K, const PaddedGrid& g);

// dout_t (H*row, K) from dout (K, H, W): dout_t[oh*row + ow, k] = dout[k, oh, ow]. The two
// positions past each row's end (ow = W, W+1) are not written: zero them once, they add nothing.
void conv3x3_transpose_grad(real* dout_t, const real* dout, int64_t K, const PaddedGrid& g);

// dw_packed (K/16, C, 3, 3, 16) += sum_q dout_t[q, k] * padded[c, q + kh*row + kw], the weight
// gradient of one image in the packed layout (padded: x (C, H+2, W+2); K a multiple of 16, C even)
void conv3x3_weight_grad(real* dw_packed, const real* dout_t, const real* padded, int64_t C, int64_t K,
                         const PaddedGrid& g);

// dw (K, C, 3, 3) += packed (K/16, C, 3, 3, 16): conv3x3_pack_weight's layout back
void conv3x3_unpack_weight_add(real* dw, const real* packed, int64_t K, int64_t C);

}  // namespace glimpse::detail
