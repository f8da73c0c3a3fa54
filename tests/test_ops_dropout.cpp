// dropout, dropout2d: statistics of the mask, identity in evaluation, reproducible masks,
// backward by gradcheck with the same mask on every call.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/parallel.h"
#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

TEST_CASE("dropout forward statistics", "[ops][dropout]") {
  Rng rng(51);
  const int64_t n = 100000;
  for (real p : {0.1f, 0.3f, 0.5f, 0.9f}) {
    CAPTURE(p);
    Tensor y = dropout(Tensor::ones({n}), p, true, rng);
    int64_t kept = 0;
    bool values_ok = true;
    for (int64_t i = 0; i < n; i++) {
      real v = y.data()[i];
      if (v != 0) kept++;
      values_ok = values_ok && (v == 0 || v == 1 / (1 - p));  // a kept value is scaled by 1 / (1 - p)
    }
    CHECK(values_ok);
    CHECK(double(kept) / n == Approx(1 - p).margin(0.01));  // sd of the fraction is below 0.0016
  }
}

TEST_CASE("dropout2d forward statistics", "[ops][dropout2d]") {
  Rng rng(52);
  const int64_t N = 50, C = 40, HW = 6;
  Tensor y = dropout2d(Tensor::ones({N, C, 2, 3}), 0.5f, true, rng);
  int64_t kept = 0;
  bool whole_channels = true, values_ok = true;
  for (int64_t plane = 0; plane < N * C; plane++) {
    real first = y.data()[plane * HW];
    for (int64_t i = 0; i < HW; i++) whole_channels = whole_channels && y.data()[plane * HW + i] == first;
    values_ok = values_ok && (first == 0 || first == 2);  // 1 / (1 - p)
    if (first != 0) kept++;
  }
  CHECK(whole_channels);  // a channel is dropped or kept as a whole
  CHECK(values_ok);
  CHECK(double(kept) / (N * C) == Approx(0.5).margin(0.05));  // sd of the fraction is 0.011
}

TEST_CASE("dropout in evaluation is the identity", "[ops][dropout][dropout2d]") {
  Rng rng(53);
  Tensor x = Tensor::normal({2, 3, 4, 4}, 0, 1, rng).set_requires_grad(true);
  CHECK(dropout(x, 0.5f, false, rng).same(x));
  CHECK(dropout2d(x, 0.5f, false, rng).same(x));
  CHECK(dropout(x, 0, true, rng).same(x));  // nothing to drop
}

TEST_CASE("dropout masks repeat with the seed, whatever the thread count", "[ops][dropout][dropout2d]") {
  Tensor x = Tensor::ones({4, 8, 64, 64});  // large enough to be split among threads
  auto masks = [&](int threads) {
    set_num_threads(threads);
    Rng rng(54);
    return std::pair{dropout(x, 0.4f, true, rng).to_vector(), dropout2d(x, 0.4f, true, rng).to_vector()};
  };
  const int threads_before = num_threads();
  auto one = masks(1), two = masks(2);
  set_num_threads(threads_before);
  CHECK(one.first == two.first);
  CHECK(one.second == two.second);
}

TEST_CASE("dropout grad", "[ops][dropout][grad]") {
  Rng rng(55);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})
    for (real p : {0.3f, 0.5f}) {
      CAPTURE(shape_str(shape), p);
      auto f = [&](auto& in) {
        Rng mask_rng(99);  // seeded on every call: every call draws the same mask
        return dropout(in[0], p, true, mask_rng);
      };
      CHECK(gradcheck(f, {Tensor::normal(shape, 0, 1, rng)}));
    }
}

TEST_CASE("dropout2d grad", "[ops][dropout2d][grad]") {
  Rng rng(56);
  for (Shape shape : {Shape{2, 3, 4, 5}, Shape{4, 5, 2, 1}})
    for (real p : {0.3f, 0.5f}) {
      CAPTURE(shape_str(shape), p);
      auto f = [&](auto& in) {
        Rng mask_rng(98);
        return dropout2d(in[0], p, true, mask_rng);
      };
      CHECK(gradcheck(f, {Tensor::normal(shape, 0, 1, rng)}));
    }
}

TEST_CASE("dropout errors", "[ops][dropout][dropout2d]") {
  Rng rng(57);
  Tensor x = Tensor::ones({2, 3, 4, 4});
  CHECK_THROWS_WITH(dropout(x, 1, true, rng), Catch::Contains("p must be in [0, 1)"));
  CHECK_THROWS_AS(dropout(x, -0.1f, true, rng), Error);
  CHECK_THROWS_AS(dropout(x, std::nanf(""), false, rng), Error);  // checked in evaluation too
  CHECK_THROWS_AS(dropout2d(x, 1.5f, true, rng), Error);
  CHECK_THROWS_WITH(dropout2d(Tensor::ones({2, 3}), 0.5f, true, rng), Catch::Contains("(N, C, H, W)"));
}

// A process of a data-parallel step holds rows first.. of the batch (RowsOfBatch): its mask must
// be those rows of the mask one process draws for the whole batch, so that R processes train as
// one. The rows of a batch of 5, split 2 + 3, against the whole.
TEST_CASE("dropout of some rows of a batch draws those rows of the whole batch's mask", "[ops][dropout][dropout2d]") {
  Rng data_rng(58);
  Tensor x = Tensor::normal({5, 3, 4, 4}, 0, 1, data_rng);
  for (bool channels : {false, true}) {
    CAPTURE(channels);
    auto drop = [&](const Tensor& rows_of_x, RowsOfBatch rows) {
      Rng rng(59);  // every process seeds the step alike
      return channels ? dropout2d(rows_of_x, 0.5f, true, rng, rows) : dropout(rows_of_x, 0.5f, true, rng, rows);
    };
    Tensor whole = drop(x, {});
    CHECK(allclose(drop(slice(x, 0, 0, 2), {.first = 0, .total = 5}), slice(whole, 0, 0, 2), 0, 0));
    CHECK(allclose(drop(slice(x, 0, 2, 5), {.first = 2, .total = 5}), slice(whole, 0, 2, 5), 0, 0));
  }
  Rng rng(60);
  CHECK_THROWS_WITH(dropout(slice(x, 0, 2, 5), 0.5f, true, rng, {.first = 3, .total = 5}),
                    Catch::Contains("rows 3..5 of a batch of 5"));
}
