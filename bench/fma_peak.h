// The cores' multiply-add peak, measured rather than looked up: each thread runs twelve
// independent chains of fused multiply-adds on the widest vectors the build targets (16 floats
// with AVX-512, 8 with AVX2, 4 otherwise), so that the FMA units never wait for a result:
//
//   acc[i] = acc[i] * a + b      for i = 0..11, over and over      2 flops per lane per instruction
//
// Twelve chains cover the latency (4 cycles) of two FMA units with room to spare, and fit the
// sixteen vector registers of AVX2 beside a and b. The figure is the ceiling every kernel is
// measured against (bench_gemm), and a step's FLOPs at that rate its floor (bench_step).
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "engine/parallel.h"

namespace glimpse::bench {

#if defined(__AVX512F__)
inline constexpr int fma_lanes = 16;
#elif defined(__AVX2__) || defined(__AVX__)
inline constexpr int fma_lanes = 8;
#else
inline constexpr int fma_lanes = 4;
#endif
typedef float fma_vector __attribute__((vector_size(fma_lanes * sizeof(float))));

// One thread's chains, `rounds` times; returns a value that depends on every result, so that the
// compiler cannot drop the work.
inline float fma_chains(long rounds) {
  constexpr int chains = 12;
  fma_vector acc[chains];
  for (int i = 0; i < chains; i++) acc[i] = fma_vector{} + 0.001f * static_cast<float>(i);
  const fma_vector a = fma_vector{} + 0.999f, b = fma_vector{} + 0.0001f;
  for (long r = 0; r < rounds; r++) {
#pragma GCC unroll 12
    for (int i = 0; i < chains; i++) acc[i] = acc[i] * a + b;  // one FMA each (-ffp-contract=fast)
  }
  float total = 0;
  for (int i = 0; i < chains; i++)
    for (int lane = 0; lane < fma_lanes; lane++) total += acc[i][lane];
  return total;
}

// GFLOP/s of all num_threads() threads together: the best of `repeats` wall-clock timings.
inline double measure_fma_peak_gflops(int repeats = 5) {
  constexpr long rounds = 20'000'000;
  const int threads = num_threads();
  double best_seconds = 1e30;
  std::vector<float> results(static_cast<size_t>(threads));  // kept, so that the work is not dropped
  for (int r = 0; r < repeats + 1; r++) {                    // the first run warms the cores up (clock, turbo)
    timespec t0{}, t1{};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    parallel_for(threads, 1, [&](int64_t first, int64_t last) {
      for (int64_t t = first; t < last; t++) results[static_cast<size_t>(t)] = fma_chains(rounds);
    });
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double seconds =
        static_cast<double>(t1.tv_sec - t0.tv_sec) + 1e-9 * static_cast<double>(t1.tv_nsec - t0.tv_nsec);
    if (r > 0) best_seconds = std::min(best_seconds, seconds);
  }
  const double flops = 2.0 * 12 * fma_lanes * static_cast<double>(rounds) * threads;
  if (results[0] == 12345.f) std::printf(" ");  // a use of the results the compiler cannot see through
  return flops / best_seconds / 1e9;
}

}  // namespace glimpse::bench
