#include "optim/clip.h"

#include <cmath>

namespace glimpse {

real clip_grad_norm(const std::vector<Tensor>& params, real max_norm) {
  if (!(max_norm >= 0)) fail("clip_grad_norm: max_norm must be >= 0, got " + std::to_string(max_norm));
  double sum_of_squares = 0;  // in double: millions of float squares lose precision in float
  for (const Tensor& p : params) {
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    const real* g = grad.data();
    for (int64_t j = 0; j < grad.numel(); j++) sum_of_squares += static_cast<double>(g[j]) * g[j];
  }
  const double total = std::sqrt(sum_of_squares);
  if (!std::isfinite(total)) return static_cast<real>(total);  // report; do not clip

  const double scale = max_norm / (total + 1e-6);  // the 1e-6 as in PyTorch
  if (scale < 1) {
    for (const Tensor& p : params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      real* g = grad.data();
      for (int64_t j = 0; j < grad.numel(); j++) g[j] = static_cast<real>(g[j] * scale);
    }
  }
  return static_cast<real>(total);
}

}  // namespace glimpse
