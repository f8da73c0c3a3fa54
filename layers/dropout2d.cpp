#include "layers/dropout2d.h"

#include <sstream>

#include "engine/ops.h"

namespace glimpse {

Dropout2d::Dropout2d(real p, Rng& rng) : p(p), rng_(rng.next_u64()) {
  if (!(p >= 0 && p < 1)) fail("Dropout2d: p must be in [0, 1), got " + std::to_string(p));
}

std::string Dropout2d::describe() const {
  std::ostringstream s;
  s << "p=" << p;
  return s.str();
}

Tensor Dropout2d::forward(const Tensor& x) { return dropout2d(x, p, is_training(), rng_, rows); }

}  // namespace glimpse
