// SNES: separable natural evolution strategies, a gradient-free optimiser for any objective.
//
//   Schaul, Glasmachers & Schmidhuber, "High Dimensions and Heavy Tails for Natural Evolution
//   Strategies", GECCO 2011 (SNES, Algorithm 2); Wierstra, Schaul, Glasmachers, Sun, Peters &
//   Schmidhuber, "Natural Evolution Strategies", JMLR 15, 2014 (Sec. 5.2, Algorithm 6).
//
// The search distribution is a Gaussian with a diagonal covariance: a mean mu and one standard
// deviation sigma_i per dimension. Each generation samples a population around mu, scores it,
// and moves mu and sigma along the natural gradient of the expected (rank-shaped) fitness.
//
// SNES MINIMISES: lower fitness is better. The ask/tell loop:
//
//     Snes snes(mu0, 0.5f, {.seed = 7});
//     for (int generation = 0; generation < 100; generation++) {
//       std::vector<std::vector<real>> z = snes.ask();        // p candidate points
//       std::vector<real> fitness;
//       for (auto& x : z) fitness.push_back(objective(x));    // lower is better
//       snes.tell(fitness);
//     }
//     snes.mean();  // the current estimate of the minimiser
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace glimpse {

struct SnesOptions {
  int population = 0;     // p; 0 picks 4 + floor(3 ln d) (made even when mirrored)
  real eta_mu = 1;        // learning rate of the mean
  real eta_sigma = 0;     // learning rate of sigma; 0 picks (3 + ln d) / (5 sqrt d)
  bool mirrored = false;  // sample in pairs s, -s (Brockhoff et al. 2010): p must be even
  uint64_t seed = 0;
};

class Snes {
 public:
  Snes(std::vector<real> mu0, real sigma0, SnesOptions options = {});

  // Draws the next population: p points z_k = mu + sigma * s_k with s_k ~ N(0, I).
  std::vector<std::vector<real>> ask();
  // Takes the fitness of each point of the last ask(), in the same order (LOWER is better),
  // and updates mu and sigma.
  void tell(const std::vector<real>& fitness);

  const std::vector<real>& mean() const { return mu_; }
  const std::vector<real>& sigma() const { return sigma_; }
  int population() const { return population_; }
  int64_t generation() const { return generation_; }  // completed ask/tell rounds
  real eta_mu() const { return eta_mu_; }
  real eta_sigma() const { return eta_sigma_; }

  // For checkpoints. The whole state of a search is mu, sigma, the generation count and the
  // Rng; a trainer that re-seeds the Rng before every ask() from (run seed, generation) only
  // has to save mu, sigma and the generation count to continue a search bitwise
  // (train/dasnet_training.cpp).
  void reseed(uint64_t seed) { rng_.seed(seed); }
  // Continues a saved search: mu and sigma as they were after `generation` rounds.
  void restore(std::vector<real> mu, std::vector<real> sigma, int64_t generation);

 private:
  std::vector<real> mu_;     // d, mean of the search distribution
  std::vector<real> sigma_;  // d, standard deviation per dimension
  int population_;
  real eta_mu_, eta_sigma_;
  bool mirrored_;
  Rng rng_;
  std::vector<real> utilities_;             // p, by rank: utilities_[0] for the best
  std::vector<std::vector<real>> samples_;  // p x d, the s_k of the last ask()
  int64_t generation_ = 0;
};

// Rank-based fitness shaping (Wierstra et al. 2014, Sec. 3.1): for ranks k = 1..p (1 = best)
//   u_k = max(0, log(p/2 + 1) - log k) / sum_j max(0, log(p/2 + 1) - log j)  -  1/p
// The utilities sum to zero, never increase with rank (the worse half all get -1/p), and do not
// depend on the fitness values, so
// the update is invariant to any monotone transformation of the objective.
std::vector<real> snes_utilities(int population);

}  // namespace glimpse
