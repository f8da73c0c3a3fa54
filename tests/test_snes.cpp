// SNES: fitness shaping, convergence on the sphere and Rosenbrock functions in 10 dimensions
// within a fixed budget of evaluations, mirrored sampling, and exact repeatability per seed.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "optim/snes.h"

using namespace glimpse;

using Objective = std::function<double(const std::vector<real>&)>;

// f(x) = sum x_i^2, minimum 0 at x = 0
static double sphere(const std::vector<real>& x) {
  double f = 0;
  for (real v : x) f += static_cast<double>(v) * v;
  return f;
}

// f(x) = sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at x = (1, ..., 1), a curved
// valley that couples neighbouring coordinates: hard for a separable search distribution.
static double rosenbrock(const std::vector<real>& x) {
  double f = 0;
  for (size_t i = 0; i + 1 < x.size(); i++) {
    double valley = x[i + 1] - static_cast<double>(x[i]) * x[i], offset = 1 - static_cast<double>(x[i]);
    f += 100 * valley * valley + offset * offset;
  }
  return f;
}

// Runs whole generations while they fit in the budget; returns the evaluations used.
static int64_t minimise(Snes& snes, const Objective& f, int64_t budget) {
  int64_t evaluations = 0;
  while (evaluations + snes.population() <= budget) {
    std::vector<std::vector<real>> z = snes.ask();
    std::vector<real> fitness;
    for (const auto& x : z) fitness.push_back(static_cast<real>(f(x)));
    snes.tell(fitness);
    evaluations += static_cast<int64_t>(z.size());
  }
  return evaluations;
}

TEST_CASE("SNES utilities: zero sum, decreasing with rank", "[optim][snes]") {
  for (int p : {2, 5, 10, 21}) {
    std::vector<real> u = snes_utilities(p);
    REQUIRE(static_cast<int>(u.size()) == p);
    CHECK(std::accumulate(u.begin(), u.end(), 0.0) == Approx(0).margin(1e-6));
    for (int k = 1; k < p; k++) CHECK(u[k] <= u[k - 1]);
    CHECK(u[0] > 0);
    CHECK(u[p - 1] == Approx(-1.0 / p));  // the lower half all get -1/p
  }
  // p = 4: raw weights log 3 - log k for k = 1, 2 (log 3 - log 3 = 0 for k = 3)
  std::vector<real> u = snes_utilities(4);
  double total = std::log(3.0) + (std::log(3.0) - std::log(2.0));
  CHECK(u[0] == Approx(std::log(3.0) / total - 0.25));
  CHECK(u[1] == Approx((std::log(3.0) - std::log(2.0)) / total - 0.25));
  CHECK(u[2] == Approx(-0.25));
}

TEST_CASE("SNES defaults follow the papers", "[optim][snes]") {
  Snes snes(std::vector<real>(10, 0), 1);
  CHECK(snes.population() == 10);  // 4 + floor(3 ln 10) = 4 + 6
  CHECK(snes.eta_mu() == 1);
  CHECK(snes.eta_sigma() == Approx((3 + std::log(10.0)) / (5 * std::sqrt(10.0))));
  CHECK(Snes(std::vector<real>(3, 0), 1, {.mirrored = true}).population() == 8);  // 4 + 3 = 7, made even
  CHECK(snes.sigma() == std::vector<real>(10, 1));
}

TEST_CASE("SNES minimises the sphere in 10 dimensions", "[optim][snes]") {
  // From f = 90 at mu0 = (3, ..., 3): 2000 evaluations (200 generations of 10). Over seeds 1-20
  // the worst f(mean) is about 2e-8, far below the threshold.
  for (bool mirrored : {false, true}) {
    Snes snes(std::vector<real>(10, 3), 1, {.mirrored = mirrored, .seed = 1});
    CHECK(minimise(snes, sphere, 2000) == 2000);
    double f = sphere(snes.mean());
    INFO("mirrored " << mirrored << ": f(mean) = " << f);
    CHECK(f < 1e-6);
    for (real s : snes.sigma()) CHECK(s < 1e-2);  // the distribution has contracted onto the minimum
  }
}

TEST_CASE("SNES minimises Rosenbrock in 10 dimensions", "[optim][snes]") {
  // From f = 9 at mu0 = 0, population 20, 300000 evaluations (15000 generations). Over seeds
  // 1-50 the median f(mean) is about 1e-3 (1.5e-4 mirrored) and the worst 0.044 (0.0066).
  for (bool mirrored : {false, true}) {
    Snes snes(std::vector<real>(10, 0), 0.5f, {.population = 20, .mirrored = mirrored, .seed = 1});
    minimise(snes, rosenbrock, 300000);
    double f = rosenbrock(snes.mean());
    INFO("mirrored " << mirrored << ": f(mean) = " << f);
    CHECK(f < 0.1);
    for (real x : snes.mean()) CHECK(x == Approx(1).margin(0.3));
  }
}

TEST_CASE("SNES mirrored sampling draws pairs s, -s", "[optim][snes]") {
  std::vector<real> mu0 = {1, -2, 0.5f};
  Snes snes(mu0, 0.3f, {.population = 6, .mirrored = true, .seed = 3});
  std::vector<std::vector<real>> z = snes.ask();
  REQUIRE(z.size() == 6);
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 3; i++) CHECK(z[k][i] - mu0[i] == Approx(-(z[k + 3][i] - mu0[i])).margin(1e-6));
  CHECK_THROWS_WITH(Snes(mu0, 0.3f, {.population = 5, .mirrored = true}), Catch::Contains("even population"));
}

TEST_CASE("SNES repeats its trajectory for a seed and ignores monotone transforms", "[optim][snes]") {
  auto trajectory = [](uint64_t seed, const Objective& f) {
    Snes snes(std::vector<real>(5, 2), 1, {.seed = seed});
    std::vector<std::vector<real>> means;
    for (int g = 0; g < 30; g++) {
      minimise(snes, f, snes.population());  // one generation
      means.push_back(snes.mean());
    }
    return means;
  };
  auto a = trajectory(11, rosenbrock), b = trajectory(11, rosenbrock);
  CHECK(a == b);  // bitwise
  CHECK(a != trajectory(12, rosenbrock));
  // only the ranks of the fitness values matter (fitness shaping)
  CHECK(a == trajectory(11, [](const std::vector<real>& x) { return std::log1p(rosenbrock(x)) * 3 - 7; }));
}

TEST_CASE("SNES update by hand on one generation", "[optim][snes]") {
  // d = 1, p = 2: utilities u = (1/2, -1/2) (only the best gets a positive raw weight).
  Snes snes({0}, 1, {.population = 2, .eta_mu = 1, .eta_sigma = 0.5f, .seed = 5});
  std::vector<std::vector<real>> z = snes.ask();
  real s1 = z[0][0], s2 = z[1][0];                                                        // mu = 0, sigma = 1: z = s
  snes.tell({static_cast<real>(std::abs(s1 - 3)), static_cast<real>(std::abs(s2 - 3))});  // nearer to 3 is better
  real best = std::abs(s1 - 3) < std::abs(s2 - 3) ? s1 : s2, worst = best == s1 ? s2 : s1;
  double grad_mu = 0.5 * best - 0.5 * worst;
  double grad_sigma = 0.5 * (best * best - 1) - 0.5 * (worst * worst - 1);
  CHECK(snes.mean()[0] == Approx(grad_mu));                          // mu + 1 * sigma * grad_mu
  CHECK(snes.sigma()[0] == Approx(std::exp(0.5 / 2 * grad_sigma)));  // sigma * exp(eta_sigma / 2 * grad)
  CHECK(snes.generation() == 1);
}

TEST_CASE("SNES ranks NaN fitness last and refuses misuse", "[optim][snes]") {
  Snes snes({0, 0}, 1, {.population = 4, .seed = 2});
  CHECK_THROWS_WITH(snes.tell({1, 2, 3, 4}), Catch::Contains("ask() first"));
  std::vector<std::vector<real>> z = snes.ask();
  CHECK_THROWS_WITH(snes.tell({1, 2, 3}), Catch::Contains("expected 4 fitness values"));
  real nan = std::numeric_limits<real>::quiet_NaN();
  snes.tell({nan, 1, nan, 2});  // must not crash; the NaNs count as the worst
  for (real m : snes.mean()) CHECK(std::isfinite(m));
  CHECK_THROWS_AS(Snes({}, 1), Error);
  CHECK_THROWS_AS(Snes({0}, 0), Error);
}

TEST_CASE("SNES restored from mu, sigma and generation continues bitwise when re-seeded per generation",
          "[optim][snes]") {
  // what train_dasnet does: re-seed before every ask() from (seed, generation), save mu and sigma
  auto generation = [](Snes& snes) {
    snes.reseed(1000 + static_cast<uint64_t>(snes.generation()));
    std::vector<real> fitness;
    for (const std::vector<real>& x : snes.ask()) fitness.push_back(static_cast<real>(sphere(x)));
    snes.tell(fitness);
  };
  const std::vector<real> mu0(10, 1.5f);
  Snes whole(mu0, 0.3f, {.population = 6, .mirrored = true, .seed = 1});
  for (int g = 0; g < 8; g++) generation(whole);

  Snes first(mu0, 0.3f, {.population = 6, .mirrored = true, .seed = 1});
  for (int g = 0; g < 3; g++) generation(first);
  Snes resumed(std::vector<real>(10, 0), 0.3f, {.population = 6, .mirrored = true, .seed = 99});
  resumed.restore(first.mean(), first.sigma(), first.generation());
  for (int g = 3; g < 8; g++) generation(resumed);
  CHECK(resumed.generation() == 8);
  CHECK(resumed.mean() == whole.mean());  // bitwise
  CHECK(resumed.sigma() == whole.sigma());

  CHECK_THROWS_WITH(resumed.restore(std::vector<real>(9, 0), std::vector<real>(10, 1), 0),
                    Catch::Contains("expected mu and sigma of 10 dimensions"));
  std::vector<real> bad_sigma(10, 1);
  bad_sigma[4] = std::numeric_limits<real>::quiet_NaN();
  CHECK_THROWS_WITH(resumed.restore(std::vector<real>(10, 0), bad_sigma, 0),
                    Catch::Contains("every sigma must be > 0"));
}
