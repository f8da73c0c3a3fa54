// upsample_bilinear2d: forward against hand-computed values for both corner conventions and
// against the definition, backward by gradcheck and against the definition.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

TEST_CASE("upsample_bilinear2d forward 2x2 to 4x4", "[ops][upsample_bilinear2d]") {
  Tensor x = Tensor::from_data({1, 1, 2, 2}, {1, 2, 3, 4});
  // source positions 0, 1/3, 2/3, 1 along each axis
  CHECK(allclose(upsample_bilinear2d(x, 4, 4, /*align_corners=*/true),
                 Tensor::from_data({1, 1, 4, 4}, {1, 4 / 3.f, 5 / 3.f, 2,         //
                                                  5 / 3.f, 2, 7 / 3.f, 8 / 3.f,   //
                                                  7 / 3.f, 8 / 3.f, 3, 10 / 3.f,  //
                                                  3, 10 / 3.f, 11 / 3.f, 4})));
  // source positions (dst + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (pixel 1 alone)
  CHECK(allclose(upsample_bilinear2d(x, 4, 4, /*align_corners=*/false),
                 Tensor::from_data({1, 1, 4, 4}, {1, 1.25f, 1.75f, 2,        //
                                                  1.5f, 1.75f, 2.25f, 2.5f,  //
                                                  2.5f, 2.75f, 3.25f, 3.5f,  //
                                                  3, 3.25f, 3.75f, 4})));
}

// x (3, 3) read at the real position (r, c) by interpolating between its four neighbours
static real bilinear_at(const std::vector<real>& x, double r, double c) {
  int r0 = static_cast<int>(r), c0 = static_cast<int>(c);
  int r1 = std::min(r0 + 1, 2), c1 = std::min(c0 + 1, 2);
  double fr = r - r0, fc = c - c0;
  auto at = [&](int i, int j) { return double(x[i * 3 + j]); };
  return static_cast<real>((1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c1)) +
                           fr * ((1 - fc) * at(r1, c0) + fc * at(r1, c1)));
}

TEST_CASE("upsample_bilinear2d forward 3x3 to 5x7", "[ops][upsample_bilinear2d]") {
  const std::vector<real> values = {1, 2, 4, 0, 5, 3, 7, 1, 2};
  Tensor x = Tensor::from_data({1, 1, 3, 3}, values);
  struct Case {
    bool align_corners;
    std::vector<double> rows, cols;  // the source position of each output row and column, by hand
  };
  const Case cases[] = {
      // dst * 2/4 and dst * 2/6
      {true, {0, 0.5, 1, 1.5, 2}, {0, 1 / 3., 2 / 3., 1, 4 / 3., 5 / 3., 2}},
      // (dst + 0.5) * 3/5 - 0.5 = -0.2 (clamped), 0.4, 1, 1.6, 2.2 (past the last pixel: pixel 2 alone)
      // (dst + 0.5) * 3/7 - 0.5 = -2/7 (clamped), 1/7, 4/7, 1, 10/7, 13/7, 16/7 (pixel 2 alone)
      {false, {0, 0.4, 1, 1.6, 2}, {0, 1 / 7., 4 / 7., 1, 10 / 7., 13 / 7., 2}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.align_corners);
    Tensor expected = Tensor::empty({1, 1, 5, 7});
    for (int i = 0; i < 5; i++)
      for (int j = 0; j < 7; j++) expected.data()[i * 7 + j] = bilinear_at(values, c.rows[i], c.cols[j]);
    CHECK(allclose(upsample_bilinear2d(x, 5, 7, c.align_corners), expected));
  }
  // the corners coincide with align_corners = true; spot values worked out in full
  Tensor y = upsample_bilinear2d(x, 5, 7, true);
  CHECK(y.data()[0] == 1);
  CHECK(y.data()[6] == 4);
  CHECK(y.data()[28] == 7);
  CHECK(y.data()[34] == 2);
  CHECK(y.data()[1 * 7 + 3] == Approx(3.5));  // row 0.5, column 1: (2 + 5) / 2
}

// The sizes the gradient check and the definition go through: a batch upsampled, doubled, shrunk
// (6x5 -> 3x2), to one pixel, from one row, and kept as it is.
struct UpsampleCase {
  Shape x;
  int64_t out_h, out_w;
};
static const UpsampleCase upsample_cases[] = {{{2, 3, 3, 4}, 5, 7}, {{1, 2, 4, 4}, 8, 8}, {{2, 1, 6, 5}, 3, 2},
                                              {{1, 2, 3, 3}, 1, 1}, {{2, 2, 1, 3}, 4, 6}, {{1, 1, 4, 4}, 4, 4}};

TEST_CASE("upsample_bilinear2d grad", "[ops][upsample_bilinear2d][grad]") {
  Rng rng(31);
  for (bool align_corners : {false, true})
    for (const UpsampleCase& c : upsample_cases) {
      CAPTURE(align_corners, shape_str(c.x), c.out_h, c.out_w);
      CHECK(gradcheck([&](auto& in) { return upsample_bilinear2d(in[0], c.out_h, c.out_w, align_corners); },
                      {Tensor::normal(c.x, 0, 1, rng)}));
    }
}

// PyTorch's rule for the source position of output index `dst`, written out: with align_corners
// the corners coincide, src = dst (in - 1) / (out - 1) (0 for a single output); without, the pixel
// centres do, src = (dst + 0.5) in / out - 0.5, held at 0 from below.
static double source_position(int64_t dst, int64_t in, int64_t out, bool align_corners) {
  if (align_corners)
    return out > 1 ? static_cast<double>(dst) * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0;
  return std::max(0.0, (static_cast<double>(dst) + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5);
}

// Every plane of a batch, for each of upsample_cases: the output and dx of L = sum(y * w) against
// the definition (the gradient check shares the op's taps).
TEST_CASE("upsample_bilinear2d against its definition, forward and backward", "[ops][upsample_bilinear2d]") {
  Rng rng(32);
  for (bool align_corners : {false, true})
    for (const UpsampleCase& c : upsample_cases) {
      CAPTURE(align_corners, shape_str(c.x), c.out_h, c.out_w);
      const int64_t planes = c.x[0] * c.x[1], H = c.x[2], W = c.x[3];
      Tensor x = Tensor::normal(c.x, 0, 1, rng).set_requires_grad(true);
      Tensor y = upsample_bilinear2d(x, c.out_h, c.out_w, align_corners);
      Tensor w = Tensor::normal(y.shape(), 0, 1, rng);
      sum(mul(y, w)).backward();
      Tensor expected = Tensor::zeros(y.shape()), dx = Tensor::zeros(c.x);
      for (int64_t plane = 0; plane < planes; plane++)
        for (int64_t i = 0; i < c.out_h; i++)
          for (int64_t j = 0; j < c.out_w; j++) {
            const double r = source_position(i, H, c.out_h, align_corners),
                         q = source_position(j, W, c.out_w, align_corners);
            const int64_t r0 = std::min(static_cast<int64_t>(r), H - 1), q0 = std::min(static_cast<int64_t>(q), W - 1);
            const int64_t r1 = std::min(r0 + 1, H - 1), q1 = std::min(q0 + 1, W - 1);
            const double fr = r - static_cast<double>(r0), fq = q - static_cast<double>(q0);
            const int64_t o = (plane * c.out_h + i) * c.out_w + j;
            const std::pair<int64_t, double> taps[] = {{r0 * W + q0, (1 - fr) * (1 - fq)},
                                                       {r0 * W + q1, (1 - fr) * fq},
                                                       {r1 * W + q0, fr * (1 - fq)},
                                                       {r1 * W + q1, fr * fq}};
            double total = 0;
            for (auto [at, weight] : taps) {
              total += weight * x.data()[plane * H * W + at];
              dx.data()[plane * H * W + at] += static_cast<real>(weight * w.data()[o]);
            }
            expected.data()[o] = static_cast<real>(total);
          }
      CHECK(allclose(y, expected, 1e-5, 1e-4));
      CHECK(allclose(x.grad(), dx, 1e-5, 1e-4));
    }
}

TEST_CASE("upsample_bilinear2d errors", "[ops][upsample_bilinear2d]") {
  CHECK_THROWS_WITH(upsample_bilinear2d(Tensor::zeros({2, 3, 4}), 8, 8, false), Catch::Contains("(N, C, H, W)"));
  CHECK_THROWS_WITH(upsample_bilinear2d(Tensor::zeros({1, 1, 4, 4}), 0, 8, false), Catch::Contains("at least 1x1"));
}
