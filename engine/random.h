// Rng: the engine's one source of randomness, seeded explicitly so that runs repeat.
//
// A 64-bit Mersenne twister drives everything; normal() uses the Box–Muller transform written
// out here, not std::normal_distribution, whose output differs between standard libraries.
#pragma once

#include <cstdint>
#include <random>

#include "engine/tensor.h"

namespace glimpse {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}
  void seed(uint64_t seed) {
    engine_.seed(seed);
    has_spare_ = false;
  }

  uint64_t next_u64() { return engine_(); }
  // uniform in [0, 1): the top 24 bits, so every value is exact in a float
  real uniform() { return static_cast<real>(engine_() >> 40) * (1.0f / 16777216.0f); }
  real uniform(real low, real high) { return low + (high - low) * uniform(); }
  // uniform integer in [0, n); an empty range is an error (x % 0 would be SIGFPE)
  int64_t randint(int64_t n) {
    if (n <= 0) fail("Rng::randint: no integer in the empty range [0, " + std::to_string(n) + ")");
    return static_cast<int64_t>(engine_() % static_cast<uint64_t>(n));
  }
  double normal();  // standard normal, N(0, 1)
  real normal(real mean, real stddev) { return mean + stddev * static_cast<real>(normal()); }
  bool bernoulli(real p) { return uniform() < p; }

  // A child generator for one stream of work (one data-loader worker, one thread's chunk),
  // so that parallel code draws the same numbers whatever the scheduling of threads.
  Rng split(uint64_t stream) { return Rng(engine_() ^ (0x9E3779B97F4A7C15ull * (stream + 1))); }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace glimpse
