// Optimisers, learning-rate schedules and gradient clipping: each update checked against the
// rule worked out by hand, step by step, on scalars and small vectors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/ema.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

using namespace glimpse;

// Sets p's gradient buffer directly, as a backward pass would have filled it.
static void set_grad(const Tensor& p, const std::vector<real>& values) {
  p.impl()->autograd_meta().grad = Tensor::from_data(p.shape(), values).impl_ptr();
}

static Tensor param(const std::vector<real>& values) {
  return Tensor::from_data({static_cast<int64_t>(values.size())}, values).set_requires_grad();
}

// ---- SGD ----

TEST_CASE("SGD plain step is p -= lr g", "[optim][sgd]") {
  Tensor p = param({1, -2});
  SGD sgd({p}, {.lr = 0.1f});
  set_grad(p, {0.5f, -1});
  sgd.step();
  CHECK(p.data()[0] == Approx(0.95));  // 1 - 0.1 * 0.5
  CHECK(p.data()[1] == Approx(-1.9));  // -2 - 0.1 * -1
  CHECK(sgd.steps_taken() == 1);
}

TEST_CASE("SGD momentum", "[optim][sgd]") {
  Tensor p = param({1});
  SGD sgd({p}, {.lr = 0.1f, .momentum = 0.9f});
  set_grad(p, {1});
  sgd.step();  // b = 1                    p = 1 - 0.1 * 1       = 0.9
  CHECK(p.item() == Approx(0.9));
  set_grad(p, {2});
  sgd.step();  // b = 0.9 * 1 + 2 = 2.9    p = 0.9 - 0.1 * 2.9   = 0.61
  CHECK(p.item() == Approx(0.61));
  set_grad(p, {-1});
  sgd.step();  // b = 0.9 * 2.9 - 1 = 1.61 p = 0.61 - 0.1 * 1.61 = 0.449
  CHECK(p.item() == Approx(0.449));
  CHECK(sgd.state()[1].second.item() == Approx(1.61));  // the momentum buffer
}

TEST_CASE("SGD Nesterov momentum", "[optim][sgd]") {
  Tensor p = param({1});
  SGD sgd({p}, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
  set_grad(p, {1});
  sgd.step();  // b = 1,     step g + 0.9 b = 1 + 0.9       = 1.9    p = 1 - 0.19       = 0.81
  CHECK(p.item() == Approx(0.81));
  set_grad(p, {2});
  sgd.step();  // b = 2.9,   step 2 + 0.9 * 2.9            = 4.61   p = 0.81 - 0.461   = 0.349
  CHECK(p.item() == Approx(0.349));
  set_grad(p, {-1});
  sgd.step();  // b = 1.61,  step -1 + 0.9 * 1.61          = 0.449  p = 0.349 - 0.0449 = 0.3041
  CHECK(p.item() == Approx(0.3041));
}

TEST_CASE("SGD weight decay with momentum", "[optim][sgd]") {
  Tensor p = param({2});
  SGD sgd({p}, {.lr = 0.1f, .momentum = 0.5f, .weight_decay = 0.1f});
  set_grad(p, {1});
  sgd.step();  // g = 1 + 0.1 * 2 = 1.2;         b = 1.2;                    p = 2 - 0.12 = 1.88
  CHECK(p.item() == Approx(1.88));
  sgd.step();  // g = 1 + 0.188 = 1.188;         b = 0.6 + 1.188 = 1.788;    p = 1.88 - 0.1788 = 1.7012
  CHECK(p.item() == Approx(1.7012));
  sgd.step();  // g = 1 + 0.17012 = 1.17012;     b = 0.894 + 1.17012;        p = 1.7012 - 0.206412
  CHECK(p.item() == Approx(1.494788));
}

TEST_CASE("SGD skips parameters without a gradient, zero_grad drops gradients", "[optim][sgd]") {
  Tensor a = param({1}), b = param({5});
  SGD sgd({a, b}, {.lr = 0.5f, .momentum = 0.9f});
  set_grad(a, {1});
  sgd.step();
  CHECK(a.item() == Approx(0.5));
  CHECK(b.item() == 5);  // untouched
  sgd.zero_grad();
  CHECK_FALSE(a.grad().defined());
  CHECK_FALSE(b.grad().defined());
  sgd.step();  // nothing has a gradient: nothing moves
  CHECK(a.item() == Approx(0.5));
}

TEST_CASE("SGD state names and options checks", "[optim][sgd]") {
  Tensor a = param({1, 2}), b = param({3});
  SGD sgd({a, b}, {.lr = 0.1f, .momentum = 0.9f});
  NamedTensors state = sgd.state();  // complete before the first step
  REQUIRE(state.size() == 3);
  CHECK(state[0].first == "step");
  CHECK(state[1].first == "momentum.0");
  CHECK(state[1].second.shape() == Shape{2});
  CHECK(state[2].first == "momentum.1");
  CHECK(SGD({a}, {.lr = 0.1f}).state().size() == 1);  // no momentum, no buffers

  CHECK_THROWS_WITH(SGD({a}, {.lr = 0.1f, .nesterov = true}), Catch::Contains("nesterov needs momentum"));
  CHECK_THROWS_AS(SGD({a}, {.lr = -1}), Error);
  CHECK_THROWS_AS(SGD({a}, {.momentum = -0.5f}), Error);
  CHECK_THROWS_AS(SGD({Tensor()}, {}), Error);
  CHECK_THROWS_WITH(SGD({a, b, a}, {}), Catch::Contains("parameter 2 appears twice"));
}

// ---- Adam and AdamW ----

TEST_CASE("Adam bias-corrected steps", "[optim][adam]") {
  Tensor p = param({1});
  Adam adam({p}, {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f});
  // step 1, g = 2: m = 0.1 * 2 = 0.2, v = 0.001 * 4 = 0.004;
  //   m_hat = 0.2 / 0.1 = 2, v_hat = 0.004 / 0.001 = 4: the first step is lr * sign(g)
  set_grad(p, {2});
  adam.step();
  CHECK(p.item() == Approx(0.9));
  // step 2, g = -1: m = 0.9 * 0.2 - 0.1 = 0.08, v = 0.999 * 0.004 + 0.001 = 0.004996
  set_grad(p, {-1});
  adam.step();
  double m = 0.08, v = 0.004996;
  double expected = 0.9 - 0.1 * (m / (1 - 0.81)) / (std::sqrt(v / (1 - 0.998001)) + 1e-8);
  CHECK(p.item() == Approx(expected));  // 0.873367...
  // step 3, g = 0.5
  set_grad(p, {0.5f});
  adam.step();
  m = 0.9 * m + 0.1 * 0.5;
  v = 0.999 * v + 0.001 * 0.25;
  expected -= 0.1 * (m / (1 - std::pow(0.9, 3))) / (std::sqrt(v / (1 - std::pow(0.999, 3))) + 1e-8);
  CHECK(p.item() == Approx(expected));
  CHECK(adam.steps_taken() == 3);
}

TEST_CASE("Adam first step moves each weight by lr against its gradient's sign", "[optim][adam]") {
  Tensor p = param({1, -3, 0.5f});
  Adam adam({p}, {.lr = 0.01f});
  set_grad(p, {2, 0.001f, -50});
  adam.step();
  CHECK(p.data()[0] == Approx(0.99));
  CHECK(p.data()[1] == Approx(-3.01));
  CHECK(p.data()[2] == Approx(0.51));
}

TEST_CASE("Adam L2 weight decay enters the gradient", "[optim][adam]") {
  Tensor p = param({2});
  Adam adam({p}, {.lr = 0.1f, .weight_decay = 0.5f});
  set_grad(p, {-0.5f});
  adam.step();  // g = -0.5 + 0.5 * 2 = 0.5 > 0: the first step goes down by lr
  CHECK(p.item() == Approx(1.9));
  set_grad(p, {-0.5f});
  adam.step();  // g = -0.5 + 0.5 * 1.9 = 0.45
  double m = 0.9 * 0.05 + 0.1 * 0.45, v = 0.999 * 0.00025 + 0.001 * 0.45 * 0.45;
  double expected = 1.9 - 0.1 * (m / 0.19) / (std::sqrt(v / (1 - 0.998001)) + 1e-8);
  CHECK(p.item() == Approx(expected));
}

TEST_CASE("AdamW decays the weights directly", "[optim][adam]") {
  Tensor p = param({2});
  AdamW adamw({p}, {.lr = 0.1f, .weight_decay = 0.5f});
  set_grad(p, {-0.5f});
  adamw.step();  // p = 2 * (1 - 0.1 * 0.5) = 1.9, then the Adam step on g = -0.5: + 0.1
  CHECK(p.item() == Approx(2.0));
  set_grad(p, {1});
  adamw.step();  // p = 2 * 0.95 = 1.9, m = -0.045 + 0.1 = 0.055, v = 0.00024975 + 0.001
  double m = 0.055, v = 0.999 * 0.00025 + 0.001;
  double expected = 1.9 - 0.1 * (m / 0.19) / (std::sqrt(v / (1 - 0.998001)) + 1e-8);
  CHECK(p.item() == Approx(expected));

  AdamW defaults({p});
  CHECK(defaults.options.weight_decay == Approx(0.01));  // PyTorch's default for AdamW
  CHECK(Adam({p}).options.weight_decay == 0);
}

TEST_CASE("Adam state names, skipped parameters, options checks", "[optim][adam]") {
  Tensor a = param({1, 2}), b = param({3});
  Adam adam({a, b});
  NamedTensors state = adam.state();
  REQUIRE(state.size() == 5);
  CHECK(state[0].first == "step");
  CHECK(state[1].first == "exp_avg.0");
  CHECK(state[2].first == "exp_avg_sq.0");
  CHECK(state[4].first == "exp_avg_sq.1");
  CHECK(state[4].second.shape() == Shape{1});

  set_grad(a, {1, 1});
  adam.step();
  CHECK(b.item() == 3);  // no gradient: untouched, and its moments stay zero
  CHECK(state[3].second.item() == 0);
  CHECK(state[0].second.item() == 1);  // the live "step" tensor

  CHECK_THROWS_WITH(Adam({a}, {.beta1 = 1}), Catch::Contains("betas"));
  CHECK_THROWS_WITH(AdamW({a}, {.weight_decay = -1}), Catch::Contains("AdamW"));
}

// scale_lr: PyTorch's parameter groups with their own rate. A factor f is the same step as an
// optimiser of rate f * lr for that parameter, and leaves the others at lr.
TEST_CASE("scale_lr gives some parameters their own learning rate", "[optim]") {
  SECTION("SGD with momentum: the scaled parameter takes f times the step") {
    Tensor fast = param({1}), slow = param({1});
    SGD sgd({fast, slow}, {.lr = 0.1f, .momentum = 0.9f});
    sgd.scale_lr({slow}, 0.25f);
    for (int t = 0; t < 2; t++) {
      set_grad(fast, {2});
      set_grad(slow, {2});
      sgd.step();
    }
    CHECK(fast.item() == Approx(1 - 0.1 * (2 + 3.8)));  // b_1 = 2, b_2 = 0.9 * 2 + 2
    CHECK(slow.item() == Approx(1 - 0.025 * (2 + 3.8)));
  }
  SECTION("Adam: the first step is f * lr against the gradient's sign; factor 0 freezes") {
    Tensor a = param({1}), b = param({1}), frozen = param({1});
    Adam adam({a, b, frozen}, {.lr = 0.01f});
    adam.scale_lr({b}, 0.1f);
    adam.scale_lr({frozen}, 0);
    set_grad(a, {3});
    set_grad(b, {3});
    set_grad(frozen, {3});
    adam.step();
    CHECK(a.item() == Approx(0.99));
    CHECK(b.item() == Approx(0.999));
    CHECK(frozen.item() == 1);
    CHECK(adam.lr_of(0) == Approx(0.01));
    CHECK(adam.lr_of(1) == Approx(0.001));
  }
  SECTION("a tensor that is not a parameter, or a negative factor, is refused") {
    Tensor p = param({1});
    SGD sgd({p}, {.lr = 0.1f});
    CHECK_THROWS_WITH(sgd.scale_lr({param({1})}, 0.5f), Catch::Contains("not one of its parameters"));
    CHECK_THROWS_WITH(sgd.scale_lr({p}, -1), Catch::Contains(">= 0"));
  }
}

TEST_CASE("optimiser state restored into a fresh optimiser continues the same trajectory", "[optim]") {
  auto run = [](Optimizer& opt, Tensor& p, int steps, real& g) {
    for (int i = 0; i < steps; i++) {
      set_grad(p, {g, -g});
      opt.step();
      g = -0.7f * g + 0.3f;
    }
  };
  Tensor p = param({1, 2});
  AdamW opt({p}, {.lr = 0.05f});
  real g = 1;
  run(opt, p, 3, g);

  // copy every state tensor into a second optimiser over a copy of the parameter
  Tensor q = param(p.to_vector());
  AdamW resumed({q}, {.lr = 0.05f});
  NamedTensors from = opt.state(), to = resumed.state();
  for (size_t i = 0; i < from.size(); i++)
    std::copy_n(from[i].second.data(), from[i].second.numel(), to[i].second.data());
  CHECK(resumed.steps_taken() == 3);

  real g2 = g;
  run(opt, p, 2, g);
  run(resumed, q, 2, g2);
  CHECK(p.to_vector() == q.to_vector());  // bitwise
}

// ---- exponential moving average of the weights ----

TEST_CASE("ExponentialMovingAverage: a <- d a + (1 - d) w with d = min(decay, (1 + t) / (10 + t))", "[optim][ema]") {
  Tensor w = param({1, -2});
  Tensor buffer = Tensor::from_data({1}, {4});  // buffers (BN statistics) are averaged too
  ExponentialMovingAverage ema({{"w", w}, {"running", buffer}}, 0.5f);
  NamedTensors state = ema.state();
  REQUIRE(state.size() == 3);
  CHECK(state[0].first == "updates");
  CHECK(state[1].first == "average.w");
  CHECK(state[2].first == "average.running");
  CHECK(state[1].second.to_vector() == std::vector<real>{1, -2});  // the average starts at the weights

  w.data()[0] = 3;  // as an optimiser step would move it
  buffer.data()[0] = 0;
  ema.update();  // t = 1: d = min(0.5, 2 / 11) = 2 / 11
  const real d1 = 2.0f / 11;
  CHECK(state[1].second.data()[0] == Approx(d1 * 1 + (1 - d1) * 3));
  CHECK(state[1].second.data()[1] == Approx(-2));
  CHECK(state[2].second.data()[0] == Approx(d1 * 4));
  for (int t = 2; t <= 20; t++) ema.update();  // from t = 9 on, (1 + t) / (10 + t) > 0.5: d = 0.5
  const real before = state[1].second.data()[0];
  w.data()[0] = 5;
  ema.update();
  CHECK(state[1].second.data()[0] == Approx(0.5 * before + 0.5 * 5));
  CHECK(ema.updates() == 21);
  CHECK(w.to_vector() == std::vector<real>{5, -2});  // the weights are only read
}

TEST_CASE("ExponentialMovingAverage: averaged weights in place for a scope, the trained ones after", "[optim][ema]") {
  Tensor w = param({1, 2});
  ExponentialMovingAverage ema({{"w", w}}, 0.9f);
  w.data()[0] = 7;
  ema.update();
  const std::vector<real> trained = w.to_vector(), averaged = ema.state()[1].second.to_vector();
  REQUIRE(trained != averaged);
  {
    AveragedWeightsInPlace use(&ema);
    CHECK(w.to_vector() == averaged);
  }
  CHECK(w.to_vector() == trained);
  try {
    AveragedWeightsInPlace use(&ema);
    fail("an error inside the scope");
  } catch (const Error&) {
  }
  CHECK(w.to_vector() == trained);          // put back on the way out of an exception too
  AveragedWeightsInPlace nothing(nullptr);  // no average: nothing changes
  CHECK(w.to_vector() == trained);

  CHECK_THROWS_WITH(ExponentialMovingAverage({{"w", w}}, 1), Catch::Contains("decay must be in [0, 1)"));
  CHECK_THROWS_WITH(ExponentialMovingAverage({{"w", w}}, -0.1f), Catch::Contains("decay must be in [0, 1)"));
}

// ---- schedules ----

TEST_CASE("learning-rate schedules at chosen steps", "[optim][schedule]") {
  ConstantLr constant(0.1f);
  CHECK(constant.lr_at(0) == Approx(0.1));
  CHECK(constant.lr_at(100000) == Approx(0.1));

  StepLr step(0.1f, 30, 0.1f);
  CHECK(step.lr_at(0) == Approx(0.1));
  CHECK(step.lr_at(29) == Approx(0.1));
  CHECK(step.lr_at(30) == Approx(0.01));
  CHECK(step.lr_at(65) == Approx(0.001));

  MultiStepLr multi(1.0f, {10, 15}, 0.5f);
  CHECK(multi.lr_at(9) == Approx(1.0));
  CHECK(multi.lr_at(10) == Approx(0.5));
  CHECK(multi.lr_at(14) == Approx(0.5));
  CHECK(multi.lr_at(15) == Approx(0.25));
  CHECK(multi.lr_at(1000) == Approx(0.25));

  CosineLr cosine(0.1f, 100, 0.001f);
  CHECK(cosine.lr_at(0) == Approx(0.1));
  CHECK(cosine.lr_at(50) == Approx(0.0505));                                    // the midpoint
  CHECK(cosine.lr_at(25) == Approx(0.001 + 0.099 * (1 + std::sqrt(0.5)) / 2));  // cos(pi/4)
  CHECK(cosine.lr_at(100) == Approx(0.001));
  CHECK(cosine.lr_at(500) == Approx(0.001));  // stays at the floor

  WarmupLr warm_cosine(4, std::make_shared<CosineLr>(0.1f, 100, 0.0f));
  CHECK(warm_cosine.lr_at(0) == Approx(0.025));  // 0.1 * 1/4
  CHECK(warm_cosine.lr_at(1) == Approx(0.05));
  CHECK(warm_cosine.lr_at(3) == Approx(0.1));
  CHECK(warm_cosine.lr_at(4) == Approx(0.1));    // the cosine's step 0
  CHECK(warm_cosine.lr_at(54) == Approx(0.05));  // the cosine's step 50
  WarmupLr warm_step(2, std::make_shared<StepLr>(0.2f, 10, 0.5f));
  CHECK(warm_step.lr_at(0) == Approx(0.1));
  CHECK(warm_step.lr_at(12) == Approx(0.1));  // StepLr at 10
  CHECK(WarmupLr(0, std::make_shared<ConstantLr>(0.3f)).lr_at(0) == Approx(0.3));

  // train_cifar's drops: 10 steps an epoch, 1 epoch of warm-up, / 10 after 3 epochs and after 5
  WarmupLr drops = warmup_then_drops(0.1f, {3, 5}, 10, 1);
  CHECK(drops.lr_at(0) == Approx(0.01));   // 0.1 * 1/10
  CHECK(drops.lr_at(10) == Approx(0.1));   // the warm-up's end
  CHECK(drops.lr_at(29) == Approx(0.1));   // the last step of the third epoch
  CHECK(drops.lr_at(30) == Approx(0.01));  // the first of the fourth
  CHECK(drops.lr_at(50) == Approx(0.001));
  CHECK(warmup_then_drops(0.1f, {2}, 10, 0).lr_at(19) == Approx(0.1));
  CHECK_THROWS_WITH(warmup_then_drops(0.1f, {1, 3}, 10, 1),
                    Catch::Contains("cannot drop at epoch 1, inside the warm-up"));
  CHECK_THROWS_AS(warmup_then_drops(0.1f, {4, 3}, 10, 1), Error);

  CHECK_THROWS_AS(StepLr(0.1f, 0), Error);
  CHECK_THROWS_AS(MultiStepLr(0.1f, {20, 10}), Error);
  CHECK_THROWS_AS(CosineLr(0.1f, 0), Error);
  CHECK_THROWS_WITH(cosine.lr_at(-1), Catch::Contains("step must be >= 0"));
}

// ---- gradient clipping ----

TEST_CASE("clip_grad_norm scales every gradient by max_norm / total", "[optim][clip]") {
  Tensor a = param({0, 0}), b = param({0}), c = param({7});
  set_grad(a, {3, 4});
  set_grad(b, {12});  // total norm sqrt(9 + 16 + 144) = 13; c has no gradient
  CHECK(clip_grad_norm({a, b, c}, 26) == Approx(13));
  CHECK(a.grad().to_vector() == std::vector<real>{3, 4});  // below max_norm: untouched
  CHECK(clip_grad_norm({a, b, c}, 6.5f) == Approx(13));    // returns the norm before clipping
  CHECK(a.grad().data()[0] == Approx(1.5));
  CHECK(a.grad().data()[1] == Approx(2));
  CHECK(b.grad().data()[0] == Approx(6));
  CHECK(clip_grad_norm({a, b, c}, 6.5f) == Approx(6.5));  // now within the bound
  CHECK_FALSE(c.grad().defined());
}

TEST_CASE("clip_grad_norm reports a non-finite norm and leaves the gradients alone", "[optim][clip]") {
  Tensor a = param({0, 0}), b = param({0});
  set_grad(a, {3, std::numeric_limits<real>::quiet_NaN()});
  set_grad(b, {4});
  CHECK(std::isnan(clip_grad_norm({a, b}, 1)));
  CHECK(a.grad().data()[0] == 3);
  CHECK(b.grad().data()[0] == 4);
  set_grad(a, {3, std::numeric_limits<real>::infinity()});
  CHECK(std::isinf(clip_grad_norm({a, b}, 1)));
  CHECK(b.grad().data()[0] == 4);
  CHECK_THROWS_AS(clip_grad_norm({a, b}, -1), Error);
}
