// gradcheck: an op's backward against central finite differences of its forward.
//
// For inputs x_1..x_m and a function f, with a fixed random weight r of f's output shape:
//   L(x) = sum_j f(x)_j * r_j          (a random weighting catches mix-ups that mean() hides)
//   analytical:  dL/dx from one backward pass, seeded with r, into gradients that already hold
//                random values g0 (a backward adds into input_grad, Node::backward): x.grad - g0
//   numerical:   (L(x + eps e_i) - L(x - eps e_i)) / (2 eps), L summed in double
//   pass when |analytical - numerical| <= atol + rtol * |numerical| for every checked entry,
//   and when each input alone asking for a gradient gets the same one (compare_each_input_alone).
// Large inputs are checked on a seeded random subset of entries (tiny-dnn's random trials).
// The engine computes in float, so eps and the tolerances are looser than PyTorch's double
// defaults; a wrong backward is off by O(1) and still fails. Keep inputs away from kinks
// (relu at 0, ties of max) by more than eps, as the tests do.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/ops.h"

namespace glimpse::testing {

struct GradcheckOptions {
  double eps = 1e-2;
  double atol = 2e-3;
  double rtol = 2e-2;
  int64_t max_entries = 150;  // per input; more are sampled at random
  uint64_t seed = 1234;
};

using TestFunction = std::function<Tensor(std::vector<Tensor>&)>;

// L = sum(y * r) as a node of its own, so the check does not lean on the ops it tests.
struct WeightedSumBackward : Node {
  Tensor r;
  std::string name() const override { return "gradcheck_weighted_sum"; }
  void backward(const Tensor& dL) override {
    real* dy = input_grad(0).data();
    for (int64_t i = 0; i < r.numel(); i++) dy[i] += dL.data()[0] * r.data()[i];
  }
};

inline double weighted_sum(const Tensor& y, const Tensor& r) {
  double total = 0;
  for (int64_t i = 0; i < y.numel(); i++) total += static_cast<double>(y.data()[i]) * r.data()[i];
  return total;
}

// The backward of L = sum(y * r) through a WeightedSumBackward node: y's gradient is seeded with r.
inline void backward_weighted(const Tensor& y, const Tensor& r) {
  auto node = std::make_shared<WeightedSumBackward>();
  node->r = r;
  backward(record(Tensor::scalar(static_cast<real>(weighted_sum(y, r))), node, {y}));
}

// How far an entry's analytical gradient is from the numerical one, as a fraction of what the
// options allow: above 1 the check fails.
inline double fraction_of_tolerance(double analytical, double numerical, const GradcheckOptions& options) {
  return std::abs(analytical - numerical) / (options.atol + options.rtol * std::abs(numerical));
}

// Gives t a gradient of random values g0 before the backward and returns g0. A backward adds into
// its inputs' gradients (Node::backward), so one that writes instead of adding loses g0 and fails.
inline Tensor hold_random_gradient(const Tensor& t, Rng& rng) {
  Tensor g0 = Tensor::normal(t.shape(), 0, 1, rng);
  t.impl()->autograd_meta().grad = g0.clone().impl_ptr();
  return g0;
}

// The entries of t to check: all of them, or max_entries drawn at random.
inline std::vector<int64_t> entries_to_check(const Tensor& t, const GradcheckOptions& options, Rng& rng) {
  std::vector<int64_t> entries;
  if (t.numel() <= options.max_entries) {
    for (int64_t j = 0; j < t.numel(); j++) entries.push_back(j);
  } else {
    for (int64_t k = 0; k < options.max_entries; k++) entries.push_back(rng.randint(t.numel()));
  }
  return entries;
}

// What a check found over all its entries: whether they all agree, the first mismatches (printed
// to stderr), and the entry closest to failing.
struct Agreement {
  explicit Agreement(std::string check_name) : check(std::move(check_name)) {}

  std::string check;  // "gradcheck", "module_gradcheck SEBlock": what the lines printed start with
  bool ok = true;
  int reported = 0;
  double worst = 0;  // the largest fraction of the tolerance
  std::string worst_entry;

  // With GLIMPSE_GRADCHECK_MARGIN set in the environment, prints the worst entry's fraction of the
  // tolerance: how close a passing check is to failing, where float rounding differs (another
  // compiler or CPU) or a step nears a kink (ctest -R grad -V shows it per test). Returns ok.
  bool report() const {
    if (std::getenv("GLIMPSE_GRADCHECK_MARGIN"))
      std::fprintf(stderr, "%s: worst entry at %.2f of the tolerance (%s)\n", check.c_str(), worst,
                   worst_entry.c_str());
    return ok;
  }
};

// Checks the sampled entries of t (named `label`, e.g. "input 0 (2, 3)"): the analytical gradient,
// t's gradient after the backward less the g0 it held before, against central differences of
// loss(), which is evaluated with each entry moved by +-eps in place.
inline void compare_entries(const Tensor& t, const Tensor& g0, const std::string& label,
                            const std::function<double()>& loss, const GradcheckOptions& options, Rng& rng,
                            Agreement& agreement) {
  const real* summed = t.grad().data();  // g0 + dL/dt
  for (int64_t j : entries_to_check(t, options, rng)) {
    real saved = t.data()[j];
    t.data()[j] = static_cast<real>(saved + options.eps);
    double plus = loss();
    t.data()[j] = static_cast<real>(saved - options.eps);
    double minus = loss();
    t.data()[j] = saved;
    double numerical = (plus - minus) / (2 * options.eps);
    double analytical = static_cast<double>(summed[j]) - g0.data()[j];
    double fraction = fraction_of_tolerance(analytical, numerical, options);
    if (fraction > agreement.worst) {
      agreement.worst = fraction;
      agreement.worst_entry = label + ", entry " + std::to_string(j);
    }
    if (fraction > 1) {
      agreement.ok = false;
      if (agreement.reported++ < 5)
        std::fprintf(stderr, "%s: %s, entry %lld: analytical %.6g, numerical %.6g\n", agreement.check.c_str(),
                     label.c_str(), static_cast<long long>(j), analytical, numerical);
    }
  }
}

// A backward skips the gradient of an input that does not ask for one (`if (dx)` in the kernels).
// So the check runs the backward once more for each input alone asking for its gradient, the
// others constants, and that gradient must be the one of the full backward (`full`, g0 removed):
// a branch that reads a skipped gradient, or computes another one only when all are wanted,
// fails here.
inline void compare_each_input_alone(const TestFunction& f, const std::vector<Tensor>& inputs,
                                     const std::vector<Tensor>& full, const Tensor& r, Agreement& agreement) {
  if (inputs.size() < 2) return;
  for (size_t i = 0; i < inputs.size(); i++) {
    std::vector<Tensor> alone;
    for (size_t j = 0; j < inputs.size(); j++)
      alone.push_back(j == i ? inputs[j].detach().clone().set_requires_grad(true) : inputs[j].detach());
    Tensor y = f(alone);
    backward_weighted(y, r);
    const Tensor& grad = alone[i].grad();
    const std::string label = "input " + std::to_string(i) + " alone";
    if (!grad.defined() || grad.shape() != full[i].shape()) {
      agreement.ok = false;
      std::fprintf(stderr, "%s: %s received no gradient of its shape\n", agreement.check.c_str(), label.c_str());
      continue;
    }
    for (int64_t j = 0; j < grad.numel(); j++) {
      const double got = grad.data()[j], expected = full[i].data()[j];
      if (std::abs(got - expected) > 1e-5 + 1e-4 * std::abs(expected)) {
        agreement.ok = false;
        if (agreement.reported++ < 5)
          std::fprintf(stderr, "%s: %s, entry %lld: %.6g, with every input asking %.6g\n", agreement.check.c_str(),
                       label.c_str(), static_cast<long long>(j), got, expected);
      }
    }
  }
}

// Returns true when every checked entry agrees; prints the first mismatches to stderr.
inline bool gradcheck(const TestFunction& f, std::vector<Tensor> inputs, GradcheckOptions options = {}) {
  Rng rng(options.seed);
  std::vector<Tensor> held;  // g0 of each input
  for (Tensor& x : inputs) {
    x = x.clone().set_requires_grad(true);
    held.push_back(hold_random_gradient(x, rng));
  }

  // analytical gradients
  Tensor y = f(inputs);
  Tensor r = Tensor::normal(y.shape(), 0, 1, rng);
  backward_weighted(y, r);

  Agreement agreement("gradcheck");
  std::vector<Tensor> full;  // each input's dL/dx from the backward above
  for (size_t i = 0; i < inputs.size(); i++) full.push_back(sub(inputs[i].grad(), held[i]).detach());
  compare_each_input_alone(f, inputs, full, r, agreement);
  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); i++) {
    std::string label = "input " + std::to_string(i) + " " + shape_str(inputs[i].shape());
    compare_entries(
        inputs[i], held[i], label, [&] { return weighted_sum(f(inputs), r); }, options, rng, agreement);
  }
  return agreement.report();
}

// Forward values against a reference: every entry within atol + rtol * |expected|.
inline bool allclose(const Tensor& actual, const Tensor& expected, double atol = 1e-5, double rtol = 1e-4) {
  if (actual.shape() != expected.shape()) {
    std::fprintf(stderr, "allclose: shape %s vs expected %s\n", shape_str(actual.shape()).c_str(),
                 shape_str(expected.shape()).c_str());
    return false;
  }
  int reported = 0;
  bool ok = true;
  for (int64_t j = 0; j < actual.numel(); j++) {
    double a = actual.data()[j], e = expected.data()[j];
    if (!(std::abs(a - e) <= atol + rtol * std::abs(e))) {
      ok = false;
      if (reported++ < 5)
        std::fprintf(stderr, "allclose: entry %lld of %s: %.7g, expected %.7g\n", static_cast<long long>(j),
                     shape_str(actual.shape()).c_str(), a, e);
    }
  }
  return ok;
}

// Random inputs kept away from 0 by `margin` (the kinks of relu, abs, and the poles of log, div).
inline Tensor randn_away_from_zero(const Shape& shape, Rng& rng, real margin = 0.1f) {
  Tensor t = Tensor::normal(shape, 0, 1, rng);
  for (int64_t i = 0; i < t.numel(); i++) {
    real& v = t.data()[i];
    if (std::abs(v) < margin) v = v < 0 ? v - margin : v + margin;
  }
  return t;
}

}  // namespace glimpse::testing
