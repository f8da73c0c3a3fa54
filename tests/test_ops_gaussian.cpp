// gaussian_log_prob: forward against the closed form, backward by gradcheck.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

TEST_CASE("gaussian_log_prob forward", "[ops][gaussian_log_prob]") {
  SECTION("by hand: at the mean, log N = -log(sigma) - log(2 pi) / 2") {
    Tensor y = gaussian_log_prob(Tensor::from_data({2}, {0.3f, 0.3f}), Tensor::from_data({2}, {0.3f, 0.0f}), 1);
    CHECK(y.data()[0] == Approx(-0.9189385332));          // -log(2 pi) / 2
    CHECK(y.data()[1] == Approx(-0.9189385332 - 0.045));  // minus 0.3^2 / 2
  }
  SECTION("the closed form, in double, for RAM's sigma and others") {
    Rng rng(31);
    for (real sigma : {0.17f, 1.0f, 2.5f}) {
      Tensor s = Tensor::normal({4, 2}, 0, 1, rng), mu = Tensor::normal({4, 2}, 0, 1, rng);
      Tensor expected = Tensor::empty({4, 2});
      for (int64_t i = 0; i < 8; i++) {
        double z = static_cast<double>(s.data()[i]) - mu.data()[i];
        expected.data()[i] = static_cast<real>(-z * z / (2.0 * sigma * sigma) - std::log(static_cast<double>(sigma)) -
                                               0.5 * std::log(2 * std::numbers::pi));
      }
      CHECK(allclose(gaussian_log_prob(s, mu, sigma), expected, 1e-5, 1e-5));
    }
  }
  SECTION("bad arguments") {
    Tensor a = Tensor::zeros({3, 2});
    CHECK_THROWS_WITH(gaussian_log_prob(a, Tensor::zeros({3, 1}), 1),
                      Catch::Contains("(3, 2)") && Catch::Contains("(3, 1)"));
    CHECK_THROWS_AS(gaussian_log_prob(a, a, 0), Error);
    CHECK_THROWS_AS(gaussian_log_prob(a, a, -0.5f), Error);
    CHECK_THROWS_AS(gaussian_log_prob(a, a, std::nanf("")), Error);
  }
}

TEST_CASE("gaussian_log_prob grad", "[ops][gaussian_log_prob][grad]") {
  Rng rng(32);
  for (real sigma : {0.17f, 1.3f}) {
    for (Shape shape : {Shape{5}, Shape{4, 2}, Shape{2, 3, 3}}) {
      Tensor s = Tensor::normal(shape, 0, 0.5f, rng), mu = Tensor::normal(shape, 0, 0.5f, rng);
      // eps small against sigma: the function is quadratic, so central differences are exact
      // up to float rounding, which grows like 1/eps
      CHECK(
          gradcheck([&](auto& in) { return gaussian_log_prob(in[0], in[1], sigma); }, {s, mu}, {.eps = 1e-2 * sigma}));
    }
  }
  SECTION("REINFORCE's use: a constant sample, the gradient to the mean only") {
    Tensor s = Tensor::from_data({1, 2}, {0.5f, -0.2f});
    Tensor mu = Tensor::from_data({1, 2}, {0.1f, 0.1f}).set_requires_grad(true);
    Tensor y = gaussian_log_prob(s, mu, 0.5f);
    y.grad_fn()->backward(Tensor::ones(y.shape()));    // the node alone, seeded with dy = 1
    CHECK(mu.grad().data()[0] == Approx(0.4 / 0.25));  // (s - mu) / sigma^2
    CHECK(mu.grad().data()[1] == Approx(-0.3 / 0.25));
    CHECK_FALSE(s.grad().defined());
  }
}
