#include "engine/random.h"

#include <cmath>

namespace glimpse {

// Box–Muller: for u1, u2 uniform in (0, 1],
//   z0 = sqrt(-2 ln u1) cos(2 pi u2),  z1 = sqrt(-2 ln u1) sin(2 pi u2)
// are two independent N(0, 1) samples; the second is kept for the next call.
double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double two_pi = 6.283185307179586;
  double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * (1.0 / 9007199254740992.0);  // (0, 1]
  double u2 = static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);          // [0, 1)
  double radius = std::sqrt(-2.0 * std::log(u1));
  spare_ = radius * std::sin(two_pi * u2);
  has_spare_ = true;
  return radius * std::cos(two_pi * u2);
}

}  // namespace glimpse
