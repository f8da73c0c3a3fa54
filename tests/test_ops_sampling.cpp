// affine_grid and grid_sample: forward values by hand and against naive references, backward
// by gradcheck (to theta, to the image and to the grid).
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/parallel.h"
#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

Tensor identity_theta(int64_t N) {
  Tensor theta = Tensor::zeros({N, 2, 3});
  for (int64_t n = 0; n < N; n++) theta.data()[n * 6 + 0] = theta.data()[n * 6 + 4] = 1;
  return theta;
}

// The normalised coordinate of the (fractional) pixel position p on an axis of `size` pixels,
// the inverse of grid_sample's p = ((g + 1) * size - 1) / 2.
real normalised(double p, int64_t size) { return static_cast<real>((2 * p + 1) / size - 1); }

// A pixel position whose fractional part lies in [0.1, 0.9], away from the kinks of bilinear
// interpolation at whole pixels, between -1 + 0.1 and size - 0.1: the points near either end
// have one neighbour in the zero padding.
double position_between_pixels(int64_t size, Rng& rng) {
  return static_cast<double>(rng.randint(size + 1) - 1) + rng.uniform(0.1f, 0.9f);
}

// A grid (N, OH, OW, 2) of such points; every fifth point lies wholly outside the image.
Tensor grid_away_from_kinks(int64_t N, int64_t OH, int64_t OW, int64_t H, int64_t W, Rng& rng) {
  Tensor grid = Tensor::empty({N, OH, OW, 2});
  for (int64_t p = 0; p < N * OH * OW; p++) {
    double ix = position_between_pixels(W, rng), iy = position_between_pixels(H, rng);
    if (p % 5 == 4) ix = -3.5 + rng.uniform(0.1f, 0.9f);  // left of the image, all padding
    grid.data()[2 * p] = normalised(ix, W);
    grid.data()[2 * p + 1] = normalised(iy, H);
  }
  return grid;
}

// True when every point of the grid maps to a pixel position with a fractional part in
// [0.1, 0.9] on both axes.
bool away_from_kinks(const Tensor& grid, int64_t H, int64_t W) {
  for (int64_t p = 0; p < grid.numel() / 2; p++) {
    double ix = ((grid.data()[2 * p] + 1.0) * W - 1) / 2, iy = ((grid.data()[2 * p + 1] + 1.0) * H - 1) / 2;
    double fx = ix - std::floor(ix), fy = iy - std::floor(iy);
    if (fx < 0.1 || fx > 0.9 || fy < 0.1 || fy > 0.9) return false;
  }
  return true;
}

// Naive bilinear sampling of one point, straight from the definition (PyTorch's F.grid_sample,
// bilinear, zeros, align_corners = false), in double.
double bilinear_reference(const Tensor& x, int64_t n, int64_t c, double gx, double gy) {
  int64_t H = x.size(2), W = x.size(3);
  double ix = ((gx + 1) * W - 1) / 2, iy = ((gy + 1) * H - 1) / 2;
  double x0 = std::floor(ix), y0 = std::floor(iy);
  double total = 0;
  for (int dy = 0; dy < 2; dy++) {
    for (int dx = 0; dx < 2; dx++) {
      int64_t row = static_cast<int64_t>(y0) + dy, col = static_cast<int64_t>(x0) + dx;
      double weight = (dx ? ix - x0 : 1 - (ix - x0)) * (dy ? iy - y0 : 1 - (iy - y0));
      if (row >= 0 && row < H && col >= 0 && col < W)
        total += weight * x.data()[((n * x.size(1) + c) * H + row) * W + col];
    }
  }
  return total;
}

}  // namespace

// ---- affine_grid ----

TEST_CASE("affine_grid forward", "[ops][affine_grid]") {
  SECTION("the identity reproduces the base grid of pixel centres") {
    Tensor grid = affine_grid(identity_theta(2), 3, 4);  // x_j = (2j+1)/4 - 1, y_i = (2i+1)/3 - 1
    REQUIRE(grid.shape() == Shape{2, 3, 4, 2});
    std::vector<real> expected;
    for (int n = 0; n < 2; n++)
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) expected.insert(expected.end(), {(2 * j + 1) / 4.0f - 1, (2 * i + 1) / 3.0f - 1});
    CHECK(allclose(grid, Tensor::from_data({2, 3, 4, 2}, expected)));
    CHECK(grid.data()[0] == Approx(-0.75));  // the centre of the top-left pixel
    CHECK(grid.data()[1] == Approx(-2.0 / 3));
  }
  SECTION("a general theta moves each point by theta @ (x, y, 1)") {
    Tensor theta = Tensor::from_data({1, 2, 3}, {0.5f, -0.2f, 0.1f, 0.3f, 1.5f, -0.4f});
    Tensor grid = affine_grid(theta, 2, 5);
    const real* t = theta.data();
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 5; j++) {
        double x = (2 * j + 1) / 5.0 - 1, y = (2 * i + 1) / 2.0 - 1;
        CHECK(grid.data()[(i * 5 + j) * 2 + 0] == Approx(t[0] * x + t[1] * y + t[2]).margin(1e-6));
        CHECK(grid.data()[(i * 5 + j) * 2 + 1] == Approx(t[3] * x + t[4] * y + t[5]).margin(1e-6));
      }
    }
  }
  SECTION("bad arguments") {
    CHECK_THROWS_WITH(affine_grid(Tensor::zeros({2, 3, 2}), 4, 4),
                      Catch::Contains("(N, 2, 3)") && Catch::Contains("(2, 3, 2)"));
    CHECK_THROWS_WITH(affine_grid(Tensor::zeros({6}), 4, 4),
                      Catch::Contains("theta must have shape (N, 2, 3), got (6)"));
    CHECK_THROWS_WITH(affine_grid(identity_theta(1), 0, 4), Catch::Contains("at least 1 x 1, got 0 x 4"));
  }
}

TEST_CASE("affine_grid grad", "[ops][affine_grid][grad]") {
  Rng rng(11);
  for (auto [N, OH, OW] : {std::tuple{1, 3, 4}, std::tuple{3, 5, 2}, std::tuple{2, 1, 7}}) {
    Tensor theta = Tensor::normal({N, 2, 3}, 0, 1, rng);
    const int64_t out_h = OH, out_w = OW;  // clang 14 cannot capture a structured binding
    CHECK(gradcheck([=](auto& in) { return affine_grid(in[0], out_h, out_w); }, {theta}));
  }
}

// ---- grid_sample ----

TEST_CASE("grid_sample forward", "[ops][grid_sample]") {
  Rng rng(12);
  SECTION("the identity grid returns the input (align_corners = false: pixel centres)") {
    Tensor x = Tensor::normal({2, 3, 5, 7}, 0, 1, rng);
    Tensor y = grid_sample(x, affine_grid(identity_theta(2), 5, 7));
    CHECK(allclose(y, x, 1e-5, 1e-5));  // exact up to the float rounding of the coordinates
  }
  SECTION("a bilinear value by hand") {
    // x = [1 2; 3 4]. The point ix = 0.25, iy = 0.5 blends the four pixels with weights
    // (0.75, 0.25) across and (0.5, 0.5) down: 0.5 * (0.75*1 + 0.25*2) + 0.5 * (0.75*3 + 0.25*4) = 2.25.
    // The point ix = -0.5, iy = 0 (the left edge of the image) is half padding: 0.5*0 + 0.5*1 = 0.5.
    Tensor x = Tensor::from_data({1, 1, 2, 2}, {1, 2, 3, 4});
    Tensor grid = Tensor::from_data({1, 1, 2, 2}, {normalised(0.25, 2), normalised(0.5, 2),  //
                                                   normalised(-0.5, 2), normalised(0, 2)});
    CHECK(grid.data()[0] == Approx(-0.25));
    CHECK(allclose(grid_sample(x, grid), Tensor::from_data({1, 1, 1, 2}, {2.25f, 0.5f})));
  }
  SECTION("translating by exactly one pixel shifts the image left, padding with zeros") {
    int64_t H = 4, W = 6;
    Tensor x = Tensor::normal({1, 2, H, W}, 0, 1, rng);
    Tensor theta = Tensor::from_data({1, 2, 3}, {1, 0, 2.0f / W, 0, 1, 0});  // gx = x + one pixel
    Tensor y = grid_sample(x, affine_grid(theta, H, W));
    Tensor expected = Tensor::zeros(x.shape());
    for (int64_t c = 0; c < 2; c++)
      for (int64_t i = 0; i < H; i++)
        for (int64_t j = 0; j + 1 < W; j++) expected.data()[(c * H + i) * W + j] = x.data()[(c * H + i) * W + j + 1];
    CHECK(allclose(y, expected, 1e-5, 1e-5));
  }
  SECTION("points outside the image read zeros, NaN points too") {
    Tensor x = Tensor::ones({1, 1, 3, 3});
    Tensor grid = Tensor::from_data({1, 1, 4, 2}, {1.8f, 0, -1.5f, 0.2f, 0, 2.0f, std::nanf(""), 0});
    CHECK(allclose(grid_sample(x, grid), Tensor::zeros({1, 1, 1, 4})));
  }
  SECTION("random grids against a naive reference, batch and channels") {
    Tensor x = Tensor::normal({2, 3, 5, 6}, 0, 1, rng);
    Tensor grid = Tensor::uniform({2, 4, 3, 2}, -1.3f, 1.3f, rng);
    Tensor y = grid_sample(x, grid);
    REQUIRE(y.shape() == Shape{2, 3, 4, 3});
    Tensor expected = Tensor::empty(y.shape());
    for (int64_t n = 0; n < 2; n++)
      for (int64_t c = 0; c < 3; c++)
        for (int64_t p = 0; p < 12; p++) {
          const real* g = grid.data() + (n * 12 + p) * 2;
          expected.data()[(n * 3 + c) * 12 + p] = static_cast<real>(bilinear_reference(x, n, c, g[0], g[1]));
        }
    CHECK(allclose(y, expected, 1e-5, 1e-4));
  }
  SECTION("bad arguments") {
    Tensor x = Tensor::zeros({2, 1, 4, 4});
    CHECK_THROWS_WITH(grid_sample(x, Tensor::zeros({2, 3, 3, 3})), Catch::Contains("(N, OH, OW, 2)"));
    CHECK_THROWS_WITH(grid_sample(x, Tensor::zeros({1, 3, 3, 2})), Catch::Contains("with the N of x"));  // another N
    CHECK_THROWS_WITH(grid_sample(Tensor::zeros({2, 4, 4}), Tensor::zeros({2, 3, 3, 2})),
                      Catch::Contains("x must have shape (N, C, H, W), got (2, 4, 4)"));
  }
}

TEST_CASE("grid_sample grad", "[ops][grid_sample][grad]") {
  Rng rng(13);
  struct Case {
    int64_t N, C, H, W, OH, OW;
  };
  for (Case s : {Case{1, 1, 4, 5, 3, 3}, Case{2, 3, 5, 4, 4, 6}, Case{3, 2, 6, 7, 2, 5}}) {
    Tensor x = Tensor::normal({s.N, s.C, s.H, s.W}, 0, 1, rng);
    Tensor grid = grid_away_from_kinks(s.N, s.OH, s.OW, s.H, s.W, rng);
    // eps moves a point by eps * W / 2 <= 0.035 pixels: it stays between the same pixels
    CHECK(gradcheck([](auto& in) { return grid_sample(in[0], in[1]); }, {x, grid}));
  }
  SECTION("through affine_grid, as in a spatial transformer: to theta and the image") {
    int64_t H = 6, W = 6;
    Tensor theta;
    do {  // a random near-identity theta whose points all fall between pixels
      theta = identity_theta(2);
      for (int64_t i = 0; i < 12; i++) theta.data()[i] += rng.uniform(-0.3f, 0.3f);
    } while (!away_from_kinks(affine_grid(theta, H, W), H, W));
    Tensor x = Tensor::normal({2, 2, H, W}, 0, 1, rng);
    CHECK(gradcheck([&](auto& in) { return grid_sample(in[0], affine_grid(in[1], H, W)); }, {x, theta}, {.eps = 3e-3}));
  }
}

TEST_CASE("grid_sample backward does not depend on the thread count", "[ops][grid_sample]") {
  Rng rng(14);
  Tensor x = Tensor::normal({4, 3, 8, 8}, 0, 1, rng);
  Tensor grid = Tensor::uniform({4, 6, 6, 2}, -1.2f, 1.2f, rng);
  auto gradients = [&](int threads) {
    set_num_threads(threads);
    Tensor xi = x.clone().set_requires_grad(true), gi = grid.clone().set_requires_grad(true);
    Tensor y = grid_sample(xi, gi);
    y.grad_fn()->backward(Tensor::ones(y.shape()));  // the node alone, seeded with dy = 1
    return std::pair{xi.grad().to_vector(), gi.grad().to_vector()};
  };
  int previous = num_threads();
  auto one = gradients(1);
  auto two = gradients(2);
  set_num_threads(previous);
  CHECK(one.first == two.first);  // bitwise
  CHECK(one.second == two.second);
}
