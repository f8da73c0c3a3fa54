// Dropout2d: dropout of whole channels (Tompson et al. 2015, "SpatialDropout"), as PyTorch:
//
//   training:    y[n,c,:,:] = x[n,c,:,:] * m[n,c] / (1 - p),  m[n,c] ~ Bernoulli(1 - p)
//   evaluation:  y = x
//
// x (N, C, H, W). Neighbouring pixels of a feature map are strongly correlated, so dropping
// single values regularises little; dropping the whole map does. Dropout but for the mask:
// its own Rng, its rows under data parallelism.
#pragma once

#include "engine/ops.h"
#include "layers/dropout.h"

namespace glimpse {

class Dropout2d : public Dropout {
 public:
  Dropout2d(real p, Rng& rng) : Dropout(p, rng, "Dropout2d") {}  // p: the probability of zeroing a channel

  std::string type_name() const override { return "Dropout2d"; }
  Tensor forward(const Tensor& x) override { return dropout2d(x, p, is_training(), rng_, rows); }
};

}  // namespace glimpse
