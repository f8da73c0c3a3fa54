// glimpse: the glimpse sensor of the Recurrent Attention Model (Mnih et al. 2014, Sec. 3.1,
// "Sensor"): a retina-like read-out of k square patches around a location l, each one twice
// the side of the last, all brought down to the same g x g resolution.
//
//   x (N,C,H,W), l (N,2) = (x, y) in [-1,1]  ->  y (N, k*C, g, g),  channel i*C + c = scale i, channel c
//
// forward: the location becomes a centre pixel (the right/bottom edge l = 1 means the last pixel)
//     cx = floor((l_x + 1) / 2 * W),  cy = floor((l_y + 1) / 2 * H),  clamped into the image for |l| <= 1
// for scale i the patch has side s = g * 2^i and covers the rows cy - s/2 .. cy - s/2 + s - 1 and
// the columns cx - s/2 .. cx - s/2 + s - 1 of the zero-padded image (an integer crop); a
// 2^i x 2^i average pooling (f = 2^i) shrinks it to g x g:
//     y[n, i*C + c, oy, ox] = 1/f^2 * sum_{a,b < f} x[n, c, top + oy*f + a, left + ox*f + b]
// with top = cy - s/2, left = cx - s/2, and x = 0 outside the image.
//
// backward: y is linear in x, so each output spreads its gradient evenly over the f x f pixels
// it averaged (the ones inside the image; padding has no gradient):
//     dx[n, c, top + oy*f + a, left + ox*f + b] += dy[n, i*C + c, oy, ox] / f^2
//
// No gradient to l. The crop is an integer one: a small change of l moves no pixel until the
// centre jumps to the next pixel, so dy/dl is 0 almost everywhere and undefined at the jumps.
// RAM does not need it: the location network is trained with REINFORCE (the gradient of
// log pi(l) with a reward, ops/gaussian.cpp), not by backpropagation through the sensor.
//
// Locations outside [-1,1] are allowed (the patch just falls further into the padding); NaN or
// infinite ones are an error.
//
// Threads: each (n, c) plane belongs to one task, which owns that plane of dx: the scatter cannot race.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {  // helpers of this file only

real pixel_or_zero(const real* plane, int64_t H, int64_t W, int64_t y, int64_t x) {
  return (y >= 0 && y < H && x >= 0 && x < W) ? plane[y * W + x] : 0;
}

// Work per (n, c) plane, in pixels read: sum_i (g 2^i)^2.
int64_t pixels_per_plane(int64_t g, int64_t k) {
  int64_t total = 0;
  for (int64_t i = 0; i < k; i++) total += (g << i) * (g << i);
  return total;
}

}  // namespace

// One coordinate of a location in [-1,1] -> its centre pixel in [0, size - 1]. Outside [-1,1] the
// centre leaves the image; it is held within `reach` (the largest patch side) of it, because
// further out every patch is all padding anyway, and so that the cast to int64 is safe.
int64_t location_to_pixel(real l, int64_t size, int64_t reach) {
  if (!std::isfinite(l)) fail("location_to_pixel: the location " + std::to_string(l) + " is not finite");
  double p = std::floor((static_cast<double>(l) + 1) / 2 * static_cast<double>(size));
  if (l >= -1 && l <= 1) p = std::min(p, static_cast<double>(size - 1));  // l = 1 is the last pixel
  p = std::clamp(p, static_cast<double>(-reach), static_cast<double>(size + reach));
  return static_cast<int64_t>(p);
}

// ---- kernels; centres (N, 2) holds (cx, cy) per image ----

static void glimpse_forward(real* y, const real* x, const int64_t* centres, int64_t N, int64_t C, int64_t H, int64_t W,
                            int64_t g, int64_t k) {
  int64_t planes_per_task = std::max<int64_t>(1, 16384 / pixels_per_plane(g, k));
  parallel_for(N * C, planes_per_task, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      int64_t n = p / C, c = p % C;
      const real* plane = x + p * H * W;
      int64_t cx = centres[2 * n], cy = centres[2 * n + 1];
      for (int64_t i = 0; i < k; i++) {
        int64_t f = int64_t{1} << i, s = g * f;  // pooling factor, patch side
        int64_t top = cy - s / 2, left = cx - s / 2;
        real scale = 1 / static_cast<real>(f * f);
        real* out = y + ((n * k + i) * C + c) * g * g;  // (g, g)
        for (int64_t oy = 0; oy < g; oy++) {
          for (int64_t ox = 0; ox < g; ox++) {
            real total = 0;
            for (int64_t a = 0; a < f; a++)
              for (int64_t b = 0; b < f; b++) total += pixel_or_zero(plane, H, W, top + oy * f + a, left + ox * f + b);
            out[oy * g + ox] = total * scale;
          }
        }
      }
    }
  });
}

static void glimpse_backward(real* dx, const real* dy, const int64_t* centres, int64_t N, int64_t C, int64_t H,
                             int64_t W, int64_t g, int64_t k) {
  int64_t planes_per_task = std::max<int64_t>(1, 16384 / pixels_per_plane(g, k));
  parallel_for(N * C, planes_per_task, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; p++) {
      int64_t n = p / C, c = p % C;
      real* dplane = dx + p * H * W;
      int64_t cx = centres[2 * n], cy = centres[2 * n + 1];
      for (int64_t i = 0; i < k; i++) {
        int64_t f = int64_t{1} << i, s = g * f;
        int64_t top = cy - s / 2, left = cx - s / 2;
        real scale = 1 / static_cast<real>(f * f);
        const real* dout = dy + ((n * k + i) * C + c) * g * g;
        for (int64_t oy = 0; oy < g; oy++) {
          for (int64_t ox = 0; ox < g; ox++) {
            real share = dout[oy * g + ox] * scale;  // in the forward: out = scale * sum of f x f pixels
            for (int64_t a = 0; a < f; a++) {
              int64_t row = top + oy * f + a;
              if (row < 0 || row >= H) continue;
              for (int64_t b = 0; b < f; b++) {
                int64_t col = left + ox * f + b;
                if (col >= 0 && col < W) dplane[row * W + col] += share;
              }
            }
          }
        }
      }
    }
  });
}

// ---- autograd glue ----

struct GlimpseBackward : Node {
  std::vector<int64_t> centres;  // (N, 2): the crop positions are all the backward needs
  int64_t g = 0, k = 0;
  std::string name() const override { return "extract_glimpse"; }
  void backward(const Tensor& dy) override {
    const Shape& x = input_shape(0);  // (N, C, H, W): no values of x are needed
    glimpse_backward(input_grad(0).data(), dy.data(), centres.data(), x[0], x[1], x[2], x[3], g, k);
  }
};

Tensor extract_glimpse(const Tensor& x, const Tensor& l, int64_t g, int64_t k) {
  if (x.dim() != 4) fail("extract_glimpse: x must have shape (N, C, H, W), got " + shape_str(x.shape()));
  if (l.dim() != 2 || l.size(0) != x.size(0) || l.size(1) != 2)
    fail("extract_glimpse: l must have shape (N, 2) with the N of x " + shape_str(x.shape()) + ", got " +
         shape_str(l.shape()));
  if (g < 1 || k < 1)
    fail("extract_glimpse: patch side g and number of scales k must be at least 1, got g = " + std::to_string(g) +
         ", k = " + std::to_string(k));
  if (k > 20 || g > ((int64_t{1} << 20) >> (k - 1)))  // g * 2^(k-1) <= 2^20, without overflow
    fail("extract_glimpse: largest patch side g * 2^(k-1) is too large, got g = " + std::to_string(g) +
         ", k = " + std::to_string(k));
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  int64_t reach = g << (k - 1);
  std::vector<int64_t> centres(2 * N);
  for (int64_t n = 0; n < N; n++) {
    real lx = l.data()[2 * n], ly = l.data()[2 * n + 1];
    if (!std::isfinite(lx) || !std::isfinite(ly))
      fail("extract_glimpse: location l[" + std::to_string(n) + "] = (" + std::to_string(lx) + ", " +
           std::to_string(ly) + ") is not finite");
    centres[2 * n] = location_to_pixel(lx, W, reach);
    centres[2 * n + 1] = location_to_pixel(ly, H, reach);
  }
  Tensor y = Tensor::empty({N, k * C, g, g});
  glimpse_forward(y.data(), x.data(), centres.data(), N, C, H, W, g, k);
  auto node = std::make_shared<GlimpseBackward>();
  node->centres = std::move(centres);
  node->g = g;
  node->k = k;
  return record(y, node, {x});  // l is not an input of the graph: no gradient flows to it
}

}  // namespace glimpse
