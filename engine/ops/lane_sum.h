// lane_sum: a float sum that runs as vector additions, shared by the ops' kernels. Not part of
// the public API.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace glimpse {

// sum_{i < n} term(i) in 8 interleaved partial sums. One running sum would be a chain of
// dependent additions, each waiting for the last (the compiler may not reorder float additions);
// 8 independent ones fill a vector register and run 8 at a time. Still a fixed order: the same
// result on every run and at every thread count.
template <typename Term>
real lane_sum(int64_t n, const Term& term) {
  constexpr int lanes = 8;
  real partial[lanes] = {};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int j = 0; j < lanes; j++) partial[j] += term(i + j);
  real total = 0;
  for (; i < n; i++) total += term(i);
  for (real lane : partial) total += lane;
  return total;
}

}  // namespace glimpse
