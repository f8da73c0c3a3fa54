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

TEST_CASE("avg_pool2d forward", "[ops][avg_pool2d]") {
  Tensor x = known_plane();
  CHECK(allclose(avg_pool2d(x, {.kernel = 2}), Tensor::from_data({1, 1, 2, 2}, {3.25f, 8.25f, 10, 12.5f})));
  // the padding counts as zeros in the divisor 9 (count_include_pad = True)
  CHECK(allclose(avg_pool2d(x, {.kernel = 3, .stride = 2, .padding = 1}),
                 Tensor::from_data({1, 1, 2, 2}, {13 / 9.f, 42 / 9.f, 47 / 9.f, 89 / 9.f})));
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
