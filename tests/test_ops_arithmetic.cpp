// add, sub, mul, div (with broadcasting), neg, add_scalar, mul_scalar, sum_to, and the
// element-wise functions exp, log, sqrt, pow, abs, clamp: forward values against naive
// references written here, backward by gradcheck.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

// Pairs of shapes that broadcast, from equal shapes to every kind of stretching.
const std::vector<std::pair<Shape, Shape>> broadcast_cases = {
    {{7}, {7}},                    // same shapes
    {{3, 5}, {3, 5}},              //
    {{2, 3, 4}, {3, 1}},           // lower rank, size-1 axis
    {{4, 1}, {1, 5}},              // both stretched
    {{2, 3, 4, 5}, {1, 3, 1, 1}},  // a per-channel value
    {{2, 3, 4, 5}, {2, 3, 1, 1}},  // a per-(sample, channel) value
    {{3, 5}, {5}},                 // a bias row
    {{}, {2, 3}},                  // a scalar-shaped operand
    {{2, 3}, {1}},                 //
    {{2, 1, 3}, {4, 1}},           // uneven: (2, 4, 3)
};

// y = f(a, b) with NumPy broadcasting, one output index at a time.
Tensor broadcast_reference(const Tensor& a, const Tensor& b, const std::function<real(real, real)>& f) {
  const size_t rank = std::max(a.shape().size(), b.shape().size());
  auto padded = [&](const Shape& s) {
    Shape p(rank - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  Shape pa = padded(a.shape()), pb = padded(b.shape()), out(rank);
  for (size_t d = 0; d < rank; d++) out[d] = std::max(pa[d], pb[d]);
  Tensor y = Tensor::empty(out);
  for (int64_t i = 0; i < y.numel(); i++) {
    int64_t rest = i, ia = 0, ib = 0, stride_a = 1, stride_b = 1;
    for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; d--) {
      int64_t index = rest % out[d];
      rest /= out[d];
      ia += (pa[d] == 1 ? 0 : index) * stride_a;
      ib += (pb[d] == 1 ? 0 : index) * stride_b;
      stride_a *= pa[d];
      stride_b *= pb[d];
    }
    y.data()[i] = f(a.data()[ia], b.data()[ib]);
  }
  return y;
}

// An element-wise function against std:: on every value.
bool matches_pointwise(const Tensor& y, const Tensor& x, const std::function<double(double)>& f) {
  Tensor expected = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); i++) expected.data()[i] = static_cast<real>(f(x.data()[i]));
  return allclose(y, expected);
}

}  // namespace

// ---- broadcasting ----

TEST_CASE("broadcast_shapes", "[ops][broadcast]") {
  CHECK(broadcast_shapes({2, 3, 4}, {3, 1}, "add") == Shape{2, 3, 4});
  CHECK(broadcast_shapes({4, 1}, {1, 5}, "add") == Shape{4, 5});
  CHECK(broadcast_shapes({}, {2, 3}, "add") == Shape{2, 3});
  CHECK(broadcast_shapes({0, 1}, {1, 3}, "add") == Shape{0, 3});
  CHECK_THROWS_WITH(broadcast_shapes({2, 3}, {4, 3}, "mul"),
                    Catch::Contains("mul") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 3)"));
  CHECK_THROWS_AS(add(Tensor::zeros({2, 3}), Tensor::zeros({2})), Error);
}

TEST_CASE("sum_to", "[ops][sum_to]") {
  Tensor g = Tensor::from_data({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(allclose(sum_to(g, {3}), Tensor::from_data({3}, {5, 7, 9})));
  CHECK(allclose(sum_to(g, {2, 1}), Tensor::from_data({2, 1}, {6, 15})));
  CHECK(allclose(sum_to(g, {1, 1}), Tensor::from_data({1, 1}, {21})));
  CHECK(allclose(sum_to(g, {}), Tensor::scalar(21)));
  CHECK(allclose(sum_to(g, {2, 3}), g));
  CHECK_THROWS_WITH(sum_to(g, {2}), Catch::Contains("sum_to"));
  Rng rng(5);
  Tensor big = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  Tensor expected = Tensor::zeros({3, 1, 1});
  for (int64_t i = 0; i < big.numel(); i++) expected.data()[(i / 20) % 3] += big.data()[i];
  CHECK(allclose(sum_to(big, {3, 1, 1}), expected, 1e-5, 1e-4));
}

// ---- add, sub, mul, div ----

TEST_CASE("add sub mul div forward", "[ops][add][sub][mul][div]") {
  Rng rng(10);
  for (auto [sa, sb] : broadcast_cases) {
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor a = randn_away_from_zero(sa, rng), b = randn_away_from_zero(sb, rng);
    CHECK(allclose(a + b, broadcast_reference(a, b, [](real x, real y) { return x + y; })));
    CHECK(allclose(b + a, broadcast_reference(b, a, [](real x, real y) { return x + y; })));
    CHECK(allclose(a - b, broadcast_reference(a, b, [](real x, real y) { return x - y; })));
    CHECK(allclose(a * b, broadcast_reference(a, b, [](real x, real y) { return x * y; })));
    CHECK(allclose(a / b, broadcast_reference(a, b, [](real x, real y) { return x / y; })));
  }
}

TEST_CASE("add forward on large tensors", "[ops][add]") {  // the parallel paths
  Rng rng(11);
  for (auto [sa, sb] : std::vector<std::pair<Shape, Shape>>{{{64, 32, 9, 9}, {64, 32, 9, 9}},
                                                            {{64, 32, 9, 9}, {32, 1, 1}},
                                                            {{64, 32, 9, 9}, {64, 32, 1, 1}},
                                                            {{2000, 70}, {70}},
                                                            {{}, {300, 300}}}) {
    Tensor a = Tensor::normal(sa, 0, 1, rng), b = Tensor::normal(sb, 0, 1, rng);
    CHECK(allclose(a + b, broadcast_reference(a, b, [](real x, real y) { return x + y; })));
  }
}

TEST_CASE("add grad", "[ops][add][grad]") {
  Rng rng(12);
  for (auto [sa, sb] : broadcast_cases) {
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor a = Tensor::normal(sa, 0, 1, rng), b = Tensor::normal(sb, 0, 1, rng);
    CHECK(gradcheck([](auto& in) { return add(in[0], in[1]); }, {a, b}));
    CHECK(gradcheck([](auto& in) { return add(in[0], in[1]); }, {b, a}));
  }
}

TEST_CASE("sub grad", "[ops][sub][grad]") {
  Rng rng(13);
  for (auto [sa, sb] : broadcast_cases) {
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor a = Tensor::normal(sa, 0, 1, rng), b = Tensor::normal(sb, 0, 1, rng);
    CHECK(gradcheck([](auto& in) { return sub(in[0], in[1]); }, {a, b}));
    CHECK(gradcheck([](auto& in) { return sub(in[0], in[1]); }, {b, a}));
  }
}

TEST_CASE("mul grad", "[ops][mul][grad]") {
  Rng rng(14);
  for (auto [sa, sb] : broadcast_cases) {
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    Tensor a = Tensor::normal(sa, 0, 1, rng), b = Tensor::normal(sb, 0, 1, rng);
    CHECK(gradcheck([](auto& in) { return mul(in[0], in[1]); }, {a, b}));
    CHECK(gradcheck([](auto& in) { return mul(in[0], in[1]); }, {b, a}));
  }
}

TEST_CASE("div grad", "[ops][div][grad]") {
  Rng rng(15);
  for (auto [sa, sb] : broadcast_cases) {
    INFO("shapes " << shape_str(sa) << " and " << shape_str(sb));
    // denominators away from 0 (|b| >= 0.5), where 1/b is steep
    Tensor a = Tensor::normal(sa, 0, 1, rng), b = randn_away_from_zero(sb, rng, 0.5f);
    CHECK(gradcheck([](auto& in) { return div(in[0], in[1]); }, {a, b}));
    Tensor c = randn_away_from_zero(sa, rng, 0.5f);
    CHECK(gradcheck([](auto& in) { return div(in[0], in[1]); }, {b, c}));
  }
}

// ---- neg, add_scalar, mul_scalar ----

TEST_CASE("neg add_scalar mul_scalar forward", "[ops][neg][add_scalar][mul_scalar]") {
  Tensor x = Tensor::from_data({2, 2}, {1, -2, 3.5f, 0});
  CHECK(allclose(-x, Tensor::from_data({2, 2}, {-1, 2, -3.5f, 0})));
  CHECK(allclose(x + 2.0f, Tensor::from_data({2, 2}, {3, 0, 5.5f, 2})));
  CHECK(allclose(1.0f - x, Tensor::from_data({2, 2}, {0, 3, -2.5f, 1})));
  CHECK(allclose(x * 3.0f, Tensor::from_data({2, 2}, {3, -6, 10.5f, 0})));
  CHECK(allclose(x / 2.0f, Tensor::from_data({2, 2}, {0.5f, -1, 1.75f, 0})));
}

TEST_CASE("neg grad", "[ops][neg][grad]") {
  Rng rng(16);
  for (Shape shape : {Shape{}, Shape{7}, Shape{2, 3, 5}})
    CHECK(gradcheck([](auto& in) { return neg(in[0]); }, {Tensor::normal(shape, 0, 1, rng)}));
}

TEST_CASE("add_scalar grad", "[ops][add_scalar][grad]") {
  Rng rng(17);
  for (Shape shape : {Shape{}, Shape{7}, Shape{2, 3, 5}})
    CHECK(gradcheck([](auto& in) { return add_scalar(in[0], 1.5f); }, {Tensor::normal(shape, 0, 1, rng)}));
}

TEST_CASE("mul_scalar grad", "[ops][mul_scalar][grad]") {
  Rng rng(18);
  for (Shape shape : {Shape{}, Shape{7}, Shape{2, 3, 5}})
    CHECK(gradcheck([](auto& in) { return mul_scalar(in[0], -2.5f); }, {Tensor::normal(shape, 0, 1, rng)}));
}

// ---- exp, log, sqrt, pow, abs, clamp ----

TEST_CASE("element-wise functions forward", "[ops][exp][log][sqrt][pow][abs][clamp]") {
  Tensor x = Tensor::from_data({2, 3}, {-2, -0.5f, 0.25f, 1, 1.5f, 3});
  Tensor positive = Tensor::from_data({5}, {0.1f, 0.5f, 1, 2, 9});
  CHECK(matches_pointwise(glimpse::exp(x), x, [](double v) { return std::exp(v); }));
  CHECK(matches_pointwise(glimpse::log(positive), positive, [](double v) { return std::log(v); }));
  CHECK(matches_pointwise(glimpse::sqrt(positive), positive, [](double v) { return std::sqrt(v); }));
  CHECK(matches_pointwise(glimpse::pow(positive, 2.5f), positive, [](double v) { return std::pow(v, 2.5); }));
  CHECK(matches_pointwise(glimpse::pow(x, 3), x, [](double v) { return v * v * v; }));
  CHECK(matches_pointwise(glimpse::abs(x), x, [](double v) { return std::abs(v); }));
  CHECK(allclose(clamp(x, -1, 1.2f), Tensor::from_data({2, 3}, {-1, -0.5f, 0.25f, 1, 1.2f, 1.2f})));
  CHECK_THROWS_WITH(clamp(x, 1, -1), Catch::Contains("clamp"));
}

TEST_CASE("exp grad", "[ops][exp][grad]") {
  Rng rng(20);
  for (Shape shape : {Shape{}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})
    CHECK(gradcheck([](auto& in) { return glimpse::exp(in[0]); }, {Tensor::normal(shape, 0, 1, rng)}));
}

TEST_CASE("log grad", "[ops][log][grad]") {
  Rng rng(21);
  for (Shape shape : {Shape{}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})  // in [0.5, 3], away from 0
    CHECK(gradcheck([](auto& in) { return glimpse::log(in[0]); }, {Tensor::uniform(shape, 0.5f, 3, rng)}));
}

TEST_CASE("sqrt grad", "[ops][sqrt][grad]") {
  Rng rng(22);
  for (Shape shape : {Shape{}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})
    CHECK(gradcheck([](auto& in) { return glimpse::sqrt(in[0]); }, {Tensor::uniform(shape, 0.5f, 3, rng)}));
}

TEST_CASE("pow grad", "[ops][pow][grad]") {
  Rng rng(23);
  for (real p : {2.0f, 3.0f, 0.5f, -1.5f})
    for (Shape shape : {Shape{}, Shape{7}, Shape{3, 5}}) {
      INFO("p = " << p);
      Tensor x = Tensor::uniform(shape, 0.5f, 2, rng);
      CHECK(gradcheck([p](auto& in) { return glimpse::pow(in[0], p); }, {x}));
    }
  Tensor negative = randn_away_from_zero({4, 3}, rng, 0.5f);  // integer powers of any sign
  CHECK(gradcheck([](auto& in) { return glimpse::pow(in[0], 3); }, {negative}));
}

TEST_CASE("abs grad", "[ops][abs][grad]") {
  Rng rng(24);
  for (Shape shape : {Shape{}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})  // away from the kink at 0
    CHECK(gradcheck([](auto& in) { return glimpse::abs(in[0]); }, {randn_away_from_zero(shape, rng)}));
}

TEST_CASE("clamp grad", "[ops][clamp][grad]") {
  Rng rng(25);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}}) {
    Tensor x = Tensor::normal(shape, 0, 1.5f, rng);
    for (int64_t i = 0; i < x.numel(); i++) {  // away from the kinks at -1 and 1
      real& v = x.data()[i];
      if (std::abs(std::abs(v) - 1) < 0.1f) v += v > 0 ? 0.2f : -0.2f;
    }
    CHECK(gradcheck([](auto& in) { return clamp(in[0], -1, 1); }, {x}));
  }
  // the gradient passes only strictly inside [low, high]
  Tensor x = Tensor::from_data({4}, {-2, -1, 0.5f, 1}).set_requires_grad(true);
  sum(clamp(x, -1, 1)).backward();
  CHECK(x.grad().to_vector() == std::vector<real>{0, 0, 1, 0});
}
