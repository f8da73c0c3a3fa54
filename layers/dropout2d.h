// Dropout2d: dropout of whole channels (Tompson et al. 2015, "SpatialDropout"), as PyTorch:
//
//   training:    y[n,c,:,:] = x[n,c,:,:] * m[n,c] / (1 - p),  m[n,c] ~ Bernoulli(1 - p)
//   evaluation:  y = x
//
// x (N, C, H, W). Neighbouring pixels of a feature map are strongly correlated, so dropping
// single values regularises little; dropping the whole map does. Own Rng, as Dropout.
#pragma once

#include "engine/ops.h"
#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

class Dropout2d : public Module {
 public:
  Dropout2d(real p, Rng& rng);  // p: the probability of zeroing a channel, in [0, 1)

  std::string type_name() const override { return "Dropout2d"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

  // Under data parallelism, where this process's rows sit in the step's batch (engine/ops.h):
  // set before each forward by DataParallel::start_step.
  RowsOfBatch rows;

  real p;

 protected:
  void reseed_self(uint64_t seed) override { rng_.seed(seed); }

 private:
  Rng rng_;
};

}  // namespace glimpse
