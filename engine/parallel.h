// The engine's one threading policy (docs/ARCHITECTURE.md, "Threads").
//
// oneTBB owns every worker thread. OpenBLAS is told to use ONE thread, and the engine splits
// large matrix products into blocks that TBB runs in parallel (blas.h). So the two libraries
// never run thread pools side by side: at most num_threads() threads compute at any moment,
// and a GEMM called inside a parallel loop (one image of a batch) cannot oversubscribe.
//
// The thread count: set_num_threads(n) (trainers: --threads N), or the environment variable
// GLIMPSE_NUM_THREADS, or all cores.
#pragma once

#include <cstdint>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace glimpse {

void set_num_threads(int n);  // n <= 0 means all cores
int num_threads();

// Runs body(begin, end) over [0, n): as one chunk when n <= grain or on one thread, else halved
// until every chunk holds at most `grain` items, whatever the number of threads. A body must give
// the same results for any split (each item's work its own); a sum over chunks fixes its own
// (ImageChunks, engine/ops/conv2d.h), so that results do not depend on the thread count.
template <typename Body>
void parallel_for(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  if (n <= grain || num_threads() == 1) {
    body(int64_t{0}, n);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, n, grain), [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); },
      tbb::simple_partitioner());
}

}  // namespace glimpse
