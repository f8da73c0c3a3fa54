// Timings of the basic ops on the shapes a CNN step sees: broadcasting arithmetic (same shapes,
// a per-channel operand), reductions over axes, softmax, matmul and linear, forward and
// forward + backward.
//
//   bench_ops_basic [--repeats R] [--threads T]
#include <chrono>
#include <cstdio>
#include <functional>

#include "engine/ops.h"
#include "engine/parallel.h"
#include "train/flags.h"

using namespace glimpse;

// Median-free and simple: the best of `repeats` runs, in milliseconds.
static double best_ms(int repeats, const std::function<void()>& f) {
  double best = 1e30;
  for (int r = 0; r < repeats; r++) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

static void report(const char* what, int repeats, const std::function<void()>& f) {
  std::printf("%-52s %8.3f ms\n", what, best_ms(repeats, f));
}

int main(int argc, char** argv) {
  Flags flags("bench_ops_basic",
              "Times the basic ops (arithmetic, reductions, softmax, matmul) on a CNN step's shapes.");
  const int64_t& repeats_flag = flags.add_int("repeats", 10, "runs of each; the best is kept", 1, 100000);
  const int64_t& threads = flags.add_int("threads", 0, "threads (0: GLIMPSE_NUM_THREADS, else every core)", 0, 1024);
  flags.parse(argc, argv);
  const int repeats = static_cast<int>(repeats_flag);
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  std::printf("threads: %d\n", num_threads());
  Rng rng(1);
  Tensor x = Tensor::normal({64, 64, 32, 32}, 0, 1, rng);  // 4M values
  Tensor x2 = Tensor::normal({64, 64, 32, 32}, 0, 1, rng);
  Tensor channel = Tensor::normal({64, 1, 1}, 0, 1, rng);
  Tensor per_sample = Tensor::normal({64, 64, 1, 1}, 0, 1, rng);
  {
    NoGradGuard no_grad;
    report("baseline: clone (64,64,32,32)", repeats, [&] { x.clone(); });
    report("add (64,64,32,32) + same", repeats, [&] { add(x, x2); });
    report("add (64,64,32,32) + (64,1,1)", repeats, [&] { add(x, channel); });
    report("mul (64,64,32,32) * (64,64,1,1)", repeats, [&] { mul(x, per_sample); });
    report("mul (64,64,32,32) * (1,1,1,32) [general path]", repeats, [&] { mul(x, Tensor::ones({1, 1, 1, 32})); });
    report("sum (64,64,32,32) over (0,2,3)", repeats, [&] { sum(x, {0, 2, 3}); });
    report("sum (64,64,32,32) over (2,3)", repeats, [&] { sum(x, {2, 3}); });
    report("sum (64,64,32,32) over all", repeats, [&] { sum(x); });
    report("sum_to (64,64,32,32) -> (64,1,1)", repeats, [&] { sum_to(x, {64, 1, 1}); });
    Tensor logits = Tensor::normal({4096, 1000}, 0, 1, rng);
    report("softmax (4096,1000) along 1", repeats, [&] { softmax(logits, 1); });
    report("softmax (64,64,32,32) along 1", repeats, [&] { softmax(x, 1); });
    report("permute (64,64,32,32) -> (0,2,3,1)", repeats, [&] { permute(x, {0, 2, 3, 1}); });
  }
  auto step = [&](const Tensor& a, const Tensor& b, const std::function<Tensor(const Tensor&, const Tensor&)>& op) {
    Tensor pa = a.detach().set_requires_grad(true), pb = b.detach().set_requires_grad(true);
    return [=] {
      Tensor y = op(pa, pb);
      backward(sum(y));
      pa.zero_grad();
      pb.zero_grad();
    };
  };
  report("fwd+bwd mul same shapes (+sum)", repeats, step(x, x2, [](auto& a, auto& b) { return mul(a, b); }));
  report("fwd+bwd mul (64,64,32,32)*(64,64,1,1) (+sum)", repeats,
         step(x, per_sample, [](auto& a, auto& b) { return mul(a, b); }));
  report("fwd+bwd add (64,64,32,32)+(64,1,1) (+sum)", repeats,
         step(x, channel, [](auto& a, auto& b) { return add(a, b); }));
  report("fwd+bwd sum alone (64,64,32,32)", repeats, [&] {
    Tensor p = x.detach().set_requires_grad(true);
    backward(sum(p));
  });

  Tensor in = Tensor::normal({256, 1024}, 0, 1, rng).set_requires_grad(true);
  Tensor w = Tensor::normal({512, 1024}, 0, 0.03f, rng).set_requires_grad(true);
  Tensor b = Tensor::normal({512}, 0, 1, rng).set_requires_grad(true);
  report("matmul (256,1024) x (512,1024)^T", repeats, [&] {
    NoGradGuard g;
    matmul(in, w, false, true);
  });
  report("linear fwd (256,1024) -> 512", repeats, [&] {
    NoGradGuard g;
    linear(in, w, b);
  });
  report("linear fwd+bwd (256,1024) -> 512", repeats, [&] {
    backward(sum(linear(in, w, b)));
    in.zero_grad(), w.zero_grad(), b.zero_grad();
  });
  report("linear fwd+bwd without bias", repeats, [&] {
    backward(sum(linear(in, w, Tensor())));
    in.zero_grad(), w.zero_grad();
  });
  return 0;
}
