// Dropout (Srivastava et al. 2014), in its "inverted" form, as PyTorch:
//
//   training:    y = x * m / (1 - p),  m ~ Bernoulli(1 - p) per value, so E[y] = x
//   evaluation:  y = x
//
// Any shape. The layer holds its own Rng, seeded from the Rng given at construction, so a
// model's seed fixes both its weights and its dropout masks. Dropout2d (layers/dropout2d.h) is
// this layer with a mask per channel.
#pragma once

#include "engine/ops.h"
#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

class Dropout : public Module {
 public:
  Dropout(real p, Rng& rng) : Dropout(p, rng, "Dropout") {}  // p: the probability of zeroing a value, in [0, 1)

  std::string type_name() const override { return "Dropout"; }
  std::string describe() const override;
  Tensor forward(const Tensor& x) override;

  // Under data parallelism, where this process's rows sit in the step's batch (engine/ops.h):
  // set before each forward by DataParallel::start_step.
  RowsOfBatch rows;

  real p;

 protected:
  Dropout(real p, Rng& rng, const std::string& layer);  // `layer`: the name its errors give
  void reseed_self(uint64_t seed) override { rng_.seed(seed); }

  Rng rng_;
};

}  // namespace glimpse
