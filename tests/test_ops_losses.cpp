// cross_entropy and mse_loss: values by hand and against references, gradients by gradcheck
// and against the closed forms, errors for bad labels and shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

// -1/N sum_n log softmax(x_n)[label_n], in double, from the definition.
double cross_entropy_reference(const Tensor& x, const std::vector<int64_t>& labels) {
  const int64_t N = x.size(0), K = x.size(1);
  double loss = 0;
  for (int64_t n = 0; n < N; n++) {
    double total = 0;
    for (int64_t k = 0; k < K; k++) total += std::exp(double(x.data()[n * K + k]));
    loss -= double(x.data()[n * K + labels[n]]) - std::log(total);
  }
  return loss / N;
}

}  // namespace

TEST_CASE("cross_entropy forward", "[ops][cross_entropy]") {
  // uniform logits: -log(1/K)
  CHECK(cross_entropy(Tensor::zeros({3, 4}), {0, 1, 3}).item() == Approx(std::log(4.0)));
  Rng rng(50);
  Tensor x = Tensor::normal({6, 5}, 0, 2, rng);
  std::vector<int64_t> labels{0, 4, 2, 2, 1, 3};
  CHECK(cross_entropy(x, labels).item() == Approx(cross_entropy_reference(x, labels)).epsilon(1e-5));
  // large logits stay finite: a confident right answer costs ~0, a confident wrong one ~1000
  Tensor big = Tensor::from_data({2, 2}, {1000, 0, 1000, 0});
  CHECK(cross_entropy(big, {0, 1}).item() == Approx(500.0));
}

TEST_CASE("cross_entropy errors", "[ops][cross_entropy]") {
  Tensor x = Tensor::zeros({3, 4});
  CHECK_THROWS_WITH(cross_entropy(x, {0, 4, 1}), Catch::Contains("label 4") && Catch::Contains("index 1"));
  CHECK_THROWS_WITH(cross_entropy(x, {0, 1, -1}), Catch::Contains("label -1") && Catch::Contains("index 2"));
  CHECK_THROWS_WITH(cross_entropy(x, {0, 1}), Catch::Contains("2 labels") && Catch::Contains("(3, 4)"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({3}), {0, 1, 2}), Catch::Contains("cross_entropy"));
  CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({0, 4}), {}), Catch::Contains("empty batch"));  // a mean over nothing
  CHECK_THROWS_WITH(mse_loss(Tensor::zeros({0, 2}), Tensor::zeros({0, 2})), Catch::Contains("mse_loss: empty"));
}

TEST_CASE("cross_entropy grad", "[ops][cross_entropy][grad]") {
  Rng rng(51);
  for (auto [N, K] : std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {4, 3}, {7, 10}, {3, 1}}) {
    std::vector<int64_t> labels(N);
    for (auto& label : labels) label = rng.randint(K);
    Tensor x = Tensor::normal({N, K}, 0, 2, rng);
    CHECK(gradcheck([&](auto& in) { return cross_entropy(in[0], labels); }, {x}));
  }
  // closed form: (softmax - onehot) / N
  Tensor x = Tensor::normal({3, 4}, 0, 1, rng).set_requires_grad(true);
  std::vector<int64_t> labels{2, 0, 3};
  cross_entropy(x, labels).backward();
  Tensor p = softmax(x.detach(), 1);
  for (int64_t n = 0; n < 3; n++) p.data()[n * 4 + labels[n]] -= 1;
  CHECK(allclose(x.grad(), p / 3.0f));
}

TEST_CASE("mse_loss forward", "[ops][mse_loss]") {
  Tensor p = Tensor::from_data({2, 2}, {1, 2, 3, 4});
  Tensor t = Tensor::from_data({2, 2}, {1, 0, 4, 1});
  CHECK(mse_loss(p, t).item() == Approx((0 + 4 + 1 + 9) / 4.0));
  CHECK_THROWS_WITH(mse_loss(p, Tensor::zeros({4})),
                    Catch::Contains("mse_loss") && Catch::Contains("(2, 2)") && Catch::Contains("(4)"));
}

TEST_CASE("mse_loss grad", "[ops][mse_loss][grad]") {
  Rng rng(52);
  for (Shape shape : {Shape{}, Shape{5}, Shape{3, 4}, Shape{2, 3, 2, 2}})
    CHECK(gradcheck([](auto& in) { return mse_loss(in[0], in[1]); },
                    {Tensor::normal(shape, 0, 1, rng), Tensor::normal(shape, 0, 1, rng)}));
}
