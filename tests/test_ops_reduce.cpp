// sum, mean, max over lists of axes, and argmax: forward values against a naive reference
// written here, backward by gradcheck, and the errors for bad axes.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

enum class Kind { sum, mean, max };

// The reduction one input value at a time: each lands on the output index made of its kept
// indices. Returns the keepdim shape; squeeze with reshape for the other.
Tensor reduce_reference(const Tensor& x, std::vector<int64_t> axes, Kind kind) {
  const int64_t rank = x.dim();
  std::vector<bool> reduced(rank, axes.empty());
  for (int64_t a : axes) reduced[a < 0 ? a + rank : a] = true;
  Shape out = x.shape();
  for (int64_t d = 0; d < rank; d++)
    if (reduced[d]) out[d] = 1;
  Tensor y = Tensor::full(out, kind == Kind::max ? -std::numeric_limits<real>::infinity() : 0);
  std::vector<int64_t> count(y.numel(), 0);
  for (int64_t i = 0; i < x.numel(); i++) {
    int64_t rest = i, o = 0, stride = 1;
    for (int64_t d = rank - 1; d >= 0; d--) {
      int64_t index = rest % x.shape()[d];
      rest /= x.shape()[d];
      if (!reduced[d]) o += index * stride;
      stride *= out[d];
    }
    real v = x.data()[i];
    y.data()[o] = kind == Kind::max ? std::max(y.data()[o], v) : y.data()[o] + v;
    count[o]++;
  }
  if (kind == Kind::mean)
    for (int64_t o = 0; o < y.numel(); o++) y.data()[o] /= static_cast<real>(count[o]);
  return y;
}

Shape squeezed(const Shape& shape, std::vector<int64_t> axes) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  Shape out;
  for (int64_t d = 0; d < rank; d++) {
    bool reduced = axes.empty();
    for (int64_t a : axes) reduced = reduced || (a < 0 ? a + rank : a) == d;
    if (!reduced) out.push_back(shape[d]);
  }
  return out;
}

// Axis lists to try on a tensor of rank 4 (and their negative spellings).
const std::vector<std::vector<int64_t>> axis_lists = {{},        {0},    {1},    {3},      {-1},
                                                      {0, 2, 3}, {1, 3}, {0, 1}, {-3, -2}, {0, 1, 2, 3}};

// Values with no ties and no two within the gradcheck step of each other: a shuffled ramp.
Tensor distinct_values(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; i++) t.data()[i] = static_cast<real>(i) * 0.1f - 0.05f * n;
  for (int64_t i = n - 1; i > 0; i--) std::swap(t.data()[i], t.data()[rng.randint(i + 1)]);
  return t;
}

}  // namespace

TEST_CASE("sum mean max forward", "[ops][sum][mean][max]") {
  Rng rng(30);
  Tensor x = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  for (const auto& axes : axis_lists)
    for (bool keepdim : {true, false}) {
      INFO("axes of size " << axes.size() << (axes.empty() ? "" : ", first " + std::to_string(axes[0])) << ", keepdim "
                           << keepdim);
      for (Kind kind : {Kind::sum, Kind::mean, Kind::max}) {
        Tensor expected = reduce_reference(x, axes, kind);
        if (!keepdim) expected = reshape(expected, squeezed(x.shape(), axes));
        Tensor y = kind == Kind::sum    ? sum(x, axes, keepdim)
                   : kind == Kind::mean ? mean(x, axes, keepdim)
                                        : max(x, axes, keepdim);
        CHECK(allclose(y, expected));
      }
    }
  CHECK(sum(x).shape() == Shape{});
  CHECK(sum(Tensor::scalar(2.5f)).item() == 2.5f);
  CHECK(mean(Tensor::from_data({4}, {1, 2, 3, 6})).item() == 3.0f);
  CHECK(max(Tensor::from_data({2, 2}, {1, 7, -3, 2}), {1}).to_vector() == std::vector<real>{7, 2});
}

TEST_CASE("sum forward on large tensors", "[ops][sum]") {  // the parallel and the long-run paths
  Rng rng(31);
  Tensor x = Tensor::normal({64, 16, 30, 30}, 0, 1, rng);
  for (std::vector<int64_t> axes : {std::vector<int64_t>{0, 2, 3}, {2, 3}, {0}, {}, {1}})
    CHECK(allclose(sum(x, axes, true), reduce_reference(x, axes, Kind::sum), 1e-3, 1e-4));
}

TEST_CASE("reduction axis errors", "[ops][sum][mean][max]") {
  Tensor x = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH(sum(x, {2}), Catch::Contains("sum") && Catch::Contains("(2, 3)") && Catch::Contains("axis 2"));
  CHECK_THROWS_WITH(mean(x, {-3}), Catch::Contains("mean") && Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(max(x, {1, -1}), Catch::Contains("max") && Catch::Contains("twice") && Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(sum(x, {0, 0}), Catch::Contains("sum") && Catch::Contains("twice"));
  // max: an output with no values is an error, no output at all is not
  CHECK_THROWS_WITH(max(Tensor::zeros({2, 0}), {1}), Catch::Contains("max") && Catch::Contains("empty"));
  CHECK(max(Tensor::zeros({0, 3}), {1}).shape() == Shape{0});
  CHECK_THROWS_WITH(mean(Tensor::zeros({0, 3})), Catch::Contains("mean: empty"));  // 0 / 0
}

TEST_CASE("sum grad", "[ops][sum][grad]") {
  Rng rng(32);
  Tensor x = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  for (const auto& axes : axis_lists)
    for (bool keepdim : {true, false}) CHECK(gradcheck([&](auto& in) { return sum(in[0], axes, keepdim); }, {x}));
  CHECK(gradcheck([](auto& in) { return sum(in[0]); }, {Tensor::normal({7}, 0, 1, rng)}));
  CHECK(gradcheck([](auto& in) { return sum(in[0], {0}); }, {Tensor::normal({3, 1, 2}, 0, 1, rng)}));
}

TEST_CASE("mean grad", "[ops][mean][grad]") {
  Rng rng(33);
  Tensor x = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  for (const auto& axes : axis_lists)
    for (bool keepdim : {true, false}) CHECK(gradcheck([&](auto& in) { return mean(in[0], axes, keepdim); }, {x}));
  CHECK(gradcheck([](auto& in) { return mean(in[0], {1}); }, {Tensor::normal({5, 3}, 0, 1, rng)}));
}

TEST_CASE("max grad", "[ops][max][grad]") {
  Rng rng(34);
  Tensor x = distinct_values({2, 3, 4, 5}, rng);  // away from ties
  for (const auto& axes : axis_lists)
    for (bool keepdim : {true, false}) CHECK(gradcheck([&](auto& in) { return max(in[0], axes, keepdim); }, {x}));
  CHECK(gradcheck([](auto& in) { return max(in[0], {0}); }, {distinct_values({7, 3}, rng)}));

  // ties: the whole gradient goes to the first maximum
  Tensor t = Tensor::from_data({2, 3}, {1, 5, 5, 4, 4, 2}).set_requires_grad(true);
  sum(max(t, {1})).backward();
  CHECK(t.grad().to_vector() == std::vector<real>{0, 1, 0, 1, 0, 0});
  Tensor u = Tensor::from_data({2, 2}, {3, 1, 3, 3}).set_requires_grad(true);
  max(u).backward();
  CHECK(u.grad().to_vector() == std::vector<real>{1, 0, 0, 0});
}

// Long runs (the lane loop and its tail), small integers (many ties): each output's gradient
// must land on the first of its maxima, found here by a plain scan.
TEST_CASE("max on long runs with ties: the value and the first maximum", "[ops][max]") {
  Rng rng(35);
  const Shape shape{3, 5, 37, 19};
  for (const std::vector<int64_t>& axes : std::vector<std::vector<int64_t>>{{2, 3}, {1}, {3}, {0, 2, 3}, {}}) {
    INFO("axes of size " << axes.size());
    Tensor x = Tensor::empty(shape);
    for (int64_t i = 0; i < x.numel(); i++) x.data()[i] = static_cast<real>(rng.randint(7)) - 3;
    x.set_requires_grad(true);
    Tensor y = max(x, axes, true);
    CHECK(allclose(y, reduce_reference(x.detach(), axes, Kind::max)));
    sum(y).backward();
    // a plain scan: the first position in x's order at which each output's maximum occurs
    std::vector<real> expected(static_cast<size_t>(x.numel()), 0);
    std::vector<bool> found(static_cast<size_t>(y.numel()), false);
    for (int64_t i = 0; i < x.numel(); i++) {
      int64_t rest = i, o = 0, stride = 1;
      for (int64_t d = 3; d >= 0; d--) {
        const int64_t at = rest % shape[d];
        rest /= shape[d];
        if (y.shape()[d] != 1) o += at * stride;
        stride *= y.shape()[d];
      }
      if (!found[o] && x.data()[i] == y.data()[o]) found[o] = true, expected[i] = 1;
    }
    CHECK(x.grad().to_vector() == expected);
  }
}

TEST_CASE("max: a NaN anywhere is the maximum, and gets the gradient", "[ops][max]") {
  const real nan = std::numeric_limits<real>::quiet_NaN();
  std::vector<real> values(40);
  for (size_t i = 0; i < values.size(); i++) values[i] = static_cast<real>(i % 9);
  values[29] = nan;  // after a full lane block and inside the next
  values[33] = nan;
  Tensor x = Tensor::from_data({1, 40}, values).set_requires_grad(true);
  Tensor y = max(x, {1});
  CHECK(std::isnan(y.item()));
  y.backward();
  CHECK(x.grad().data()[29] == 1);
  CHECK(sum(x.grad()).item() == 1);
  // across runs (a kept last axis): the NaN arrives in a later run than the first maximum
  Tensor channels = Tensor::from_data({1, 3, 1, 2}, {1, 5, nan, 2, 9, nan}).set_requires_grad(true);
  Tensor over_channels = channel_max(channels);
  CHECK(std::isnan(over_channels.data()[0]));
  CHECK(std::isnan(over_channels.data()[1]));
  sum(over_channels).backward();
  CHECK(channels.grad().to_vector() == std::vector<real>{0, 0, 1, 0, 0, 1});
}

TEST_CASE("argmax", "[ops][argmax]") {
  Tensor x = Tensor::from_data({3, 4}, {0, 3, 1, 2, /**/ 9, -1, 9, 0, /**/ -5, -4, -3, -2});
  CHECK(argmax(x) == std::vector<int64_t>{1, 0, 3});  // ties: the first
  CHECK_THROWS_WITH(argmax(Tensor::zeros({2, 3, 4})), Catch::Contains("argmax") && Catch::Contains("(2, 3, 4)"));
  Tensor w = Tensor::zeros({2, 2}).set_requires_grad(true);
  argmax(w);  // not recorded: nothing to check but that it runs on a tensor in the graph
}
