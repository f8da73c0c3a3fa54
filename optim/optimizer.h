// Optimizer: the base of every gradient-based optimiser (SGD, Adam, AdamW).
//
// An optimiser holds handles to the parameters it updates. A training step reads:
//
//     optimizer.zero_grad();          // drop last step's gradients
//     Tensor loss = cross_entropy(model(x), y);
//     loss.backward();                // fills p.grad() for every parameter p
//     optimizer.lr = schedule.lr_at(step);
//     optimizer.step();               // p <- p - lr * (update rule of the optimiser)
//
// step() changes parameter data in place, outside the autograd graph. A parameter whose
// gradient is undefined (no backward reached it this step) is left as it is.
//
// Checkpoints: state() names every state buffer ("step", "momentum.3", "exp_avg.0", ...). The
// handles refer to the live buffers, so load_checkpoint (io/checkpoint.h) can fill them in place.
// Every buffer is allocated in the constructor, so state() is complete before the first step.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Optimizer {
 public:
  Optimizer(std::vector<Tensor> params, real lr);
  virtual ~Optimizer() = default;

  virtual void step() = 0;
  void zero_grad();  // drops every parameter's gradient buffer

  // The named state tensors: "step" (one element) plus the optimiser's own buffers.
  virtual NamedTensors state();

  int64_t steps_taken() const;  // how many times step() has run (the "step" tensor)

  // Gives `some` of the parameters the learning rate factor * lr (PyTorch's parameter groups
  // with their own lr, under one schedule), e.g. a smaller rate for an STN's localisation net.
  // Every parameter starts at factor 1; each of `some` must be one of the optimiser's.
  void scale_lr(const std::vector<Tensor>& some, real factor);

  // Parameter i's learning rate this step: lr * its factor.
  real lr_of(size_t i) const { return lr * lr_scale_[i]; }

  std::vector<Tensor> params;
  real lr;  // the live learning rate; a schedule sets it before each step

 protected:
  // Adds one to the step counter and returns the new count t = 1, 2, ...
  int64_t advance_step();

  // Parameters larger than this update in parallel, in chunks of at most this many values (each
  // element's arithmetic is the same whatever the thread count).
  static constexpr int64_t element_grain = int64_t{1} << 15;

  // A one-element tensor so that a checkpoint saves and restores it with the rest. It is a
  // float, which counts exactly up to 2^24 (16.7 million) steps.
  Tensor step_count_;

 private:
  std::vector<real> lr_scale_;  // one factor per parameter (scale_lr), 1 unless set
};

// The optimiser a trainer's --optimizer flag names: "adam" (Adam, default betas) or "sgd" (SGD
// with the given momentum), both starting at learning rate lr.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params, real lr,
                                          real sgd_momentum);

// Zero-filled buffers shaped like each parameter (momentum, Adam's moments).
std::vector<Tensor> zeros_like_each(const std::vector<Tensor>& params);

}  // namespace glimpse
