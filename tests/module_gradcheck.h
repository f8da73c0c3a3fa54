// module_gradcheck: gradcheck.h's recipe applied to a whole module, as a function of its input
// and of every registered parameter.
//
//   L = sum_j m(x)_j * r_j                 r fixed, random
//   analytical:  one backward through the module's graph (dL/dx and dL/dp for every parameter),
//                into gradients that already hold random values, as gradcheck.h does
//   numerical:   central differences, perturbing x and each parameter in place
//
// The parameters are the module's own tensors (not clones), so this checks that forward really
// reads the registered handles (Note [Registered tensors are handles], layers/module.h).
// A module with randomness in its forward (dropout in training) cannot be checked this way.
// BN in training mode is fine: it moves its running statistics at each forward, but its output
// depends only on the batch.
#pragma once

#include "layers/module.h"
#include "tests/gradcheck.h"

namespace glimpse::testing {

inline bool module_gradcheck(Module& m, const Tensor& input, GradcheckOptions options = {}) {
  Rng rng(options.seed);
  Tensor x = input.clone().set_requires_grad(true);
  std::vector<NamedTensor> checked = {{"input", x}};
  for (const NamedTensor& p : m.named_parameters()) checked.push_back(p);
  std::vector<Tensor> held;  // g0 of each checked tensor
  for (const auto& [name, t] : checked) held.push_back(hold_random_gradient(t, rng));

  // analytical gradients
  Tensor y = m.forward(x);
  Tensor r = Tensor::normal(y.shape(), 0, 1, rng);
  backward_weighted(y, r);

  Agreement agreement("module_gradcheck " + m.type_name());
  NoGradGuard no_grad;
  for (size_t c = 0; c < checked.size(); c++) {
    const auto& [name, t] = checked[c];
    compare_entries(
        t, held[c], name + " " + shape_str(t.shape()), [&] { return weighted_sum(m.forward(x), r); }, options, rng,
        agreement);
  }
  return agreement.report();
}

}  // namespace glimpse::testing
