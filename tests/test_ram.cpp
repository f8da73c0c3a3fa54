// ram: the REINFORCE estimator against the analytic gradient of a Gaussian bandit, the exact
// gradients of ram_loss, the glimpse sensor's pixels, shapes and locations of a pass, and a few
// Adam steps that lower the loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "engine/ops.h"
#include "models/ram.h"
#include "optim/adam.h"

using namespace glimpse;

// A 1-D bandit with RAM's kind of reward: the policy N(mu, sigma^2) picks l, the reward is
// R = 1 if l > 0 else 0. Then E[R] = Phi(mu / sigma) and dE[R]/dmu = phi(mu / sigma) / sigma.
// The REINFORCE surrogate -mean(log pi(l) * (R - b)) must have, on average, minus that gradient,
// with or without a baseline b (which only changes the variance).
TEST_CASE("REINFORCE estimator matches the analytic gradient of a Gaussian bandit", "[models][reinforce]") {
  const real sigma = 0.17f, mu0 = 0.1f;
  const int64_t samples = 200000;
  const double z = mu0 / sigma;
  const double analytic = std::exp(-z * z / 2) / std::sqrt(2 * std::numbers::pi) / sigma;
  for (double b : {0.0, 0.5}) {
    Rng rng(3);
    Tensor mu = Tensor::full({1}, mu0).set_requires_grad();
    Tensor means = mu * Tensor::ones({samples});  // the same policy for every sample, one graph
    Tensor l = Tensor::empty({samples}), advantage = Tensor::empty({samples});
    for (int64_t i = 0; i < samples; i++) {
      l.data()[i] = mu0 + sigma * static_cast<real>(rng.normal());
      advantage.data()[i] = static_cast<real>((l.data()[i] > 0 ? 1.0 : 0.0) - b);
    }
    Tensor surrogate = -mean(gaussian_log_prob(l, means, sigma) * advantage);
    backward(surrogate);
    INFO("baseline " << b << ", analytic dE[R]/dmu " << analytic);
    CHECK(-mu.grad().item() == Approx(analytic).epsilon(0.03));
  }
}

// ram_loss's gradients are known exactly: d/d log pi_t[n] = -(R_n - b_t[n]) / N (the
// advantage is a constant) and d/d b_t[n] = 2 (b_t[n] - R_n) / (N (T-1)) (the MSE).
TEST_CASE("ram_loss gradients: REINFORCE with a detached advantage, MSE baseline", "[models][reinforce]") {
  const int64_t N = 3, steps = 2;
  RamOutput out;
  out.log_probs = log_softmax(Tensor::from_data({N, 2}, {2, 0, 0, 2, 2, 0}), 1);  // predicts 0, 1, 0
  out.location_log_probs = Tensor::from_data({N, steps}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}).set_requires_grad();
  out.baselines = Tensor::from_data({N, steps}, {0.5f, 0.25f, -0.5f, 1, 0.75f, 0}).set_requires_grad();
  std::vector<int64_t> labels{0, 1, 1};  // R = 1, 1, 0
  RamLoss loss = ram_loss(out, labels);
  CHECK(loss.reward == Approx(2.0 / 3));
  CHECK(loss.predicted == std::vector<int64_t>{0, 1, 0});
  backward(loss.total);
  const real R[N] = {1, 1, 0};
  std::vector<real> dlogpi = out.location_log_probs.grad().to_vector(), db = out.baselines.grad().to_vector();
  std::vector<real> lp = out.location_log_probs.to_vector(), b = out.baselines.to_vector();
  double reinforce = 0, mse = 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t t = 0; t < steps; t++) {
      real bt = b[n * steps + t];
      CHECK(dlogpi[n * steps + t] == Approx(-(R[n] - bt) / N));
      CHECK(db[n * steps + t] == Approx(2 * (bt - R[n]) / (N * steps)));
      reinforce -= lp[n * steps + t] * (R[n] - bt) / N;
      mse += (bt - R[n]) * (bt - R[n]) / (N * steps);
    }
  CHECK(loss.reinforce == Approx(reinforce));
  CHECK(loss.baseline == Approx(mse));
}

TEST_CASE("ram sensor reads the pixels around the location", "[models]") {
  Rng rng(1);
  RecurrentAttentionModel ram({.glimpse_side = 4, .scales = 2, .glimpses = 2, .image_side = 8}, rng);
  std::vector<real> pixels(64);
  for (int i = 0; i < 64; i++) pixels[i] = static_cast<real>(i);
  Tensor x = Tensor::from_data({1, 1, 8, 8}, pixels);
  // l = (0.25, -0.5): centre pixel x = floor(1.25 / 2 * 8) = 5, y = floor(0.5 / 2 * 8) = 2.
  Tensor patch = ram.sensor(x, Tensor::from_data({1, 2}, {0.25f, -0.5f}));
  REQUIRE(patch.shape() == Shape{1, 2, 4, 4});
  std::vector<real> p = patch.to_vector();
  // scale 0: rows 0..3, columns 3..6 of the image
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) CHECK(p[r * 4 + c] == pixels[r * 8 + (3 + c)]);
  // scale 1: an 8x8 crop at rows -2..5, columns 1..8, 2x2-averaged; its top row is padding
  CHECK(p[16 + 0] == 0);
  CHECK(p[16 + 4 + 0] == Approx((1 + 2 + 9 + 10) / 4.0));  // rows 0..1, columns 1..2
  CHECK(p[16 + 4 + 3] == Approx((7 + 0 + 15 + 0) / 4.0));  // rows 0..1, columns 7..8: 8 is outside
}

TEST_CASE("ram pass: shapes and locations", "[models]") {
  Rng rng(2);
  RecurrentAttentionModel ram({.glimpse_side = 12, .scales = 3, .glimpses = 4, .image_side = 60}, rng);
  Tensor x = Tensor::uniform({5, 1, 60, 60}, 0, 1, rng);
  Rng sampler(7);
  RamOutput out = ram.run(x, sampler);
  CHECK(out.log_probs.shape() == Shape{5, 10});
  CHECK(out.location_log_probs.shape() == Shape{5, 3});
  CHECK(out.baselines.shape() == Shape{5, 3});
  REQUIRE(out.locations.size() == 4);
  for (const Tensor& l : out.locations) {
    CHECK(l.shape() == Shape{5, 2});
    for (real v : l.to_vector()) CHECK((v >= -1 && v <= 1));
  }
  // each row of log_probs is a distribution
  std::vector<real> lp = out.log_probs.to_vector();
  for (int n = 0; n < 5; n++) {
    double total = 0;
    for (int k = 0; k < 10; k++) total += std::exp(lp[n * 10 + k]);
    CHECK(total == Approx(1).epsilon(1e-5));
  }
  // the same Rng seed gives the same pass
  Rng again(7);
  CHECK(ram.run(x, again).log_probs.to_vector() == lp);
  CHECK_THROWS_AS(ram.run(Tensor::zeros({5, 1, 28, 28}), sampler), Error);
  CHECK_THROWS_AS(RecurrentAttentionModel({.glimpses = 0}, rng), Error);
  // one glimpse: no location is chosen, the loss is the cross-entropy alone
  RecurrentAttentionModel single({.glimpses = 1}, rng);
  RamOutput one = single.run(Tensor::zeros({2, 1, 28, 28}), sampler);
  CHECK(!one.location_log_probs.defined());
  CHECK(ram_loss(one, {0, 1}).total.item() == Approx(ram_loss(one, {0, 1}).classification));
}

TEST_CASE("ram pass following the policy's mean: no sampling after the first location", "[models]") {
  Rng rng(4);
  RecurrentAttentionModel ram({.glimpses = 3}, rng);
  Tensor x = Tensor::uniform({4, 1, 28, 28}, 0, 1, rng);
  // With the same seed for l_1, two mean-following passes agree, whatever else the Rng would give.
  Rng first(9), second(9);
  RamOutput a = ram.run(x, first, LocationChoice::mean);
  RamOutput b = ram.run(x, second, LocationChoice::mean);
  CHECK(a.log_probs.to_vector() == b.log_probs.to_vector());
  // l_1 is drawn as in a sampled pass; every later location is the mean itself, so its
  // log-probability is the Gaussian's peak: -log(2 pi sigma^2) for the (x, y) pair.
  Rng sampled_rng(9);
  RamOutput sampled = ram.run(x, sampled_rng);
  CHECK(a.locations[0].to_vector() == sampled.locations[0].to_vector());
  CHECK(a.locations[1].to_vector() != sampled.locations[1].to_vector());
  const double sigma = ram.options.location_sigma;
  for (real v : a.location_log_probs.to_vector()) CHECK(v == Approx(-std::log(2 * M_PI * sigma * sigma)).epsilon(1e-4));
}

TEST_CASE("ram forward/backward: a few Adam steps lower the loss on a small batch", "[models][reinforce]") {
  Rng rng(4);
  RecurrentAttentionModel ram({.glimpse_side = 8, .scales = 1, .glimpses = 3, .image_side = 28}, rng);
  Tensor x = Tensor::uniform({16, 1, 28, 28}, 0, 1, rng);
  std::vector<int64_t> labels;
  for (int n = 0; n < 16; n++) labels.push_back(n % 10);
  Adam adam(ram.parameters(), {.lr = 1e-3f});
  double first = 0, last = 0;
  for (int step = 0; step < 25; step++) {
    Rng sampler(11);  // the same locations every step: a fixed problem to fit
    RamLoss loss = ram_loss(ram.run(x, sampler), labels);
    if (step == 0) first = loss.classification;
    last = loss.classification;
    adam.zero_grad();
    backward(loss.total);
    for (const Tensor& p : ram.parameters()) REQUIRE(p.grad().defined());
    adam.step();
  }
  INFO("cross-entropy " << first << " -> " << last);
  CHECK(last < 0.5 * first);
}
