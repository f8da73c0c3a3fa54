#include "optim/snes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace glimpse {

std::vector<real> snes_utilities(int population) {
  if (population < 1) fail("snes_utilities: population must be >= 1, got " + std::to_string(population));
  const double p = population;
  std::vector<double> raw(population);  // raw[k - 1] for rank k
  for (int k = 1; k <= population; k++) raw[k - 1] = std::max(0.0, std::log(p / 2 + 1) - std::log(double(k)));
  const double total = std::accumulate(raw.begin(), raw.end(), 0.0);
  std::vector<real> u(population);
  for (int k = 0; k < population; k++) u[k] = static_cast<real>(raw[k] / total - 1 / p);
  return u;
}

Snes::Snes(std::vector<real> mu0, real sigma0, SnesOptions options)
    : mu_(std::move(mu0)), mirrored_(options.mirrored), rng_(options.seed) {
  const double d = static_cast<double>(mu_.size());
  if (mu_.empty()) fail("Snes: the starting mean mu0 has no dimensions");
  if (!(sigma0 > 0)) fail("Snes: sigma0 must be > 0, got " + std::to_string(sigma0));
  sigma_.assign(mu_.size(), sigma0);

  population_ = options.population;
  if (population_ == 0) {
    population_ = 4 + static_cast<int>(std::floor(3 * std::log(d)));  // Wierstra et al. 2014, Table 1
    if (mirrored_ && population_ % 2) population_++;
  }
  if (population_ < 2) fail("Snes: population must be >= 2, got " + std::to_string(population_));
  if (mirrored_ && population_ % 2)
    fail("Snes: mirrored sampling needs an even population, got " + std::to_string(population_));

  eta_mu_ = options.eta_mu;
  eta_sigma_ = options.eta_sigma != 0 ? options.eta_sigma : static_cast<real>((3 + std::log(d)) / (5 * std::sqrt(d)));
  if (!(eta_mu_ > 0) || !(eta_sigma_ > 0)) fail("Snes: learning rates must be > 0");
  utilities_ = snes_utilities(population_);
}

// ask(): draw s_k ~ N(0, I) for k = 1..p (with mirroring: s_1..s_{p/2} and their negatives),
// and return z_k = mu + sigma * s_k (element-wise).
std::vector<std::vector<real>> Snes::ask() {
  const size_t d = mu_.size();
  const int drawn = mirrored_ ? population_ / 2 : population_;
  samples_.assign(population_, std::vector<real>(d));
  for (int k = 0; k < drawn; k++) {
    for (size_t i = 0; i < d; i++) samples_[k][i] = static_cast<real>(rng_.normal());
    if (mirrored_)
      for (size_t i = 0; i < d; i++) samples_[drawn + k][i] = -samples_[k][i];
  }
  std::vector<std::vector<real>> z(population_, std::vector<real>(d));
  for (int k = 0; k < population_; k++)
    for (size_t i = 0; i < d; i++) z[k][i] = mu_[i] + sigma_[i] * samples_[k][i];
  return z;
}

// tell(): one step of SNES (Schaul et al. 2011, Algorithm 2), minimising f:
//   1. sort the samples by fitness, best (lowest) first; a NaN fitness ranks last
//   2. give the sample of rank k the utility u_k (snes_utilities)
//   3. natural gradients, in the coordinates of the standard samples s_k:
//        grad_mu    = sum_k u_k s_k
//        grad_sigma = sum_k u_k (s_k^2 - 1)
//   4. update, element-wise over the d dimensions:
//        mu    <- mu + eta_mu * sigma * grad_mu
//        sigma <- sigma * exp(eta_sigma / 2 * grad_sigma)
//      (the exponential keeps sigma positive; the factor 1/2 turns the gradient on the
//      variance into one on the standard deviation)
void Snes::tell(const std::vector<real>& fitness) {
  if (samples_.empty()) fail("Snes::tell: call ask() first");
  if (static_cast<int>(fitness.size()) != population_)
    fail("Snes::tell: expected " + std::to_string(population_) + " fitness values (one per point of ask()), got " +
         std::to_string(fitness.size()));

  // 1. ranking; stable, so ties keep the order of ask() and runs repeat exactly
  std::vector<int> order(population_);
  std::iota(order.begin(), order.end(), 0);
  auto better = [&](int a, int b) {
    if (std::isnan(fitness[a])) return false;
    if (std::isnan(fitness[b])) return true;
    return fitness[a] < fitness[b];
  };
  std::stable_sort(order.begin(), order.end(), better);

  // 2-3. utility-weighted sums, in double
  const size_t d = mu_.size();
  std::vector<double> grad_mu(d, 0), grad_sigma(d, 0);
  for (int rank = 0; rank < population_; rank++) {
    const double u = utilities_[rank];
    const std::vector<real>& s = samples_[order[rank]];
    for (size_t i = 0; i < d; i++) {
      grad_mu[i] += u * s[i];
      grad_sigma[i] += u * (static_cast<double>(s[i]) * s[i] - 1);
    }
  }

  // 4. natural-gradient step on mu, multiplicative step on sigma
  for (size_t i = 0; i < d; i++) {
    mu_[i] += static_cast<real>(eta_mu_ * sigma_[i] * grad_mu[i]);
    sigma_[i] *= static_cast<real>(std::exp(eta_sigma_ / 2 * grad_sigma[i]));
  }
  samples_.clear();  // a second tell() needs a new ask()
  generation_++;
}

void Snes::restore(std::vector<real> mu, std::vector<real> sigma, int64_t generation) {
  if (mu.size() != mu_.size() || sigma.size() != sigma_.size())
    fail("Snes::restore: expected mu and sigma of " + std::to_string(mu_.size()) + " dimensions, got " +
         std::to_string(mu.size()) + " and " + std::to_string(sigma.size()));
  for (real s : sigma)
    if (!(s > 0)) fail("Snes::restore: every sigma must be > 0, got " + std::to_string(s));
  mu_ = std::move(mu);
  sigma_ = std::move(sigma);
  generation_ = generation;
  samples_.clear();  // the next call must be ask()
}

}  // namespace glimpse
