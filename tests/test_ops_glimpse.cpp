// glimpse (RAM's glimpse sensor): patches of a known image at known locations by hand, random
// cases against a naive crop-then-pool reference, backward to x by gradcheck.
#include <catch2/catch.hpp>

#include <cmath>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;
// The op shares the namespace's name, so outside the namespace it is called glimpse::glimpse.

namespace {

// (1, 1, H, W) with pixel value = its index y * W + x.
Tensor index_image(int64_t H, int64_t W) {
  Tensor x = Tensor::empty({1, 1, H, W});
  for (int64_t p = 0; p < H * W; p++) x.data()[p] = static_cast<real>(p);
  return x;
}

Tensor location(real lx, real ly) { return Tensor::from_data({1, 2}, {lx, ly}); }

// Naive reference: crop the s x s patch out of the zero-padded image, then average-pool it by f.
Tensor glimpse_reference(const Tensor& x, const Tensor& l, int64_t g, int64_t k) {
  int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor y = Tensor::zeros({N, k * C, g, g});
  for (int64_t n = 0; n < N; n++) {
    double lx = l.data()[2 * n], ly = l.data()[2 * n + 1];
    int64_t cx = static_cast<int64_t>(std::floor((lx + 1) / 2 * W));
    int64_t cy = static_cast<int64_t>(std::floor((ly + 1) / 2 * H));
    if (lx == 1) cx = W - 1;  // the right edge is the last pixel
    if (ly == 1) cy = H - 1;
    for (int64_t i = 0; i < k; i++) {
      int64_t f = int64_t{1} << i, s = g * f;
      for (int64_t c = 0; c < C; c++) {
        std::vector<double> patch(s * s, 0.0);  // (s, s), zeros where it leaves the image
        for (int64_t a = 0; a < s; a++)
          for (int64_t b = 0; b < s; b++) {
            int64_t row = cy - s / 2 + a, col = cx - s / 2 + b;
            if (row >= 0 && row < H && col >= 0 && col < W)
              patch[a * s + b] = x.data()[((n * C + c) * H + row) * W + col];
          }
        for (int64_t oy = 0; oy < g; oy++)
          for (int64_t ox = 0; ox < g; ox++) {
            double total = 0;
            for (int64_t a = 0; a < f; a++)
              for (int64_t b = 0; b < f; b++) total += patch[(oy * f + a) * s + ox * f + b];
            y.data()[((n * k * C + i * C + c) * g + oy) * g + ox] = static_cast<real>(total / (f * f));
          }
      }
    }
  }
  return y;
}

}  // namespace

TEST_CASE("extract_glimpse forward", "[ops][extract_glimpse]") {
  Tensor x = index_image(8, 8);  // row y holds 8y .. 8y + 7

  SECTION("the centre: l = (0, 0) is pixel (4, 4); the 2 x 2 patch covers rows and columns 3..4") {
    CHECK(allclose(extract_glimpse(x, location(0, 0), 2, 1), Tensor::from_data({1, 1, 2, 2}, {27, 28, 35, 36})));
  }
  SECTION("scales 2 and 3 at the centre: patches of side 4 and 8, pooled 2 x 2 and 4 x 4") {
    // scale 1: rows/columns 2..5; blocks {18,19,26,27} -> 22.5, {20,21,28,29} -> 24.5,
    //          {34,35,42,43} -> 38.5, {36,37,44,45} -> 40.5
    // scale 2: the whole image in 4 x 4 blocks; the block at rows a..a+3, columns b..b+3 has the
    //          mean 8 (a + 1.5) + (b + 1.5): 13.5, 17.5, 45.5, 49.5
    Tensor y = extract_glimpse(x, location(0, 0), 2, 3);
    REQUIRE(y.shape() == Shape{1, 3, 2, 2});
    CHECK(allclose(y, Tensor::from_data({1, 3, 2, 2}, {27, 28, 35, 36,              //
                                                       22.5f, 24.5f, 38.5f, 40.5f,  //
                                                       13.5f, 17.5f, 45.5f, 49.5f})));
  }
  SECTION("the top-left corner l = (-1, -1): pixel (0, 0), the patch half in the padding") {
    // scale 0: rows/columns -2..1;  scale 1: rows/columns -4..3, blocks of 2 x 2, the upper-left
    // ones all padding; {0,1,8,9} -> 4.5, {2,3,10,11} -> 6.5, {16,17,24,25} -> 20.5, {18,19,26,27} -> 22.5
    Tensor y = extract_glimpse(x, location(-1, -1), 4, 2);
    CHECK(allclose(y, Tensor::from_data({1, 2, 4, 4}, {0, 0, 0,     0,    0, 0, 0, 0, 0, 0, 0,    1,    0, 0, 8, 9,  //
                                                       0, 0, 0,     0,    0, 0, 0, 0, 0, 0, 4.5f, 6.5f,              //
                                                       0, 0, 20.5f, 22.5f})));
  }
  SECTION("the bottom-right corner l = (1, 1) is the last pixel (7, 7), not one past it") {
    CHECK(allclose(extract_glimpse(x, location(1, 1), 2, 1), Tensor::from_data({1, 1, 2, 2}, {54, 55, 62, 63})));
    CHECK(allclose(extract_glimpse(x, location(1, 1), 4, 1),  // rows/columns 5..8
                   Tensor::from_data({1, 1, 4, 4}, {45, 46, 47, 0, 53, 54, 55, 0, 61, 62, 63, 0, 0, 0, 0, 0})));
  }
  SECTION("l is (x, y): x picks the column, y the row (a 6 x 8 image)") {
    // cx = floor(0.75 * 8) = 6, cy = floor(0.25 * 6) = 1: rows 0..1, columns 5..6
    CHECK(allclose(extract_glimpse(index_image(6, 8), location(0.5f, -0.5f), 2, 1),
                   Tensor::from_data({1, 1, 2, 2}, {5, 6, 13, 14})));
  }
  SECTION("odd g: the patch of side 3 around pixel (4, 4) covers 3..5") {
    CHECK(allclose(extract_glimpse(x, location(0, 0), 3, 1),
                   Tensor::from_data({1, 1, 3, 3}, {27, 28, 29, 35, 36, 37, 43, 44, 45})));
  }
  SECTION("locations outside [-1, 1] fall further into the padding") {
    CHECK(allclose(extract_glimpse(x, location(3, 0), 2, 2), Tensor::zeros({1, 2, 2, 2})));
    CHECK(allclose(extract_glimpse(x, location(-1e30f, 1e30f), 2, 2), Tensor::zeros({1, 2, 2, 2})));
  }
  SECTION("batch, channels and scales against the naive reference, channel index i*C + c") {
    Rng rng(21);
    Tensor xs = Tensor::normal({3, 2, 12, 10}, 0, 1, rng);
    Tensor l = Tensor::from_data({3, 2}, {0.1f, -0.3f, -1, 1, 0.9f, -1.2f});
    for (int64_t g : {1, 2, 3, 5})
      for (int64_t k : {1, 2, 3}) CHECK(allclose(extract_glimpse(xs, l, g, k), glimpse_reference(xs, l, g, k)));
  }
  SECTION("bad arguments") {
    CHECK_THROWS_WITH(extract_glimpse(x, Tensor::zeros({1, 3}), 2, 1),
                      Catch::Contains("(N, 2)") && Catch::Contains("(1, 3)"));
    CHECK_THROWS_WITH(extract_glimpse(x, Tensor::zeros({2, 2}), 2, 1),  // another N
                      Catch::Contains("with the N of x") && Catch::Contains("(2, 2)"));
    CHECK_THROWS_WITH(extract_glimpse(Tensor::zeros({8, 8}), Tensor::zeros({1, 2}), 2, 1),
                      Catch::Contains("x must have shape (N, C, H, W), got (8, 8)"));
    CHECK_THROWS_WITH(extract_glimpse(x, location(0, 0), 0, 1), Catch::Contains("at least 1, got g = 0"));
    CHECK_THROWS_WITH(extract_glimpse(x, location(0, 0), 2, 0), Catch::Contains("k = 0"));
    CHECK_THROWS_WITH(extract_glimpse(x, location(0, 0), 1 << 20, 2), Catch::Contains("too large"));
    CHECK_THROWS_WITH(extract_glimpse(x, location(0, 0), 2, 21), Catch::Contains("too large"));
    CHECK_THROWS_WITH(extract_glimpse(x, location(std::nanf(""), 0), 2, 1), Catch::Contains("not finite"));
  }
}

// The centre pixel of a location: floor((l + 1) / 2 * size), the last pixel at l = 1, held within
// `reach` of the image outside [-1, 1]; the glimpse pictures place their boxes by it too.
TEST_CASE("location_to_pixel", "[ops][extract_glimpse]") {
  CHECK(location_to_pixel(-1, 28, 8) == 0);
  CHECK(location_to_pixel(0, 28, 8) == 14);
  CHECK(location_to_pixel(0.5f, 28, 8) == 21);
  CHECK(location_to_pixel(1, 28, 8) == 27);  // not 28, one past the image
  CHECK(location_to_pixel(-3, 28, 8) == -8);
  CHECK(location_to_pixel(5, 28, 8) == 36);
  CHECK(location_to_pixel(1e30f, 28, 8) == 36);
  CHECK_THROWS_WITH(location_to_pixel(std::nanf(""), 28, 8), Catch::Contains("not finite"));
  CHECK_THROWS_WITH(location_to_pixel(INFINITY, 28, 8), Catch::Contains("not finite"));
}

TEST_CASE("extract_glimpse grad", "[ops][extract_glimpse][grad]") {
  Rng rng(22);
  struct Case {
    int64_t N, C, H, W, g, k;
  };
  for (Case s : {Case{1, 1, 8, 8, 2, 1}, Case{2, 3, 10, 12, 3, 3}, Case{3, 2, 9, 7, 2, 2}}) {
    Tensor x = Tensor::normal({s.N, s.C, s.H, s.W}, 0, 1, rng);
    Tensor l = Tensor::uniform({s.N, 2}, -1, 1, rng);
    l.data()[0] = -1;  // one patch hanging over a corner
    CHECK(gradcheck([&](auto& in) { return extract_glimpse(in[0], l, s.g, s.k); }, {x}));
  }
  SECTION("no gradient reaches l") {
    Tensor x = Tensor::normal({1, 1, 6, 6}, 0, 1, rng).set_requires_grad(true);
    Tensor l = Tensor::from_data({1, 2}, {0, 0}).set_requires_grad(true);  // pixel (3, 3): both patches inside
    Tensor y = extract_glimpse(x, l, 2, 2);
    y.grad_fn()->backward(Tensor::ones(y.shape()));  // the node alone, seeded with dy = 1
    CHECK_FALSE(l.grad().defined());
    // each of the 8 outputs spreads its dy = 1 over the pixels it averaged: 1 per 1 pixel at
    // scale 0, 1/4 per pixel over 2 x 2 at scale 1
    real total = 0;
    for (real d : x.grad().to_vector()) total += d;
    CHECK(total == Approx(8));
    CHECK(x.grad().data()[1 * 6 + 1] == Approx(0.25));  // scale 1 only (rows/columns 1..4)
    CHECK(x.grad().data()[3 * 6 + 3] == Approx(1.25));  // both scales (rows/columns 2..3 at scale 0)
  }
}
