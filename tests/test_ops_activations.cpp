// relu, sigmoid, tanh: forward values by hand, backward by gradcheck.
#include <cmath>

#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

TEST_CASE("relu forward", "[ops][relu]") {
  Tensor x = Tensor::from_data({2, 2}, {-1.5f, 0.0f, 2.0f, 0.25f});
  CHECK(allclose(relu(x), Tensor::from_data({2, 2}, {0, 0, 2, 0.25f})));
}

TEST_CASE("relu passes a NaN on, so that a non-finite value is not hidden", "[ops][relu]") {
  Tensor x = Tensor::from_data({3}, {-1.0f, std::nanf(""), 1.0f});
  Tensor y = relu(x);
  CHECK(y.data()[0] == 0.0f);
  CHECK(std::isnan(y.data()[1]));
  CHECK(y.data()[2] == 1.0f);
}

TEST_CASE("relu grad", "[ops][relu][grad]") {
  Rng rng(1);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}}) {
    Tensor x = randn_away_from_zero(shape, rng);  // away from the kink at 0
    CHECK(gradcheck([](auto& in) { return relu(in[0]); }, {x}));
  }
}

TEST_CASE("sigmoid forward", "[ops][sigmoid]") {
  Tensor x = Tensor::from_data({3}, {0.0f, 2.0f, -3.0f});
  CHECK(allclose(sigmoid(x), Tensor::from_data({3}, {0.5f, 0.880797078f, 0.0474258732f})));
}

TEST_CASE("sigmoid grad", "[ops][sigmoid][grad]") {
  Rng rng(2);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})
    CHECK(gradcheck([](auto& in) { return sigmoid(in[0]); }, {Tensor::normal(shape, 0, 2, rng)}));
}

TEST_CASE("tanh forward", "[ops][tanh]") {
  Tensor x = Tensor::from_data({3}, {0.0f, 1.0f, -0.5f});
  CHECK(allclose(glimpse::tanh(x), Tensor::from_data({3}, {0.0f, 0.761594156f, -0.462117157f})));
}

TEST_CASE("tanh grad", "[ops][tanh][grad]") {
  Rng rng(3);
  for (Shape shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 5}})
    CHECK(gradcheck([](auto& in) { return glimpse::tanh(in[0]); }, {Tensor::normal(shape, 0, 1.5f, rng)}));
}

// Against the C library, on more values than one task takes (the parallel path) and out to
// |x| = 60, where sigmoid and tanh saturate: each output, and each gradient from its formula
// (relu: dy where x > 0; sigmoid: dy s (1 - s); tanh: dy (1 - t^2)).
TEST_CASE("relu, sigmoid and tanh against the C library, parallel path and saturation included",
          "[ops][relu][sigmoid][tanh]") {
  Rng rng(26);
  Tensor x = Tensor::uniform({70001}, -60, 60, rng);
  x.data()[0] = 0.5f, x.data()[1] = -0.5f;  // and a few moderate values among the large ones
  Tensor dy = Tensor::normal(x.shape(), 0, 1, rng);
  struct Activation {
    const char* name;
    Tensor (*op)(const Tensor&);
    double (*value)(double);
    double (*slope)(double y, double x);
  };
  const Activation activations[] = {
      {"relu", relu, [](double v) { return v > 0 ? v : 0.0; }, [](double, double v) { return v > 0 ? 1.0 : 0.0; }},
      {"sigmoid", sigmoid, [](double v) { return 1 / (1 + std::exp(-v)); },
       [](double y, double) { return y * (1 - y); }},
      {"tanh", glimpse::tanh, [](double v) { return std::tanh(v); }, [](double y, double) { return 1 - y * y; }},
  };
  for (const Activation& a : activations) {
    CAPTURE(a.name);
    Tensor input = x.detach().clone().set_requires_grad(true);
    Tensor y = a.op(input);
    sum(mul(y, dy)).backward();
    Tensor expected = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
    for (int64_t i = 0; i < x.numel(); i++) {
      expected.data()[i] = static_cast<real>(a.value(x.data()[i]));
      dx.data()[i] = static_cast<real>(dy.data()[i] * a.slope(expected.data()[i], x.data()[i]));
    }
    CHECK(allclose(y, expected, 1e-6, 1e-5));
    CHECK(allclose(input.grad(), dx, 1e-6, 1e-4));
  }
}
