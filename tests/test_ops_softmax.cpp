// softmax and log_softmax along any axis: values by hand and against a naive reference,
// stability on large logits, backward by gradcheck.
#include <catch2/catch.hpp>

#include <cmath>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

// softmax along `axis` straight from the definition, in double, with no max subtracted
// (fine for the small values used here).
Tensor softmax_reference(const Tensor& x, int64_t axis, bool log_space) {
  const Shape& s = x.shape();
  int64_t outer = 1, K = s[axis], inner = 1;
  for (int64_t d = 0; d < axis; d++) outer *= s[d];
  for (int64_t d = axis + 1; d < x.dim(); d++) inner *= s[d];
  Tensor y = Tensor::empty(s);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double total = 0;
      for (int64_t k = 0; k < K; k++) total += std::exp(double(x.data()[(o * K + k) * inner + i]));
      for (int64_t k = 0; k < K; k++) {
        int64_t at = (o * K + k) * inner + i;
        double e = std::exp(double(x.data()[at]));
        y.data()[at] = static_cast<real>(log_space ? std::log(e / total) : e / total);
      }
    }
  return y;
}

}  // namespace

TEST_CASE("softmax forward", "[ops][softmax]") {
  // by hand: softmax(0, ln 2, ln 5) = (1, 2, 5) / 8
  Tensor x = Tensor::from_data({1, 3}, {0, std::log(2.0f), std::log(5.0f)});
  CHECK(allclose(softmax(x, 1), Tensor::from_data({1, 3}, {0.125f, 0.25f, 0.625f})));
  CHECK(allclose(softmax(x, -1), Tensor::from_data({1, 3}, {0.125f, 0.25f, 0.625f})));
  CHECK(allclose(softmax(x, 0), Tensor::ones({1, 3})));

  Rng rng(40);
  Tensor t = Tensor::normal({2, 3, 4, 5}, 0, 2, rng);
  for (int64_t axis = 0; axis < 4; axis++) {
    INFO("axis " << axis);
    CHECK(allclose(softmax(t, axis), softmax_reference(t, axis, false)));
    CHECK(allclose(softmax(t, axis - 4), softmax_reference(t, axis, false)));
  }
  // large logits: e^1000 overflows, e^(1000 - max) does not
  Tensor big = Tensor::from_data({2, 2}, {1000, 1000, -1000, 0});
  CHECK(allclose(softmax(big, 1), Tensor::from_data({2, 2}, {0.5f, 0.5f, 0, 1})));
  CHECK_THROWS_WITH(softmax(t, 4), Catch::Contains("softmax") && Catch::Contains("(2, 3, 4, 5)"));
}

TEST_CASE("log_softmax forward", "[ops][log_softmax]") {
  Tensor x = Tensor::from_data({1, 3}, {0, std::log(2.0f), std::log(5.0f)});
  CHECK(allclose(log_softmax(x, 1), Tensor::from_data({1, 3}, {std::log(0.125f), std::log(0.25f), std::log(0.625f)})));
  Rng rng(41);
  Tensor t = Tensor::normal({3, 4, 5}, 0, 2, rng);
  for (int64_t axis = 0; axis < 3; axis++) CHECK(allclose(log_softmax(t, axis), softmax_reference(t, axis, true)));
  Tensor big = Tensor::from_data({1, 2}, {1000, 0});
  CHECK(allclose(log_softmax(big, 1), Tensor::from_data({1, 2}, {0, -1000})));
  CHECK_THROWS_WITH(log_softmax(t, -4), Catch::Contains("log_softmax"));
}

TEST_CASE("softmax grad", "[ops][softmax][grad]") {
  Rng rng(42);
  for (auto [shape, axis] : std::vector<std::pair<Shape, int64_t>>{
           {{5}, 0}, {{3, 7}, 1}, {{3, 7}, 0}, {{2, 3, 4, 5}, 1}, {{2, 3, 4, 5}, -1}, {{4, 1}, 1}}) {
    INFO(shape_str(shape) << " along " << axis);
    const int64_t along = axis;  // clang 14 cannot capture a structured binding
    CHECK(gradcheck([along](auto& in) { return softmax(in[0], along); }, {Tensor::normal(shape, 0, 1.5f, rng)}));
  }
}

TEST_CASE("log_softmax grad", "[ops][log_softmax][grad]") {
  Rng rng(43);
  for (auto [shape, axis] : std::vector<std::pair<Shape, int64_t>>{
           {{5}, 0}, {{3, 7}, 1}, {{3, 7}, 0}, {{2, 3, 4, 5}, 2}, {{2, 3, 4, 5}, -1}, {{4, 1}, 1}}) {
    INFO(shape_str(shape) << " along " << axis);
    const int64_t along = axis;  // clang 14 cannot capture a structured binding
    CHECK(gradcheck([along](auto& in) { return log_softmax(in[0], along); }, {Tensor::normal(shape, 0, 1.5f, rng)}));
  }
}
