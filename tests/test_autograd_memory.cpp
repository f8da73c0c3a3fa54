// What the graph keeps alive (autograd.h, Note [Edges do not own data]): an edge points at its
// input's autograd record, not at its values, so an intermediate that no backward reads is freed
// as soon as the forward drops it, and the gradients stay what they were.
#include <catch2/catch.hpp>

#include <memory>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

std::weak_ptr<Storage> storage_of(const Tensor& t) { return t.impl()->storage; }

Tensor parameter(const Shape& shape, const std::vector<real>& values) {
  return Tensor::from_data(shape, values).set_requires_grad(true);
}

}  // namespace

TEST_CASE("storage_live_bytes counts the live storages", "[autograd][memory]") {
  const int64_t before = storage_live_bytes();
  {
    Tensor t = Tensor::empty({1000});  // 4000 bytes, rounded up to a multiple of 64
    CHECK(storage_live_bytes() - before == 4032);
    Tensor view = t.detach();  // a second handle onto the same storage costs nothing
    CHECK(storage_live_bytes() - before == 4032);
    CHECK(storage_peak_bytes() >= storage_live_bytes());
  }
  CHECK(storage_live_bytes() == before);
}

TEST_CASE("an intermediate that no backward reads is freed before backward", "[autograd][memory]") {
  Tensor x = parameter({4}, {-2, -1, 1, 2});
  std::weak_ptr<Storage> scaled;
  Tensor y;
  {
    Tensor a = x * 3.0f;  // mul_scalar saves nothing; relu saves its own output
    scaled = storage_of(a);
    y = relu(a);
  }
  CHECK(scaled.expired());
  sum(y).backward();
  CHECK(x.grad().to_vector() == std::vector<real>{0, 0, 3, 3});
}

TEST_CASE("the operands of an add are freed before backward", "[autograd][memory]") {
  Tensor x = parameter({3}, {1, 2, 3});
  std::weak_ptr<Storage> a_storage, b_storage;
  Tensor y;
  {
    Tensor a = glimpse::exp(x), b = x * x;  // exp saves its output; x * x saves x, a leaf
    a_storage = storage_of(a);
    b_storage = storage_of(b);
    y = a + b;
  }
  CHECK_FALSE(a_storage.expired());  // exp's node saved it: exp's backward reads y = e^x
  CHECK(b_storage.expired());        // nobody reads x * x again
  sum(y).backward();
  for (int64_t i = 0; i < 3; i++) {
    const double xi = x.data()[i];
    CHECK(x.grad().data()[i] == Approx(std::exp(xi) + 2 * xi));
  }
}

TEST_CASE("conv2d -> batch_norm -> relu keeps the convolution output, not the batch-norm output",
          "[autograd][memory]") {
  Rng rng(7);
  Tensor x = Tensor::normal({2, 2, 5, 5}, 0, 1, rng);
  Tensor w = Tensor::normal({3, 2, 3, 3}, 0, 0.5f, rng).set_requires_grad(true);
  Tensor gamma = Tensor::ones({3}).set_requires_grad(true), beta = Tensor::zeros({3}).set_requires_grad(true);
  std::weak_ptr<Storage> conv_out, bn_out;
  Tensor y;
  {
    Tensor c = conv2d(x, w, Tensor(), {.padding = 1});
    Tensor b = batch_norm(c, gamma, beta, Tensor(), Tensor(), /*training=*/true, 0.1f, 1e-5f);
    conv_out = storage_of(c);
    bn_out = storage_of(b);
    y = relu(b);
  }
  CHECK_FALSE(conv_out.expired());  // batch_norm's backward reads its input
  CHECK(bn_out.expired());          // relu's backward reads its own output only
  Tensor r = Tensor::normal(y.shape(), 0, 1, rng);
  sum(y * r).backward();
  REQUIRE(w.grad().defined());

  // The same gradients as when every intermediate is held by the caller until backward.
  Tensor w2 = w.detach().clone().set_requires_grad(true);
  Tensor gamma2 = Tensor::ones({3}).set_requires_grad(true), beta2 = Tensor::zeros({3}).set_requires_grad(true);
  Tensor c2 = conv2d(x, w2, Tensor(), {.padding = 1});
  Tensor b2 = batch_norm(c2, gamma2, beta2, Tensor(), Tensor(), true, 0.1f, 1e-5f);
  Tensor y2 = relu(b2);
  sum(y2 * r).backward();
  CHECK(w.grad().to_vector() == w2.grad().to_vector());
  CHECK(gamma.grad().to_vector() == gamma2.grad().to_vector());
  CHECK(beta.grad().to_vector() == beta2.grad().to_vector());
}

TEST_CASE("mul and matmul save an operand only if the other needs a gradient", "[autograd][memory]") {
  Tensor x = parameter({2, 2}, {1, -2, 3, 4});
  Tensor mask = Tensor::from_data({2, 2}, {1, 0, 0, 1});
  std::weak_ptr<Storage> masked_input, product_input;
  Tensor y, z;
  {
    Tensor a = x * 2.0f;
    masked_input = storage_of(a);
    y = a * mask;  // d(a) reads the mask; the mask needs no gradient, so a is not saved
    Tensor b = x * 3.0f;
    product_input = storage_of(b);
    z = matmul(b, mask);  // the same for a matrix product
  }
  CHECK(masked_input.expired());
  CHECK(product_input.expired());
  (sum(y) + sum(z)).backward();
  // d/dx sum(2x * mask) = 2 mask;  d/dx sum((3x) mask) = 3 * (row sums of mask) per column of x
  CHECK(x.grad().to_vector() == std::vector<real>{2 + 3, 0 + 3, 0 + 3, 2 + 3});
}

TEST_CASE("retain_graph backward twice with freed intermediates", "[autograd][memory]") {
  Tensor x = parameter({2}, {0.5f, -0.5f});
  Tensor L;
  {
    Tensor h = glimpse::tanh(x * 2.0f) + x;  // x * 2.0f is freed at once
    L = sum(h * h);
  }
  backward(L, /*retain_graph=*/true);
  const std::vector<real> once = x.grad().to_vector();
  backward(L);
  for (size_t i = 0; i < once.size(); i++) CHECK(x.grad().to_vector()[i] == Approx(2 * once[i]));
  CHECK_THROWS_WITH(backward(L), Catch::Contains("already freed"));
}

TEST_CASE("a step frees its graph and its saved values", "[autograd][memory]") {
  Rng rng(3);
  Tensor w = Tensor::normal({8, 4}, 0, 1, rng).set_requires_grad(true);
  Tensor x = Tensor::normal({16, 4}, 0, 1, rng);
  const int64_t before = storage_live_bytes();
  {
    Tensor h = sigmoid(linear(x, w, Tensor()));
    Tensor loss = mean(h * h);
    std::weak_ptr<AutogradMeta> hidden = h.impl()->autograd;
    loss.backward();
    CHECK(h.grad_fn() == nullptr);  // the graph behind h is gone
    CHECK_FALSE(hidden.expired());  // still held by h itself
  }
  // Only w's gradient remains of the step.
  CHECK(storage_live_bytes() - before == static_cast<int64_t>((w.numel() * sizeof(real) + 63) / 64 * 64));
}
