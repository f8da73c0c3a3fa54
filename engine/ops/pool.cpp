// Pooling over windows, over whole planes, and across channels.
//
// Windows of side k, stride s, padding p on each side of x (N, C, H, W) -> y (N, C, OH, OW),
// OH = floor((H + 2p - k) / s) + 1 (the same for OW); window (oh, ow) covers the input rows
// oh*s - p ... oh*s - p + k - 1 and the same columns. Each of the N*C planes is independent.
//
//   max_pool2d:  y = max over the window (padding acts as -inf: never chosen; padding <= k/2
//                keeps a pixel of the image in every window)
//                dx[argmax] += dy                  the argmax of each window is saved
//   avg_pool2d:  y = (1 / k^2) * sum over the window (padding counts as zeros, so the divisor
//                is always k^2: PyTorch's default count_include_pad = True)
//                dx[i] += dy / k^2                 for every input i inside the window
//
// Whole planes (N, C, H, W) -> (N, C), the squeeze of SE and CBAM's channel attention:
//   global_avg_pool2d:  y = mean over H, W          dx += dy / (H*W)
//   global_max_pool2d:  y = max over H, W           dx[argmax] += dy        max(x, {2, 3})
//
// Across channels (N, C, H, W) -> (N, 1, H, W), CBAM's spatial attention input:
//   channel_mean:  y = mean over C                  dx += dy / C
//   channel_max:   y = max over C                   dx[argmax channel] += dy    max(x, {1}, keepdim)
//
// The two maxima are reduce.cpp's max over those axes. The two means keep loops of their own:
// they add floats (global_avg_pool2d in lane_sum's eight running sums, channel_mean in channel
// order) and divide by the count, where reduce.cpp's mean multiplies by
// 1 / count (and over H, W sums in double, in four running sums). The results differ in the last
// bits, so every model that pools would train to other numbers.
//
// Ties in a max go to the first maximum in scan order, as in PyTorch; the gradient then goes to
// that one input alone. max_pool2d stores each argmax as an int32 index within its plane: planes
// are far smaller than 2^31 and it halves the saved memory.
#include <algorithm>

#include "engine/ops.h"
#include "engine/ops/lane_sum.h"
#include "engine/parallel.h"

namespace glimpse {

struct PoolShape {
  int64_t planes, H, W;  // planes = N*C
  int64_t OH, OW;
  int64_t kernel, stride, padding;
};

// The input rows (or columns) [first, last) under window o, clipped to the image: the rest of
// the window is padding.
struct Span {
  int64_t first, last;
};
static Span window(int64_t o, int64_t size, const PoolShape& g) {
  const int64_t start = o * g.stride - g.padding;
  return {std::max<int64_t>(0, start), std::min(size, start + g.kernel)};
}

// planes per parallel task: about 16k input values each
static int64_t plane_grain(int64_t plane_size) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, plane_size));
}

// ---- max_pool2d ----

// One step of a window's scan: v at index i replaces the running maximum only if larger, so the
// first maximum wins ties. No branch: the comparison moves the index as a 0 or 1 (a ternary on the
// index compiled to a jump, which ReLU's outputs, zeros and random positives, mispredict often).
static void keep_first_max(real v, int64_t i, real& best_value, int64_t& best) {
  const int64_t larger = v > best_value;
  best += larger * (i - best);
  best_value = v > best_value ? v : best_value;
}

// The common window, 2x2 at stride 2 without padding (every window inside the image): its four
// values compared in scan order, each a select on a value already loaded, so nothing waits on a
// load whose address depends on the previous compare.
static void max_pool2x2_plane(real* y, int32_t* argmax, const real* x_p, const PoolShape& g) {
  for (int64_t oh = 0; oh < g.OH; oh++) {
    const real* top = x_p + 2 * oh * g.W;
    const real* bottom = top + g.W;
    for (int64_t ow = 0; ow < g.OW; ow++) {
      const int64_t first = 2 * oh * g.W + 2 * ow;
      real best_value = top[2 * ow];
      int64_t best = first;
      const real candidates[3] = {top[2 * ow + 1], bottom[2 * ow], bottom[2 * ow + 1]};
      const int64_t at[3] = {first + 1, first + g.W, first + g.W + 1};
      for (int k = 0; k < 3; k++) keep_first_max(candidates[k], at[k], best_value, best);
      y[oh * g.OW + ow] = best_value;
      argmax[oh * g.OW + ow] = static_cast<int32_t>(best);
    }
  }
}

static void max_pool2d_forward(real* y, int32_t* argmax, const real* x, const PoolShape& g) {
  const bool two_by_two = g.kernel == 2 && g.stride == 2 && g.padding == 0;
  parallel_for(g.planes, plane_grain(g.H * g.W), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      const real* x_p = x + plane * g.H * g.W;
      const int64_t out = plane * g.OH * g.OW;
      if (two_by_two) {
        max_pool2x2_plane(y + out, argmax + out, x_p, g);
        continue;
      }
      for (int64_t oh = 0; oh < g.OH; oh++)
        for (int64_t ow = 0; ow < g.OW; ow++) {
          const auto [h0, h1] = window(oh, g.H, g);
          const auto [w0, w1] = window(ow, g.W, g);
          int64_t best = h0 * g.W + w0;  // start from the window's first pixel inside the image
          real best_value = x_p[best];
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) {
              const int64_t i = ih * g.W + iw;
              keep_first_max(x_p[i], i, best_value, best);
            }
          y[out + oh * g.OW + ow] = best_value;
          argmax[out + oh * g.OW + ow] = static_cast<int32_t>(best);
        }
    }
  });
}

static void max_pool2d_backward(real* dx, const real* dy, const int32_t* argmax, const PoolShape& g) {
  const int64_t out_size = g.OH * g.OW;
  parallel_for(g.planes, plane_grain(g.H * g.W), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++)
      for (int64_t o = plane * out_size; o < (plane + 1) * out_size; o++) dx[plane * g.H * g.W + argmax[o]] += dy[o];
  });
}

struct MaxPool2dBackward : Node {
  std::vector<int32_t> argmax;  // (N, C, OH, OW): where in its plane each maximum was
  PoolShape g;
  std::string name() const override { return "max_pool2d"; }
  void backward(const Tensor& dy) override { max_pool2d_backward(input_grad(0).data(), dy.data(), argmax.data(), g); }
};

// ---- avg_pool2d ----

static void avg_pool2d_forward(real* y, const real* x, const PoolShape& g) {
  const real scale = real{1} / static_cast<real>(g.kernel * g.kernel);  // padding counted
  parallel_for(g.planes, plane_grain(g.H * g.W), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      const real* x_p = x + plane * g.H * g.W;
      for (int64_t oh = 0; oh < g.OH; oh++)
        for (int64_t ow = 0; ow < g.OW; ow++) {
          real total = 0;  // the padding adds zeros
          const auto [h0, h1] = window(oh, g.H, g);
          const auto [w0, w1] = window(ow, g.W, g);
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) total += x_p[ih * g.W + iw];
          y[(plane * g.OH + oh) * g.OW + ow] = total * scale;
        }
    }
  });
}

static void avg_pool2d_backward(real* dx, const real* dy, const PoolShape& g) {
  const real scale = real{1} / static_cast<real>(g.kernel * g.kernel);
  parallel_for(g.planes, plane_grain(g.H * g.W), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      real* dx_p = dx + plane * g.H * g.W;
      for (int64_t oh = 0; oh < g.OH; oh++)
        for (int64_t ow = 0; ow < g.OW; ow++) {
          const real d = dy[(plane * g.OH + oh) * g.OW + ow] * scale;  // in the forward: y = total * scale
          const auto [h0, h1] = window(oh, g.H, g);
          const auto [w0, w1] = window(ow, g.W, g);
          for (int64_t ih = h0; ih < h1; ih++)
            for (int64_t iw = w0; iw < w1; iw++) dx_p[ih * g.W + iw] += d;
        }
    }
  });
}

struct AvgPool2dBackward : Node {
  PoolShape g;  // nothing else: the gradient of a mean does not depend on x
  std::string name() const override { return "avg_pool2d"; }
  void backward(const Tensor& dy) override { avg_pool2d_backward(input_grad(0).data(), dy.data(), g); }
};

static PoolShape pool_shape(const Tensor& x, Pool2dOptions options, const std::string& op) {
  if (x.dim() != 4) fail(op + ": input must be (N, C, H, W), got " + shape_str(x.shape()));
  PoolShape g{};
  g.kernel = options.kernel;
  g.stride = options.stride == 0 ? options.kernel : options.stride;
  g.padding = options.padding;
  if (g.kernel < 1 || g.stride < 1 || g.padding < 0)
    fail(op + ": kernel and stride must be >= 1 and padding >= 0, got kernel " + std::to_string(options.kernel) +
         ", stride " + std::to_string(options.stride) + ", padding " + std::to_string(options.padding));
  if (2 * g.padding > g.kernel)  // else a window could lie wholly in the padding (PyTorch's rule too)
    fail(op + ": padding must be at most half the kernel, got kernel " + std::to_string(g.kernel) + ", padding " +
         std::to_string(g.padding));
  g.planes = x.size(0) * x.size(1), g.H = x.size(2), g.W = x.size(3);
  if (g.H + 2 * g.padding < g.kernel || g.W + 2 * g.padding < g.kernel)
    fail(op + ": kernel " + std::to_string(g.kernel) + " larger than the padded input " + shape_str(x.shape()) +
         " with padding " + std::to_string(g.padding));
  g.OH = (g.H + 2 * g.padding - g.kernel) / g.stride + 1;
  g.OW = (g.W + 2 * g.padding - g.kernel) / g.stride + 1;
  return g;
}

// What a Tracer needs to pool again (Note [Tracing a forward])
static OpSettings pool_settings(const PoolShape& g) {
  return OpSettings().with_int("kernel", g.kernel).with_int("stride", g.stride).with_int("padding", g.padding);
}

Tensor max_pool2d(const Tensor& x, Pool2dOptions options) {
  const PoolShape g = pool_shape(x, options, "max_pool2d");
  Tensor y = Tensor::empty({x.size(0), x.size(1), g.OH, g.OW});
  auto node = std::make_shared<MaxPool2dBackward>();
  node->argmax.resize(y.numel());
  node->g = g;
  max_pool2d_forward(y.data(), node->argmax.data(), x.data(), g);
  return record(y, node, {x}, pool_settings(g));
}

Tensor avg_pool2d(const Tensor& x, Pool2dOptions options) {
  const PoolShape g = pool_shape(x, options, "avg_pool2d");
  Tensor y = Tensor::empty({x.size(0), x.size(1), g.OH, g.OW});
  avg_pool2d_forward(y.data(), x.data(), g);
  auto node = std::make_shared<AvgPool2dBackward>();
  node->g = g;
  return record(y, node, {x}, pool_settings(g));
}

// ---- global_avg_pool2d, global_max_pool2d: one value per plane ----

static void global_avg_pool2d_forward(real* y, const real* x, int64_t planes, int64_t plane_size) {
  parallel_for(planes, plane_grain(plane_size), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      const real* x_p = x + plane * plane_size;
      y[plane] = lane_sum(plane_size, [x_p](int64_t i) { return x_p[i]; }) / static_cast<real>(plane_size);
    }
  });
}
static void global_avg_pool2d_backward(real* dx, const real* dy, int64_t planes, int64_t plane_size) {
  parallel_for(planes, plane_grain(plane_size), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; plane++) {
      const real d = dy[plane] / static_cast<real>(plane_size);
      for (int64_t i = 0; i < plane_size; i++) dx[plane * plane_size + i] += d;
    }
  });
}

struct GlobalAvgPool2dBackward : Node {
  int64_t planes = 0, plane_size = 0;
  std::string name() const override { return "global_avg_pool2d"; }
  void backward(const Tensor& dy) override {
    global_avg_pool2d_backward(input_grad(0).data(), dy.data(), planes, plane_size);
  }
};

static void check_nchw(const Tensor& x, const std::string& op) {
  if (x.dim() != 4) fail(op + ": input must be (N, C, H, W), got " + shape_str(x.shape()));
  if (x.size(2) * x.size(3) == 0) fail(op + ": input has no pixels, got " + shape_str(x.shape()));
}

Tensor global_avg_pool2d(const Tensor& x) {
  check_nchw(x, "global_avg_pool2d");
  Tensor y = Tensor::empty({x.size(0), x.size(1)});
  auto node = std::make_shared<GlobalAvgPool2dBackward>();
  node->planes = y.numel(), node->plane_size = x.size(2) * x.size(3);
  global_avg_pool2d_forward(y.data(), x.data(), node->planes, node->plane_size);
  return record(y, node, {x});
}

Tensor global_max_pool2d(const Tensor& x) {
  check_nchw(x, "global_max_pool2d");
  return max(x, {2, 3});  // (N, C)
}

// ---- channel_mean, channel_max: across the C planes of each image ----

static void channel_mean_forward(real* y, const real* x, int64_t N, int64_t C, int64_t HW) {
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      real* y_n = y + n * HW;  // (HW)
      std::fill(y_n, y_n + HW, real{0});
      for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < HW; i++) y_n[i] += x[(n * C + c) * HW + i];
      for (int64_t i = 0; i < HW; i++) y_n[i] /= static_cast<real>(C);
    }
  });
}
static void channel_mean_backward(real* dx, const real* dy, int64_t N, int64_t C, int64_t HW) {
  const real scale = real{1} / static_cast<real>(C);
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t i = 0; i < HW; i++) dx[(n * C + c) * HW + i] += dy[n * HW + i] * scale;
  });
}

struct ChannelMeanBackward : Node {
  int64_t N = 0, C = 0, HW = 0;
  std::string name() const override { return "channel_mean"; }
  void backward(const Tensor& dy) override { channel_mean_backward(input_grad(0).data(), dy.data(), N, C, HW); }
};

Tensor channel_mean(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) == 0)
    fail("channel_mean: input must be (N, C, H, W) with C >= 1, got " + shape_str(x.shape()));
  Tensor y = Tensor::empty({x.size(0), 1, x.size(2), x.size(3)});
  auto node = std::make_shared<ChannelMeanBackward>();
  node->N = x.size(0), node->C = x.size(1), node->HW = x.size(2) * x.size(3);
  channel_mean_forward(y.data(), x.data(), node->N, node->C, node->HW);
  return record(y, node, {x});
}

Tensor channel_max(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) == 0)
    fail("channel_max: input must be (N, C, H, W) with C >= 1, got " + shape_str(x.shape()));
  return max(x, {1}, /*keepdim=*/true);  // (N, 1, H, W)
}

}  // namespace glimpse
