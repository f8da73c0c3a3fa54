// upsample_bilinear2d: resize each plane of x (N, C, H, W) to (N, C, OH, OW) by bilinear
// interpolation, as PyTorch's F.interpolate(mode='bilinear') (it may also shrink).
//
// Each output row oh reads the input at the real row src(oh), each column ow at src(ow):
//   align_corners = true:   src = dst * (in - 1) / (out - 1)          (0 when out = 1)
//                           the corner pixels of input and output coincide
//   align_corners = false:  src = max(0, (dst + 0.5) * in / out - 0.5)
//                           pixels are squares of area 1 and their centres are matched
// With i0 = floor(src), i1 = min(i0 + 1, in - 1), l1 = src - i0, l0 = 1 - l1 (the "taps"):
//   y[oh,ow] = lh0 * (lw0 * x[h0,w0] + lw1 * x[h0,w1]) + lh1 * (lw0 * x[h1,w0] + lw1 * x[h1,w1])
// y is linear in x, so the backward scatters dy with the same four weights:
//   dx[h0,w0] += lh0 * lw0 * dy[oh,ow],  dx[h0,w1] += lh0 * lw1 * dy[oh,ow],  and so on.
// The taps depend only on the sizes, so nothing but the shapes is saved.
#include <algorithm>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

// A source position between input pixels i0 and i1: value = l0 * x[i0] + l1 * x[i1]
struct Tap {
  int64_t i0, i1;
  real l0, l1;
};

// One tap per output position along an axis of `in` input and `out` output pixels
static std::vector<Tap> bilinear_taps(int64_t in, int64_t out, bool align_corners) {
  // the scale computed first, then applied, as PyTorch does, for the same rounding
  const real scale = align_corners ? (out > 1 ? static_cast<real>(in - 1) / static_cast<real>(out - 1) : real{0})
                                   : static_cast<real>(in) / static_cast<real>(out);
  std::vector<Tap> taps(out);
  for (int64_t dst = 0; dst < out; dst++) {
    const real src = align_corners ? scale * static_cast<real>(dst)
                                   : std::max(real{0}, scale * (static_cast<real>(dst) + 0.5f) - 0.5f);
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);  // floor, since src >= 0
    const real l1 = src - static_cast<real>(i0);
    taps[dst] = {i0, std::min(i0 + 1, in - 1), 1 - l1, l1};
  }
  return taps;
}

struct UpsampleShape {
  int64_t planes, H, W, OH, OW;  // planes = N*C
  bool align_corners;
};

static int64_t plane_grain(int64_t plane_size) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, plane_size));
}

// ---- kernels ----

static void upsample_bilinear2d_forward(real* y, const real* x, const UpsampleShape& g) {
  const std::vector<Tap> rows = bilinear_taps(g.H, g.OH, g.align_corners);
  const std::vector<Tap> cols = bilinear_taps(g.W, g.OW, g.align_corners);
  parallel_for(g.planes, plane_grain(g.OH * g.OW), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      const real* x_p = x + plane * g.H * g.W;
      real* y_p = y + plane * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; oh++) {
        const Tap h = rows[oh];
        const real* row0 = x_p + h.i0 * g.W;  // the two input rows this output row mixes
        const real* row1 = x_p + h.i1 * g.W;
        for (int64_t ow = 0; ow < g.OW; ow++) {
          const Tap w = cols[ow];
          y_p[oh * g.OW + ow] = h.l0 * (w.l0 * row0[w.i0] + w.l1 * row0[w.i1]) +  //
                                h.l1 * (w.l0 * row1[w.i0] + w.l1 * row1[w.i1]);
        }
      }
    }
  });
}

static void upsample_bilinear2d_backward(real* dx, const real* dy, const UpsampleShape& g) {
  const std::vector<Tap> rows = bilinear_taps(g.H, g.OH, g.align_corners);
  const std::vector<Tap> cols = bilinear_taps(g.W, g.OW, g.align_corners);
  parallel_for(g.planes, plane_grain(g.OH * g.OW), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      real* dx_p = dx + plane * g.H * g.W;
      const real* dy_p = dy + plane * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; oh++) {
        const Tap h = rows[oh];
        real* drow0 = dx_p + h.i0 * g.W;
        real* drow1 = dx_p + h.i1 * g.W;
        for (int64_t ow = 0; ow < g.OW; ow++) {
          const Tap w = cols[ow];
          const real d = dy_p[oh * g.OW + ow];  // in the forward, y = the four-weight mix above
          drow0[w.i0] += h.l0 * w.l0 * d;
          drow0[w.i1] += h.l0 * w.l1 * d;
          drow1[w.i0] += h.l1 * w.l0 * d;
          drow1[w.i1] += h.l1 * w.l1 * d;
        }
      }
    }
  });
}

// ---- autograd glue ----

struct UpsampleBilinear2dBackward : Node {
  UpsampleShape g;  // the weights depend only on the sizes
  std::string name() const override { return "upsample_bilinear2d"; }
  void backward(const Tensor& dy) override { upsample_bilinear2d_backward(input_grad(0).data(), dy.data(), g); }
};

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  if (x.dim() != 4 || x.size(2) < 1 || x.size(3) < 1)
    fail("upsample_bilinear2d: input must be (N, C, H, W) with H, W >= 1, got " + shape_str(x.shape()));
  if (out_h < 1 || out_w < 1)
    fail("upsample_bilinear2d: output size must be at least 1x1, got " + std::to_string(out_h) + "x" +
         std::to_string(out_w) + " for input " + shape_str(x.shape()));
  const UpsampleShape g{x.size(0) * x.size(1), x.size(2), x.size(3), out_h, out_w, align_corners};
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w});
  upsample_bilinear2d_forward(y.data(), x.data(), g);
  auto node = std::make_shared<UpsampleBilinear2dBackward>();
  node->g = g;
  return record(y, node, {x}, OpSettings().with_int("align_corners", align_corners));
}

}  // namespace glimpse
