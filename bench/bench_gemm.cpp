// bench_gemm: how close resnet20's convolutions come to the machine's matrix-product speed.
//
//   bench_gemm [--threads T] [--batch B] [--repeats R]
//
// For each distinct convolution of resnet20 (batch B, default 128) it times conv2d's forward and
// its backward (weight and input gradients), and turns the times into GFLOP/s:
//
//   forward  flops = 2 * N * K * C*KH*KW * OH*OW      (one multiply-add per weight per output)
//   backward flops = 2 * forward flops                (dw and dx are one product each)
//
// against two ceilings at the same thread count: the cores' multiply-add peak, measured
// (bench/fma_peak.h), and OpenBLAS's speed on one large square product (sgemm, M = N = K = 1536).
// The convolutions include im2col / col2im and the bias-free bookkeeping, so the ratios are the
// end-to-end efficiency of the convolution, not of its GEMM alone.
// Times are wall-clock, the best of R runs, so run it on a machine otherwise idle (pause other
// work). CPU time per thread, which an earlier version used, leaves out a thread's idle time: a
// convolution that kept one of two cores idle half the time came out faster than the peak.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/fma_peak.h"
#include "engine/autograd.h"
#include "engine/blas.h"
#include "engine/ops.h"
#include "engine/parallel.h"
#include "engine/random.h"
#include "train/flags.h"

using namespace glimpse;

namespace {

double wall_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

// The best of `repeats` runs of f, in wall-clock milliseconds.
double best_ms(int repeats, const std::function<void()>& f) {
  f();  // warm-up: caches, pages, the allocator
  double best = 1e30;
  for (int r = 0; r < repeats; r++) {
    const double t0 = wall_ms();
    f();
    best = std::min(best, wall_ms() - t0);
  }
  return best;
}

struct ConvLayer {
  int64_t C, K, HW, kernel, stride, padding;
  int count;  // how many convolutions of resnet20 have this shape
};

// The convolutions of resnet20 (MODELS.md): stem, three stages, the two projection shortcuts.
const std::vector<ConvLayer> resnet20_convs = {
    {3, 16, 32, 3, 1, 1, 1},  {16, 16, 32, 3, 1, 1, 6}, {16, 32, 32, 3, 2, 1, 1}, {16, 32, 32, 1, 2, 0, 1},
    {32, 32, 16, 3, 1, 1, 5}, {32, 64, 16, 3, 2, 1, 1}, {32, 64, 16, 1, 2, 0, 1}, {64, 64, 8, 3, 1, 1, 5},
};

}  // namespace

int main(int argc, char** argv) {
  Flags flags("bench_gemm", "Times resnet20's convolutions against the cores' multiply-add peak and OpenBLAS's sgemm.");
  const int64_t& threads = flags.add_int("threads", 0, "threads (0: GLIMPSE_NUM_THREADS, else every core)", 0, 1024);
  const int64_t& batch = flags.add_int("batch", 128, "images per convolution", 1, 4096);
  const int64_t& repeats_flag = flags.add_int("repeats", 10, "runs of each; the best is kept", 1, 100000);
  flags.parse(argc, argv);
  const int repeats = static_cast<int>(repeats_flag);
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  Rng rng(7);

  const int64_t S = 1536;  // the peak: one large square product
  Tensor A = Tensor::normal({S, S}, 0, 1, rng), B = Tensor::normal({S, S}, 0, 1, rng), C = Tensor::zeros({S, S});
  const double peak_ms =
      best_ms(repeats, [&] { gemm(false, false, S, S, S, 1, A.data(), S, B.data(), S, 0, C.data(), S); });
  const double sgemm = 2.0 * S * S * S / peak_ms / 1e6;
  const double peak = bench::measure_fma_peak_gflops();
  std::printf("threads %d, batch %lld; OpenBLAS %s kernels\n", num_threads(), static_cast<long long>(batch),
              blas_kernels().c_str());
  std::printf("FMA peak (%d-float vectors): %.1f GFLOP/s; sgemm %lldx%lld: %.1f GFLOP/s (%.0f%% of the peak)\n\n",
              bench::fma_lanes, peak, static_cast<long long>(S), static_cast<long long>(S), sgemm, 100 * sgemm / peak);
  std::printf("%-26s %5s %9s %9s %9s %9s %9s %9s\n", "conv (C->K HxW k/s/p)", "count", "fwd ms", "fwd GF/s", "bwd ms",
              "bwd GF/s", "fwd/peak", "bwd/peak");

  double total_flops = 0, total_ms = 0, fwd_flops = 0, fwd_ms_all = 0, bwd_flops = 0, bwd_ms_all = 0;
  for (const ConvLayer& l : resnet20_convs) {
    Tensor x = Tensor::normal({batch, l.C, l.HW, l.HW}, 0, 1, rng).set_requires_grad(true);
    Tensor w = Tensor::normal({l.K, l.C, l.kernel, l.kernel}, 0, 0.1f, rng).set_requires_grad(true);
    const Conv2dOptions options{.stride = l.stride, .padding = l.padding};
    const int64_t out_side = (l.HW + 2 * l.padding - l.kernel) / l.stride + 1;
    const double flops = 2.0 * batch * l.K * l.C * l.kernel * l.kernel * out_side * out_side;

    const double fwd = best_ms(repeats, [&] {
      NoGradGuard no_grad;
      conv2d(x, w, Tensor(), options);
    });
    // backward = (forward + sum + backward) - forward - (sum + its backward, on a leaf of y's shape)
    const double full = best_ms(repeats, [&] {
      x.zero_grad(), w.zero_grad();
      sum(conv2d(x, w, Tensor(), options)).backward();
    });
    Tensor y = Tensor::zeros({batch, l.K, out_side, out_side}).set_requires_grad(true);
    const double reduce = best_ms(repeats, [&] {
      y.zero_grad();
      sum(y).backward();
    });
    const double bwd = std::max(1e-3, full - fwd - reduce);
    char name[64];
    std::snprintf(name, sizeof name, "%lld->%lld %lldx%lld %lld/%lld/%lld", static_cast<long long>(l.C),
                  static_cast<long long>(l.K), static_cast<long long>(l.HW), static_cast<long long>(l.HW),
                  static_cast<long long>(l.kernel), static_cast<long long>(l.stride),
                  static_cast<long long>(l.padding));
    const double fwd_gf = flops / fwd / 1e6, bwd_gf = 2 * flops / bwd / 1e6;
    std::printf("%-26s %5d %9.2f %9.1f %9.2f %9.1f %8.0f%% %8.0f%%\n", name, l.count, fwd, fwd_gf, bwd, bwd_gf,
                100 * fwd_gf / peak, 100 * bwd_gf / peak);
    fwd_flops += l.count * flops, fwd_ms_all += l.count * fwd;
    bwd_flops += l.count * 2 * flops, bwd_ms_all += l.count * bwd;
  }
  total_flops = fwd_flops + bwd_flops, total_ms = fwd_ms_all + bwd_ms_all;
  const double fwd_all = fwd_flops / fwd_ms_all / 1e6, bwd_all = bwd_flops / bwd_ms_all / 1e6,
               overall = total_flops / total_ms / 1e6;
  std::printf(
      "\nall convolutions of one step, %.1f ms (at the FMA peak: %.1f ms):\n"
      "  forward  %6.1f GFLOP/s  %3.0f%% of the FMA peak  %3.0f%% of sgemm\n"
      "  backward %6.1f GFLOP/s  %3.0f%% of the FMA peak  %3.0f%% of sgemm\n"
      "  overall  %6.1f GFLOP/s  %3.0f%% of the FMA peak  %3.0f%% of sgemm\n",
      total_ms, total_flops / peak / 1e6, fwd_all, 100 * fwd_all / peak, 100 * fwd_all / sgemm, bwd_all,
      100 * bwd_all / peak, 100 * bwd_all / sgemm, overall, 100 * overall / peak, 100 * overall / sgemm);
  return 0;
}
