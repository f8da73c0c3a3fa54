// Pooling: forward values by hand on a small known input, backward by gradcheck, option errors.
#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

// Distinct values 0.1 apart in random order: no ties, and a step of eps = 0.01 never reorders them.
static Tensor distinct_values(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; i++) t.data()[i] = static_cast<real>(0.1 * (i - n / 2));
  for (int64_t i = n - 1; i > 0; i--) std::swap(t.data()[i], t.data()[rng.randint(i + 1)]);  // Fisher-Yates
  return t;
}

// One 4x4 plane with its values 1..16 scattered
static Tensor known_plane() {
  return Tensor::from_data({1, 1, 4, 4}, {1, 5, 2, 16,   //
                                          3, 4, 8, 7,    //
                                          9, 6, 10, 15,  //
                                          11, 14, 12, 13});
}

static Tensor negated(const Tensor& x) {
  Tensor y = x.clone();
  for (int64_t i = 0; i < y.numel(); i++) y.data()[i] = -y.data()[i];
  return y;
}

TEST_CASE("max_pool2d forward", "[ops][max_pool2d]") {
  Tensor x = known_plane();
  CHECK(allclose(max_pool2d(x, {.kernel = 2}), Tensor::from_data({1, 1, 2, 2}, {5, 16, 14, 15})));
  // windows rows/cols {0,1} and {1,2,3} (the row and column -1 are padding)
  CHECK(allclose(max_pool2d(x, {.kernel = 3, .stride = 2, .padding = 1}),
                 Tensor::from_data({1, 1, 2, 2}, {5, 16, 14, 15})));
  // all values negative: the padding acts as -inf, not as 0
  CHECK(allclose(max_pool2d(negated(x), {.kernel = 3, .stride = 2, .padding = 1}),
                 Tensor::from_data({1, 1, 2, 2}, {-1, -2, -3, -4})));
  // stride 1, kernel 2: 3x3 outputs
  CHECK(allclose(max_pool2d(x, {.kernel = 2, .stride = 1}),
                 Tensor::from_data({1, 1, 3, 3}, {5, 8, 16, 9, 10, 15, 14, 14, 15})));
}

TEST_CASE("max_pool2d grad", "[ops][max_pool2d][grad]") {
  Rng rng(21);
  for (Pool2dOptions options : {Pool2dOptions{.kernel = 2}, Pool2dOptions{.kernel = 3, .stride = 2, .padding = 1},
                                Pool2dOptions{.kernel = 3, .stride = 1, .padding = 1},
                                Pool2dOptions{.kernel = 2, .stride = 1}, Pool2dOptions{.kernel = 3, .stride = 3}}) {
    CAPTURE(options.kernel, options.stride, options.padding);
    CHECK(gradcheck([&](auto& in) { return max_pool2d(in[0], options); }, {distinct_values({2, 3, 7, 5}, rng)}));
  }
}

// The definition, one window at a time: the first maximum in scan order, padding never chosen.
// Returns y, and for each output the index within its plane that the gradient goes to.
static std::pair<std::vector<real>, std::vector<int64_t>> max_pool_by_definition(const Tensor& x, Pool2dOptions o) {
  const int64_t stride = o.stride > 0 ? o.stride : o.kernel;
  const int64_t H = x.size(2), W = x.size(3), planes = x.size(0) * x.size(1);
  const int64_t OH = (H + 2 * o.padding - o.kernel) / stride + 1, OW = (W + 2 * o.padding - o.kernel) / stride + 1;
  std::vector<real> y;
  std::vector<int64_t> at;
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t best = -1;
        for (int64_t ih = oh * stride - o.padding; ih < oh * stride - o.padding + o.kernel; ih++)
          for (int64_t iw = ow * stride - o.padding; iw < ow * stride - o.padding + o.kernel; iw++) {
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const int64_t i = ih * W + iw;
            if (best < 0 || x.data()[p * H * W + i] > x.data()[p * H * W + best]) best = i;
          }
        y.push_back(x.data()[p * H * W + best]);
        at.push_back(best);
      }
  return {y, at};
}

TEST_CASE("max_pool2d against its definition, ties and odd sides included", "[ops][max_pool2d]") {
  Rng rng(24);
  for (Pool2dOptions options : {Pool2dOptions{.kernel = 2}, Pool2dOptions{.kernel = 3, .stride = 2, .padding = 1},
                                Pool2dOptions{.kernel = 2, .stride = 1}, Pool2dOptions{.kernel = 3}}) {
    for (Shape shape : {Shape{2, 3, 8, 8}, Shape{1, 2, 7, 5}, Shape{3, 1, 6, 9}}) {
      CAPTURE(options.kernel, options.stride, options.padding, shape_str(shape));
      Tensor x = Tensor::empty(shape);  // three values only: most windows hold a tie
      for (int64_t i = 0; i < x.numel(); i++) x.data()[i] = static_cast<real>(rng.randint(3));
      x.set_requires_grad(true);
      const auto [expected, at] = max_pool_by_definition(x, options);
      Tensor y = max_pool2d(x, options);
      REQUIRE(y.numel() == static_cast<int64_t>(expected.size()));
      Tensor w = Tensor::normal(y.shape(), 0, 1, rng);  // each output's gradient told apart
      sum(mul(y, w)).backward();
      std::vector<real> dx(x.numel(), 0);
      const int64_t plane_size = shape[2] * shape[3], outputs_per_plane = y.size(2) * y.size(3);
      for (int64_t o = 0; o < y.numel(); o++) dx[o / outputs_per_plane * plane_size + at[o]] += w.data()[o];
      bool same = true;
      for (int64_t o = 0; o < y.numel(); o++) same = same && y.data()[o] == expected[o];
      for (int64_t i = 0; i < x.numel(); i++) same = same && x.grad().data()[i] == dx[i];
      CHECK(same);
    }
  }
}

TEST_CASE("avg_pool2d forward", "[ops][avg_pool2d]") {
  Tensor x = known_plane();
  CHECK(allclose(avg_pool2d(x, {.kernel = 2}), Tensor::from_data({1, 1, 2, 2}, {3.25f, 8.25f, 10, 12.5f})));
  // the padding counts as zeros in the divisor 9 (count_include_pad = True)
  CHECK(allclose(avg_pool2d(x, {.kernel = 3, .stride = 2, .padding = 1}),
                 Tensor::from_data({1, 1, 2, 2}, {13 / 9.f, 42 / 9.f, 47 / 9.f, 89 / 9.f})));
}

// The definition, written out: y[n,c,oh,ow] = (1 / k^2) sum of x over the window, padding as
// zeros; and its gradient, each output's dy spread as dy / k^2 over the pixels of its window.
// Batches, channels, odd sides, strides and paddings the hand values above do not reach; the
// gradient check shares window() with the op, this reference does not.
TEST_CASE("avg_pool2d against its definition, forward and backward", "[ops][avg_pool2d]") {
  Rng rng(25);
  for (Pool2dOptions options :
       {Pool2dOptions{.kernel = 2}, Pool2dOptions{.kernel = 3, .stride = 2, .padding = 1},
        Pool2dOptions{.kernel = 3, .stride = 1, .padding = 1}, Pool2dOptions{.kernel = 5, .stride = 2, .padding = 2}}) {
    for (Shape shape : {Shape{2, 3, 8, 8}, Shape{1, 2, 7, 5}, Shape{3, 1, 6, 9}}) {
      CAPTURE(options.kernel, options.stride, options.padding, shape_str(shape));
      const int64_t k = options.kernel, s = options.stride > 0 ? options.stride : k, p = options.padding;
      const int64_t planes = shape[0] * shape[1], H = shape[2], W = shape[3];
      const int64_t OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
      Tensor x = Tensor::normal(shape, 0, 1, rng).set_requires_grad(true);
      Tensor y = avg_pool2d(x, options);
      REQUIRE(y.shape() == Shape{shape[0], shape[1], OH, OW});
      Tensor w = Tensor::normal(y.shape(), 0, 1, rng);
      sum(mul(y, w)).backward();
      Tensor expected = Tensor::zeros(y.shape()), dx = Tensor::zeros(shape);
      for (int64_t plane = 0; plane < planes; plane++)
        for (int64_t oh = 0; oh < OH; oh++)
          for (int64_t ow = 0; ow < OW; ow++) {
            const int64_t o = (plane * OH + oh) * OW + ow;
            double total = 0;
            for (int64_t i = oh * s - p; i < oh * s - p + k; i++)
              for (int64_t j = ow * s - p; j < ow * s - p + k; j++) {
                if (i < 0 || i >= H || j < 0 || j >= W) continue;  // padding: a zero, counted in k^2
                total += x.data()[(plane * H + i) * W + j];
                dx.data()[(plane * H + i) * W + j] += w.data()[o] / static_cast<real>(k * k);
              }
            expected.data()[o] = static_cast<real>(total / static_cast<double>(k * k));
          }
      CHECK(allclose(y, expected));
      CHECK(allclose(x.grad(), dx));
    }
  }
}

TEST_CASE("avg_pool2d grad", "[ops][avg_pool2d][grad]") {
  Rng rng(22);
  for (Pool2dOptions options :
       {Pool2dOptions{.kernel = 2}, Pool2dOptions{.kernel = 3, .stride = 2, .padding = 1},
        Pool2dOptions{.kernel = 3, .stride = 1, .padding = 1}, Pool2dOptions{.kernel = 2, .stride = 1},
        Pool2dOptions{.kernel = 5, .stride = 2, .padding = 2}}) {
    CAPTURE(options.kernel, options.stride, options.padding);
    CHECK(gradcheck([&](auto& in) { return avg_pool2d(in[0], options); }, {Tensor::normal({2, 3, 7, 5}, 0, 1, rng)}));
  }
}

TEST_CASE("global_avg_pool2d forward", "[ops][global_avg_pool2d]") {
  Tensor x = known_plane();
  CHECK(allclose(global_avg_pool2d(x), Tensor::from_data({1, 1}, {8.5f})));
  Tensor xy = Tensor::from_data({1, 2, 1, 3}, {1, 2, 6, -1, -2, -6});
  CHECK(allclose(global_avg_pool2d(xy), Tensor::from_data({1, 2}, {3, -3})));
}

TEST_CASE("global_avg_pool2d grad", "[ops][global_avg_pool2d][grad]") {
  Rng rng(23);
  for (Shape shape : {Shape{2, 3, 4, 5}, Shape{3, 2, 1, 1}, Shape{1, 4, 7, 3}})
    CHECK(gradcheck([](auto& in) { return global_avg_pool2d(in[0]); }, {Tensor::normal(shape, 0, 1, rng)}));
}

TEST_CASE("global_max_pool2d forward", "[ops][global_max_pool2d]") {
  CHECK(allclose(global_max_pool2d(known_plane()), Tensor::from_data({1, 1}, {16})));
  CHECK(allclose(global_max_pool2d(negated(known_plane())), Tensor::from_data({1, 1}, {-1})));
  Tensor xy = Tensor::from_data({2, 1, 1, 3}, {1, 7, 6, -4, -2, -6});
  CHECK(allclose(global_max_pool2d(xy), Tensor::from_data({2, 1}, {7, -2})));
}

TEST_CASE("global_max_pool2d grad", "[ops][global_max_pool2d][grad]") {
  Rng rng(24);
  for (Shape shape : {Shape{2, 3, 4, 5}, Shape{3, 2, 1, 1}, Shape{1, 4, 7, 3}})
    CHECK(gradcheck([](auto& in) { return global_max_pool2d(in[0]); }, {distinct_values(shape, rng)}));
}

TEST_CASE("channel_mean forward", "[ops][channel_mean]") {
  Tensor x = Tensor::from_data({1, 3, 1, 2}, {1, 2, 3, -4, 8, 5});
  CHECK(allclose(channel_mean(x), Tensor::from_data({1, 1, 1, 2}, {4, 1})));
}

TEST_CASE("channel_mean grad", "[ops][channel_mean][grad]") {
  Rng rng(25);
  for (Shape shape : {Shape{2, 3, 4, 5}, Shape{1, 1, 3, 3}, Shape{3, 5, 2, 1}})
    CHECK(gradcheck([](auto& in) { return channel_mean(in[0]); }, {Tensor::normal(shape, 0, 1, rng)}));
}

TEST_CASE("channel_max forward", "[ops][channel_max]") {
  Tensor x = Tensor::from_data({2, 3, 1, 2}, {1, 2, 3, -4, 8, 5,  //
                                              -1, -2, -3, -4, -8, -5});
  CHECK(allclose(channel_max(x), Tensor::from_data({2, 1, 1, 2}, {8, 5, -1, -2})));
}

TEST_CASE("channel_max grad", "[ops][channel_max][grad]") {
  Rng rng(26);
  for (Shape shape : {Shape{2, 3, 4, 5}, Shape{1, 1, 3, 3}, Shape{3, 5, 2, 1}})
    CHECK(gradcheck([](auto& in) { return channel_max(in[0]); }, {distinct_values(shape, rng)}));
}

// Ties go to the first maximum in scan order, as in PyTorch, and so does the whole gradient.
TEST_CASE("max pools break ties to the first maximum", "[ops][max_pool2d][global_max_pool2d][channel_max]") {
  Tensor x = Tensor::ones({1, 1, 2, 2}).set_requires_grad(true);
  max_pool2d(x, {.kernel = 2}).backward();  // one window, one output
  CHECK(x.grad().to_vector() == std::vector<real>{1, 0, 0, 0});
  x.zero_grad();
  global_max_pool2d(x).backward();
  CHECK(x.grad().to_vector() == std::vector<real>{1, 0, 0, 0});
  Tensor channels = Tensor::ones({1, 3, 1, 1}).set_requires_grad(true);
  channel_max(channels).backward();
  CHECK(channels.grad().to_vector() == std::vector<real>{1, 0, 0});
}

TEST_CASE("pool errors", "[ops][max_pool2d][avg_pool2d]") {
  Tensor x = Tensor::zeros({2, 3, 5, 5});
  for (auto pool : {max_pool2d, avg_pool2d}) {
    CHECK_THROWS_WITH(pool(x, {.kernel = 0}), Catch::Contains("kernel and stride must be >= 1"));
    CHECK_THROWS_AS(pool(x, {.kernel = 2, .stride = -1}), Error);
    CHECK_THROWS_AS(pool(x, {.kernel = 2, .padding = -1}), Error);
    CHECK_THROWS_WITH(pool(x, {.kernel = 3, .padding = 2}), Catch::Contains("at most half the kernel"));
    CHECK_THROWS_WITH(pool(x, {.kernel = 6}), Catch::Contains("larger than the padded input"));
    CHECK_THROWS_WITH(pool(Tensor::zeros({3, 5, 5}), {}), Catch::Contains("(N, C, H, W)"));
  }
  CHECK_THROWS_AS(global_avg_pool2d(Tensor::zeros({2, 3})), Error);
  CHECK_THROWS_AS(global_max_pool2d(Tensor::zeros({2, 3, 0, 4})), Error);
  CHECK_THROWS_AS(channel_mean(Tensor::zeros({2, 3, 4})), Error);
  CHECK_THROWS_AS(channel_max(Tensor::zeros({2, 0, 4, 4})), Error);
  // an empty batch pools to an empty batch
  CHECK(global_max_pool2d(Tensor::zeros({0, 3, 4, 4})).shape() == Shape{0, 3});
  CHECK(channel_max(Tensor::zeros({0, 3, 4, 4})).shape() == Shape{0, 1, 4, 4});
}
