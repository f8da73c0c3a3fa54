// dasnet: theta = 0 is exactly the frozen resnet20, the gates change the output otherwise, the
// observation covers the 784 channels, and one SNES generation runs on a tiny batch and scores
// each candidate as the whole loop of passes does.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "models/dasnet.h"

using namespace glimpse;
using Catch::Contains;

// A resnet20 in evaluation mode with BN statistics that are not the identity.
static std::shared_ptr<ResNet20> frozen_resnet(Rng& rng) {
  auto net = std::make_shared<ResNet20>(rng);
  for (auto& [name, t] : net->named_buffers())
    if (name.find("running_mean") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = rng.uniform(-0.1f, 0.1f);
    else if (name.find("running_var") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = rng.uniform(0.5f, 2.0f);
  net->eval();
  return net;
}

TEST_CASE("dasnet with theta = 0 is exactly the frozen resnet20", "[models][dasnet]") {
  Rng rng(5);
  auto base = frozen_resnet(rng);
  DasNet das(base);
  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  Tensor expected;
  {
    NoGradGuard no_grad;
    expected = base->forward(x);
  }
  CHECK(das.forward(x).to_vector() == expected.to_vector());
  // the base keeps resnet20's names: a resnet20 state loads into it
  CHECK(das.base->named_parameters().front().first == "conv1.weight");
}

TEST_CASE("dasnet gates: 784 observations, and theta != 0 changes the output", "[models][dasnet]") {
  Rng rng(6);
  DasNet das(frozen_resnet(rng), 5);
  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  Tensor observation;
  {
    NoGradGuard no_grad;
    das.gated_forward(x, Tensor::ones({2, dasnet_gates}), &observation);
  }
  CHECK(observation.shape() == Shape{2, 784});
  Tensor plain = das.forward(x);
  std::vector<real> theta(784 * 784);
  for (real& v : theta) v = 0.05f * static_cast<real>(rng.normal());
  das.set_theta(theta);
  std::vector<real> gated = das.forward(x).to_vector(), before = plain.to_vector();
  double change = 0;
  for (size_t i = 0; i < gated.size(); i++) change += std::abs(gated[i] - before[i]);
  CHECK(change > 1e-3);
  CHECK_THROWS_AS(das.set_theta({1, 2, 3}), Error);
  CHECK_THROWS_AS(das.gated_forward(x, Tensor::ones({2, 10})), Error);
}

TEST_CASE("dasnet SNES generation runs on a tiny batch", "[models][dasnet][snes]") {
  Rng rng(7);
  DasNet das(frozen_resnet(rng), 2);
  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  Snes snes(std::vector<real>(784 * 784, 0), 0.01f, {.population = 4, .seed = 3});
  std::vector<real> fitness = dasnet_snes_generation(snes, das, x, {3, 7});
  REQUIRE(fitness.size() == 4);
  for (real f : fitness) CHECK(std::isfinite(f));
  CHECK(snes.generation() == 1);
  // theta now holds the new mean, which moved away from zero
  double moved = 0;
  for (int64_t i = 0; i < das.theta.numel(); i++) moved += std::abs(das.theta.data()[i]);
  CHECK(moved > 0);
  CHECK(das.theta.data()[12345] == snes.mean()[12345]);
}

// A generation runs the first pass (every gate at one) once and only the later passes for each
// candidate: every fitness must still be the cross-entropy of the whole T-pass forward, and that
// forward the paper's loop written out.
TEST_CASE("a SNES generation scores each candidate as the whole T-pass loop does", "[models][dasnet][snes]") {
  Rng rng(8);
  DasNet das(frozen_resnet(rng), 3);
  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  const std::vector<int64_t> labels{3, 7};
  const SnesOptions options{.population = 4, .mirrored = true, .seed = 3};
  Snes snes(std::vector<real>(784 * 784, 0), 0.05f, options), twin(std::vector<real>(784 * 784, 0), 0.05f, options);
  const std::vector<real> fitness = dasnet_snes_generation(snes, das, x, labels);
  const std::vector<std::vector<real>> candidates = twin.ask();  // the same draws
  NoGradGuard no_grad;
  for (size_t k = 0; k < candidates.size(); k++) {
    das.set_theta(candidates[k]);
    Tensor gates = Tensor::ones({2, dasnet_gates}), logits, observation;
    for (int64_t t = 1; t <= das.passes; t++) {  // a_1 = 1; a_{t+1} = 2 sigmoid(o_t theta^T)
      logits = das.gated_forward(x, gates, &observation);
      gates = das.next_gates(observation);
    }
    INFO("candidate " << k);
    CHECK(das.forward(x).to_vector() == logits.to_vector());
    CHECK(cross_entropy(logits, labels).item() == fitness[k]);
  }
  CHECK(fitness[0] != fitness[1]);  // theta reaches the output: the candidates score differently
}

// The diagonal policy: SNES searches 784 numbers, theta holds them on its diagonal and zero off it.
TEST_CASE("dasnet's diagonal policy: theta's diagonal alone", "[models][dasnet][snes]") {
  Rng rng(9);
  DasNet das(frozen_resnet(rng), 2);
  CHECK(policy_size(DasnetPolicy::full) == 784 * 784);
  CHECK(policy_size(DasnetPolicy::diagonal) == 784);
  std::vector<real> diagonal(784);
  for (size_t c = 0; c < diagonal.size(); c++) diagonal[c] = rng.normal(0, 1);
  das.set_theta(std::vector<real>(784 * 784, 5));  // set_policy overwrites every entry
  das.set_policy(diagonal, DasnetPolicy::diagonal);
  CHECK(das.policy(DasnetPolicy::diagonal) == diagonal);
  CHECK(das.theta.data()[3 * 784 + 3] == diagonal[3]);
  CHECK(das.theta.data()[3 * 784 + 4] == 0);
  CHECK_THROWS_WITH(das.set_policy({1, 2}, DasnetPolicy::diagonal), Contains("784 values, got 2"));

  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  Snes snes(std::vector<real>(784, 0), 0.5f, {.population = 4, .mirrored = true, .seed = 3});
  const std::vector<real> fitness = dasnet_snes_generation(snes, das, x, {1, 2}, DasnetPolicy::diagonal);
  CHECK(fitness[0] != fitness[1]);  // the diagonal alone reaches the output
  CHECK(das.policy(DasnetPolicy::diagonal) == snes.mean());
  double off_diagonal = 0;
  for (int64_t i = 0; i < 784; i++)
    for (int64_t j = 0; j < 784; j++)
      if (i != j) off_diagonal += std::abs(das.theta.data()[i * 784 + j]);
  CHECK(off_diagonal == 0);
}
