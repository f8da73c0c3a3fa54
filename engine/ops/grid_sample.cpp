// affine_grid and grid_sample: the sampler of a Spatial Transformer Network
// (Jaderberg et al. 2015, Sec. 3.2-3.3: Eq. 1, Eq. 5 and its gradients Eq. 6-7), with PyTorch's conventions:
// align_corners = false, bilinear interpolation, zeros outside the image.
//
// ---- affine_grid:  theta (N,2,3) -> grid (N,OH,OW,2) ----
// The base grid holds the centres of the OH x OW output pixels in normalised coordinates,
// where -1 and +1 are the outer EDGES of the image (align_corners = false):
//     x_j = (2j + 1) / OW - 1,   y_i = (2i + 1) / OH - 1
// and every point is moved by the 2x3 matrix theta (Eq. 1):
//     grid[n,i,j] = (gx, gy) = theta[n] @ (x_j, y_i, 1)
//     gx = t00 x_j + t01 y_i + t02,   gy = t10 x_j + t11 y_i + t12
// backward: theta enters linearly, so
//     dtheta[n,r,0] += sum_ij dgrid[n,i,j,r] * x_j
//     dtheta[n,r,1] += sum_ij dgrid[n,i,j,r] * y_i
//     dtheta[n,r,2] += sum_ij dgrid[n,i,j,r]                  (r = 0 for gx, 1 for gy)
//
// ---- grid_sample:  x (N,C,H,W), grid (N,OH,OW,2) -> y (N,C,OH,OW) ----
// A grid point (gx, gy) is turned into a (fractional) pixel position
//     ix = ((gx + 1) * W - 1) / 2,    iy = ((gy + 1) * H - 1) / 2
// (so gx = -1 is the left edge of pixel 0, ix = -0.5). With x0 = floor(ix), y0 = floor(iy),
// x1 = x0 + 1, y1 = y0 + 1 and the weights
//     wx1 = ix - x0,  wx0 = 1 - wx1,      wy1 = iy - y0,  wy0 = 1 - wy1
// the output is the bilinear blend of the four neighbours (Eq. 5, Eq. 3 with the bilinear kernel):
//     y[n,c,i,j] = wy0 wx0 v00 + wy0 wx1 v01 + wy1 wx0 v10 + wy1 wx1 v11,   v_ab = x[n,c,y_a,x_b]
// where a neighbour outside the image reads as 0 (zero padding).
//
// backward to the image (Eq. 6): each output spreads its gradient dy[n,c,i,j] back onto the four
// neighbours it read, with the same weights (neighbours outside the image get nothing):
//     dx[n,c,y0,x0] += dy wy0 wx0,  dx[n,c,y0,x1] += dy wy0 wx1,  dx[n,c,y1,x0] += dy wy1 wx0, ...
// backward to the grid (Eq. 7): differentiate the blend in ix and iy, with the
// neighbours fixed (x0, y0 are piecewise constant; the kinks at integer ix, iy are where the
// derivative jumps):
//     slope_x = wy0 (v01 - v00) + wy1 (v11 - v10)     the blend's derivative in ix (d wx1/dix = 1, d wx0/dix = -1)
//     slope_y = wx0 (v10 - v00) + wx1 (v11 - v01)     and in iy
// weighted by dy and summed over the channels, times dix/dgx = W/2, diy/dgy = H/2:
//     dgrid[n,i,j,0] += W/2 * sum_c dy[n,c,i,j] slope_x,    dgrid[n,i,j,1] += H/2 * sum_c dy[n,c,i,j] slope_y
//
// Threads: the forward splits the output rows (N*OH) among tasks; the backward splits the batch,
// so one task owns one image's dx and its grid's dgrid and the scatter into dx cannot race.
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

// ---- affine_grid ----

static void affine_grid_forward(real* grid, const real* theta, int64_t N, int64_t OH, int64_t OW) {
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const real* t = theta + n * 6;  // (2, 3), row-major
      for (int64_t i = 0; i < OH; i++) {
        real yi = static_cast<real>(2 * i + 1) / OH - 1;
        for (int64_t j = 0; j < OW; j++) {
          real xj = static_cast<real>(2 * j + 1) / OW - 1;
          real* g = grid + ((n * OH + i) * OW + j) * 2;
          g[0] = t[0] * xj + t[1] * yi + t[2];
          g[1] = t[3] * xj + t[4] * yi + t[5];
        }
      }
    }
  });
}

static void affine_grid_backward(real* dtheta, const real* dgrid, int64_t N, int64_t OH, int64_t OW) {
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      real* dt = dtheta + n * 6;
      for (int64_t i = 0; i < OH; i++) {
        real yi = static_cast<real>(2 * i + 1) / OH - 1;
        for (int64_t j = 0; j < OW; j++) {
          real xj = static_cast<real>(2 * j + 1) / OW - 1;
          const real* dg = dgrid + ((n * OH + i) * OW + j) * 2;
          for (int r = 0; r < 2; r++) {  // in the forward: g[r] = t[3r] xj + t[3r+1] yi + t[3r+2]
            dt[3 * r + 0] += dg[r] * xj;
            dt[3 * r + 1] += dg[r] * yi;
            dt[3 * r + 2] += dg[r];
          }
        }
      }
    }
  });
}

struct AffineGridBackward : Node {
  int64_t OH = 0, OW = 0;  // theta itself is not needed: the grid is linear in it
  std::string name() const override { return "affine_grid"; }
  void backward(const Tensor& dgrid) override {
    affine_grid_backward(input_grad(0).data(), dgrid.data(), dgrid.size(0), OH, OW);
  }
};

Tensor affine_grid(const Tensor& theta, int64_t out_h, int64_t out_w) {
  if (theta.dim() != 3 || theta.size(1) != 2 || theta.size(2) != 3)
    fail("affine_grid: theta must have shape (N, 2, 3), got " + shape_str(theta.shape()));
  if (out_h < 1 || out_w < 1)
    fail("affine_grid: output size must be at least 1 x 1, got " + std::to_string(out_h) + " x " +
         std::to_string(out_w));
  int64_t N = theta.size(0);
  Tensor grid = Tensor::empty({N, out_h, out_w, 2});
  affine_grid_forward(grid.data(), theta.data(), N, out_h, out_w);
  auto node = std::make_shared<AffineGridBackward>();
  node->OH = out_h;
  node->OW = out_w;
  return record(grid, node, {theta});
}

// ---- grid_sample ----

namespace {  // helpers of this file only

// One sampling point: its top-left neighbour (x0, y0) and the bilinear weights.
struct BilinearPoint {
  int64_t x0 = 0, y0 = 0;  // the other neighbours are x0 + 1 and y0 + 1
  real wx0 = 0, wx1 = 0, wy0 = 0, wy1 = 0;
  bool inside = false;  // false when no neighbour is in the image (then y = 0, all gradients 0)
};

BilinearPoint locate(real gx, real gy, int64_t H, int64_t W) {
  BilinearPoint p;
  real ix = ((gx + 1) * W - 1) / 2;
  real iy = ((gy + 1) * H - 1) / 2;
  // Outside (-1, W) x (-1, H) every neighbour is padding. Written so that NaN fails the test,
  // and so that floor() below never sees a value too large for int64.
  if (!(ix > -1 && ix < W && iy > -1 && iy < H)) return p;
  real fx = std::floor(ix), fy = std::floor(iy);
  p.x0 = static_cast<int64_t>(fx);
  p.y0 = static_cast<int64_t>(fy);
  p.wx1 = ix - fx;
  p.wx0 = 1 - p.wx1;
  p.wy1 = iy - fy;
  p.wy0 = 1 - p.wy1;
  p.inside = true;
  return p;
}

// x[y][x] of one (H, W) plane, 0 outside it (zero padding).
real pixel_or_zero(const real* plane, int64_t H, int64_t W, int64_t y, int64_t x) {
  return (y >= 0 && y < H && x >= 0 && x < W) ? plane[y * W + x] : 0;
}
void add_to_pixel(real* plane, int64_t H, int64_t W, int64_t y, int64_t x, real value) {
  if (y >= 0 && y < H && x >= 0 && x < W) plane[y * W + x] += value;
}

}  // namespace

static void grid_sample_forward(real* y, const real* x, const real* grid, int64_t N, int64_t C, int64_t H, int64_t W,
                                int64_t OH, int64_t OW) {
  int64_t rows_per_task = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, OW * C));
  parallel_for(N * OH, rows_per_task, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      int64_t n = r / OH, i = r % OH;
      for (int64_t j = 0; j < OW; j++) {
        const real* g = grid + ((n * OH + i) * OW + j) * 2;
        BilinearPoint p = locate(g[0], g[1], H, W);
        for (int64_t c = 0; c < C; c++) {
          const real* plane = x + (n * C + c) * H * W;
          real value = 0;
          if (p.inside) {
            value = p.wy0 * (p.wx0 * pixel_or_zero(plane, H, W, p.y0, p.x0) +
                             p.wx1 * pixel_or_zero(plane, H, W, p.y0, p.x0 + 1)) +
                    p.wy1 * (p.wx0 * pixel_or_zero(plane, H, W, p.y0 + 1, p.x0) +
                             p.wx1 * pixel_or_zero(plane, H, W, p.y0 + 1, p.x0 + 1));
          }
          y[((n * C + c) * OH + i) * OW + j] = value;
        }
      }
    }
  });
}

// dx or dgrid may be null when that input needs no gradient.
static void grid_sample_backward(real* dx, real* dgrid, const real* dy, const real* x, const real* grid, int64_t N,
                                 int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {  // one image per task: dx[n] has one writer
    for (int64_t n = n0; n < n1; n++) {
      for (int64_t i = 0; i < OH; i++) {
        for (int64_t j = 0; j < OW; j++) {
          const real* g = grid + ((n * OH + i) * OW + j) * 2;
          BilinearPoint p = locate(g[0], g[1], H, W);
          if (!p.inside) continue;  // y = 0 around this point: no gradient to anything
          real dix = 0, diy = 0;    // d(loss)/d(ix), d(loss)/d(iy), summed over channels
          for (int64_t c = 0; c < C; c++) {
            real d = dy[((n * C + c) * OH + i) * OW + j];
            const real* plane = x + (n * C + c) * H * W;
            real v00 = pixel_or_zero(plane, H, W, p.y0, p.x0), v01 = pixel_or_zero(plane, H, W, p.y0, p.x0 + 1);
            real v10 = pixel_or_zero(plane, H, W, p.y0 + 1, p.x0), v11 = pixel_or_zero(plane, H, W, p.y0 + 1, p.x0 + 1);
            // in the forward: y = wy0 (wx0 v00 + wx1 v01) + wy1 (wx0 v10 + wx1 v11)
            if (dx) {
              real* dplane = dx + (n * C + c) * H * W;
              add_to_pixel(dplane, H, W, p.y0, p.x0, d * p.wy0 * p.wx0);
              add_to_pixel(dplane, H, W, p.y0, p.x0 + 1, d * p.wy0 * p.wx1);
              add_to_pixel(dplane, H, W, p.y0 + 1, p.x0, d * p.wy1 * p.wx0);
              add_to_pixel(dplane, H, W, p.y0 + 1, p.x0 + 1, d * p.wy1 * p.wx1);
            }
            dix += d * (p.wy0 * (v01 - v00) + p.wy1 * (v11 - v10));
            diy += d * (p.wx0 * (v10 - v00) + p.wx1 * (v11 - v01));
          }
          if (dgrid) {
            real* dg = dgrid + ((n * OH + i) * OW + j) * 2;
            dg[0] += dix * static_cast<real>(W) / 2;  // in the forward: ix = ((gx + 1) W - 1) / 2
            dg[1] += diy * static_cast<real>(H) / 2;
          }
        }
      }
    }
  });
}

struct GridSampleBackward : Node {
  // both inputs are read again by the backward: the weights come from the grid, dgrid from x
  Tensor x, grid;  // saved inputs, detached
  std::string name() const override { return "grid_sample"; }
  void backward(const Tensor& dy) override {
    real* dx = needs_grad(0) ? input_grad(0).data() : nullptr;
    real* dgrid = needs_grad(1) ? input_grad(1).data() : nullptr;
    grid_sample_backward(dx, dgrid, dy.data(), x.data(), grid.data(), x.size(0), x.size(1), x.size(2), x.size(3),
                         grid.size(1), grid.size(2));
  }
};

Tensor grid_sample(const Tensor& x, const Tensor& grid) {
  if (x.dim() != 4) fail("grid_sample: x must have shape (N, C, H, W), got " + shape_str(x.shape()));
  if (grid.dim() != 4 || grid.size(3) != 2 || grid.size(0) != x.size(0))
    fail("grid_sample: grid must have shape (N, OH, OW, 2) with the N of x " + shape_str(x.shape()) + ", got " +
         shape_str(grid.shape()));
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), OH = grid.size(1), OW = grid.size(2);
  Tensor y = Tensor::empty({N, C, OH, OW});
  grid_sample_forward(y.data(), x.data(), grid.data(), N, C, H, W, OH, OW);
  auto node = std::make_shared<GridSampleBackward>();
  node->x = x.detach();
  node->grid = grid.detach();
  return record(y, node, {x, grid});
}

}  // namespace glimpse
