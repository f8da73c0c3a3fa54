// Helpers shared by the layer, model and attention tests.
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "layers/module.h"

namespace glimpse::testing {

// The names of a module's named tensors, in registration order.
inline std::vector<std::string> names_of(const std::vector<NamedTensor>& list) {
  std::vector<std::string> names;
  for (const auto& [name, t] : list) names.push_back(name);
  return names;
}

// Plain SGD written out (p -= lr * dL/dp) on one batch; returns the loss before each step.
// every_parameter_learns: REQUIRE that backward reached every parameter; otherwise a parameter
// it did not reach (e.g. a transformer's, when a branch is unused) is skipped.
inline std::vector<real> overfit(Module& model, const Tensor& x, const std::vector<int64_t>& labels, real lr, int steps,
                                 bool every_parameter_learns) {
  std::vector<real> losses;
  for (int step = 0; step < steps; step++) {
    model.zero_grad();
    Tensor loss = cross_entropy(model(x), labels);
    losses.push_back(loss.item());
    backward(loss);
    for (const Tensor& p : model.parameters()) {
      if (every_parameter_learns) REQUIRE(p.grad().defined());
      if (!p.grad().defined()) continue;
      real* w = p.data();
      const real* dw = p.grad().data();
      for (int64_t i = 0; i < p.numel(); i++) w[i] -= lr * dw[i];
    }
  }
  return losses;
}

}  // namespace glimpse::testing
