// The tape's rules, each on a small graph: fan-out accumulates, no-grad records nothing, detach
// cuts, the graph is freed after backward (and a second backward through it says so), leaves
// accumulate across graphs, errors name the op and the shapes, anomaly detection names the op.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

Tensor leaf(const Shape& shape, const std::vector<real>& values) {
  return Tensor::from_data(shape, values).set_requires_grad(true);
}

// Turns anomaly detection on for one scope, and off again however the scope ends.
struct AnomalyScope {
  AnomalyScope() { set_detect_anomaly(true); }
  ~AnomalyScope() { set_detect_anomaly(false); }
};

}  // namespace

TEST_CASE("fan-out accumulates", "[autograd]") {
  SECTION("x * x") {
    Tensor x = leaf({3}, {1, -2, 3});
    sum(x * x).backward();
    CHECK(x.grad().to_vector() == std::vector<real>{2, -4, 6});
  }
  SECTION("x + x") {
    Tensor x = leaf({3}, {1, -2, 3});
    sum(x + x).backward();
    CHECK(x.grad().to_vector() == std::vector<real>{2, 2, 2});
  }
  SECTION("one tensor feeding two branches") {
    Tensor x = leaf({3}, {0.5f, -1, 2});
    Tensor h = x * 2.0f;                              // shared intermediate
    Tensor L = sum(glimpse::exp(h)) + sum(h * 3.0f);  // dL/dh = e^h + 3
    L.backward();
    for (int64_t i = 0; i < 3; i++) {
      real v = x.to_vector()[i];
      CHECK(x.grad().data()[i] == Approx(2 * (std::exp(2 * v) + 3)));
    }
  }
}

TEST_CASE("no-grad scope records nothing", "[autograd]") {
  Tensor x = leaf({2}, {1, 2});
  {
    NoGradGuard no_grad;
    CHECK_FALSE(grad_enabled());
    Tensor y = x * 3.0f + x;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  CHECK(grad_enabled());
  CHECK((x * 3.0f).requires_grad());
}

TEST_CASE("detach cuts the graph but shares data", "[autograd]") {
  Tensor x = leaf({3}, {1, 2, 3});
  Tensor y = x * 2.0f;
  Tensor d = y.detach();
  CHECK(d.data() == y.data());
  CHECK_FALSE(d.requires_grad());
  CHECK(d.grad_fn() == nullptr);
  sum(d * x).backward();  // d is a constant: dL/dx = d, nothing flows back through y
  CHECK(x.grad().to_vector() == std::vector<real>{2, 4, 6});
}

TEST_CASE("backward on a non-scalar names the shape", "[autograd]") {
  Tensor x = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK_THROWS_WITH((x * 2.0f).backward(), Catch::Contains("(2, 3)"));
}

TEST_CASE("backward twice through a freed graph", "[autograd]") {
  Tensor x = leaf({2}, {1, 2});
  Tensor L = sum(x * x);
  L.backward();
  CHECK_THROWS_AS(L.backward(), Error);
  CHECK_THROWS_WITH(L.backward(), Catch::Contains("retain_graph"));
  CHECK(x.grad().to_vector() == std::vector<real>{2, 4});  // the failed call added nothing
}

TEST_CASE("backward twice with retain_graph accumulates", "[autograd]") {
  Tensor x = leaf({2}, {1, 2});
  Tensor w = leaf({2}, {3, -1});
  Tensor L = sum(x * w + glimpse::exp(x));
  backward(L, /*retain_graph=*/true);
  std::vector<real> once = x.grad().to_vector();
  backward(L, true);
  for (int i = 0; i < 2; i++) CHECK(x.grad().data()[i] == Approx(2 * once[i]));
  CHECK(w.grad().to_vector() == std::vector<real>{2, 4});
}

TEST_CASE("zero_grad", "[autograd]") {
  Tensor x = leaf({2}, {1, 2});
  sum(x * 3.0f).backward();
  CHECK(x.grad().defined());
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  sum(x * 5.0f).backward();
  CHECK(x.grad().to_vector() == std::vector<real>{5, 5});
}

TEST_CASE("leaf gradients accumulate across graphs", "[autograd]") {
  Tensor x = leaf({2}, {1, 2});
  sum(x * 2.0f).backward();
  sum(x * x).backward();
  CHECK(x.grad().to_vector() == std::vector<real>{2 + 2, 2 + 4});
}

TEST_CASE("the graph is freed after backward", "[autograd]") {
  Tensor x = leaf({3}, {1, 2, 3});
  Tensor y = x * x;
  Tensor L = sum(glimpse::exp(y));
  std::weak_ptr<Node> mul_node = y.grad_fn(), sum_node = L.grad_fn();
  REQUIRE_FALSE(mul_node.expired());
  L.backward();
  CHECK(mul_node.expired());  // freed although y and L are still held
  CHECK(sum_node.expired());
  CHECK_FALSE(y.grad().defined());  // an intermediate's gradient is not kept
  CHECK(x.grad().defined());
}

TEST_CASE("shape mismatch errors name the op and both shapes", "[autograd]") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 3});
  CHECK_THROWS_WITH(a + b, Catch::Contains("add") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 3)"));
  CHECK_THROWS_WITH(a * b, Catch::Contains("mul") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 3)"));
  CHECK_THROWS_WITH(a / b, Catch::Contains("div") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 3)"));
  CHECK_THROWS_WITH(matmul(a, b), Catch::Contains("matmul") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 3)"));
  CHECK_THROWS_WITH(mse_loss(a, b),
                    Catch::Contains("mse_loss") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 3)"));
}

TEST_CASE("anomaly detection names the op", "[autograd]") {
  Tensor x = leaf({2}, {1, -1});
  CHECK_NOTHROW(glimpse::log(x));  // off by default: a NaN passes silently
  {
    AnomalyScope anomaly;
    CHECK(detect_anomaly());
    CHECK_THROWS_WITH(glimpse::log(x), Catch::Contains("log"));
    Tensor ok = leaf({2}, {1, 2});
    CHECK_NOTHROW(sum(glimpse::log(ok)).backward());
    // a backward that produces a non-finite gradient: d sqrt(x)/dx at 0 is infinite
    Tensor zero = leaf({1}, {0});
    CHECK_THROWS_WITH(sum(glimpse::sqrt(zero)).backward(), Catch::Contains("sqrt"));
  }
  CHECK_FALSE(detect_anomaly());
}

// The hook data parallelism starts its sums from: each leaf reported once, when the last op that
// reads it has added its share, so that its gradient is already the final one.
TEST_CASE("backward reports each leaf when its gradient is complete", "[autograd]") {
  Tensor a = leaf({2}, {1, 2}), b = leaf({2}, {3, 4});
  Tensor y = sum(a * b) + sum(a * a);  // a read by two ops, b by one
  std::vector<std::pair<const AutogradMeta*, std::vector<real>>> reported;
  backward(y, false, [&](const AutogradMeta& meta) { reported.emplace_back(&meta, Tensor(meta.grad).to_vector()); });
  REQUIRE(reported.size() == 2);
  for (const auto& [meta, grad_then] : reported) {
    const Tensor& t = meta == a.impl()->autograd.get() ? a : b;
    CHECK(meta == t.impl()->autograd.get());
    CHECK(grad_then == t.grad().to_vector());  // complete when reported: nothing added after
  }
  CHECK(a.grad().to_vector() == std::vector<real>{3 + 2, 4 + 4});  // b + 2a
}

// Note [Tracing a forward]: what an exporter reads.
TEST_CASE("Tracer: each op reports its name, inputs, output and settings, in the order they ran", "[autograd]") {
  Rng rng(1);
  Tensor x = Tensor::normal({1, 2, 6, 6}, 0, 1, rng), w = Tensor::normal({3, 2, 3, 3}, 0, 1, rng);
  Tensor y, s;
  Tracer tracer;
  {
    y = relu(conv2d(x, w, Tensor(), {.stride = 2, .padding = 1}));
    s = sum(y, {1}, /*keepdim=*/true);
    Tensor same = dropout(s, 0.5f, /*training=*/false, rng);  // evaluation: the input itself, nothing reported
    CHECK(same.same(s));
  }
  const std::vector<TracedOp>& ops = tracer.ops();
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].op == "conv2d");
  CHECK(ops[0].inputs[0].same(x));
  CHECK(ops[0].inputs[1].same(w));
  CHECK(!ops[0].inputs[2].defined());  // no bias
  CHECK(ops[0].settings.integer("stride") == 2);
  CHECK(ops[0].settings.integer("padding") == 1);
  CHECK(ops[1].op == "relu");
  CHECK(ops[1].inputs[0].same(ops[0].output));
  CHECK(ops[1].output.same(y));
  CHECK(ops[2].op == "sum");
  CHECK(ops[2].settings.integers("axes") == std::vector<int64_t>{1});
  CHECK(ops[2].output.same(s));
  CHECK_THROWS_WITH(ops[2].settings.integer("stride"), Catch::Matchers::Contains("no setting 'stride'"));
  {
    Tracer inner;  // a second Tracer takes the reports until it is destroyed
    relu(x);
    CHECK(inner.ops().size() == 1);
  }
  relu(x);
  CHECK(ops.size() == 4);
  CHECK(active_tracer() == &tracer);
}

TEST_CASE("Tracer: ops report under no-grad mode too, and nothing when no Tracer is alive", "[autograd]") {
  CHECK(active_tracer() == nullptr);
  Tensor x = Tensor::ones({2, 2});
  Tracer tracer;
  {
    NoGradGuard no_grad;
    batch_norm(x, Tensor::ones({2}), Tensor::zeros({2}), Tensor::zeros({2}), Tensor::ones({2}), false);
  }
  REQUIRE(tracer.ops().size() == 1);
  CHECK(tracer.ops()[0].settings.constants.size() == 2);  // the running mean and variance
  CHECK(tracer.ops()[0].settings.integer("training") == 0);
}
