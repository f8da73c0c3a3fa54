#include "layers/dropout.h"

#include <sstream>

#include "engine/ops.h"

namespace glimpse {

Dropout::Dropout(real p, Rng& rng, const std::string& layer) : p(p), rng_(rng.next_u64()) {
  if (!(p >= 0 && p < 1)) fail(layer + ": p must be in [0, 1), got " + std::to_string(p));
}

std::string Dropout::describe() const {
  std::ostringstream s;
  s << "p=" << p;
  return s.str();
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training(), rng_, rows); }

}  // namespace glimpse
