// Learning-rate schedules: the rate as a function of the step (0, 1, 2, ...).
//
// A schedule is a small object with lr_at(step); it holds no state, so resuming from a
// checkpoint needs only the step. Before each optimiser step:
//
//     optimizer.lr = schedule.lr_at(step);
//
//   ConstantLr(0.1)                      0.1 for ever
//   StepLr(0.1, 30, 0.1)                 0.1 for steps 0-29, 0.01 for 30-59, 0.001 ...
//   MultiStepLr(0.1, {100, 150}, 0.1)    0.1, then x0.1 at step 100, again at 150
//   CosineLr(0.1, 1000, 1e-4)            half a cosine from 0.1 at step 0 to 1e-4 at step 1000
//   WarmupLr(5, std::make_shared<CosineLr>(0.1, 1000, 0))
//                                        5 steps of linear warm-up, then the cosine from its start
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual real lr_at(int64_t step) const = 0;
};

// lr = base
class ConstantLr : public Schedule {
 public:
  explicit ConstantLr(real base);
  real lr_at(int64_t step) const override;

 private:
  real base_;
};

// lr = base * gamma^floor(step / step_size)
class StepLr : public Schedule {
 public:
  StepLr(real base, int64_t step_size, real gamma = 0.1f);
  real lr_at(int64_t step) const override;

 private:
  real base_;
  int64_t step_size_;
  real gamma_;
};

// lr = base * gamma^(number of milestones <= step); milestones in increasing order
class MultiStepLr : public Schedule {
 public:
  MultiStepLr(real base, std::vector<int64_t> milestones, real gamma = 0.1f);
  real lr_at(int64_t step) const override;

 private:
  real base_;
  std::vector<int64_t> milestones_;
  real gamma_;
};

// lr = floor + (base - floor) * (1 + cos(pi * min(step, total_steps) / total_steps)) / 2
// (Loshchilov & Hutter, "SGDR", ICLR 2017, Eq. 5, without restarts); floor after total_steps.
class CosineLr : public Schedule {
 public:
  CosineLr(real base, int64_t total_steps, real floor = 0);
  real lr_at(int64_t step) const override;

 private:
  real base_;
  int64_t total_steps_;
  real floor_;
};

// Linear warm-up, then another schedule started afresh:
//   step <  warmup_steps:  lr = after.lr_at(0) * (step + 1) / warmup_steps
//   step >= warmup_steps:  lr = after.lr_at(step - warmup_steps)
// The rate climbs from after.lr_at(0) / warmup_steps to after.lr_at(0) at step warmup_steps - 1.
class WarmupLr : public Schedule {
 public:
  WarmupLr(int64_t warmup_steps, std::shared_ptr<const Schedule> after);
  real lr_at(int64_t step) const override;

 private:
  int64_t warmup_steps_;
  std::shared_ptr<const Schedule> after_;
};

// The trainers' recipe: `warmup_epochs` of linear warm-up (at most half the run, so a short run
// still gets its cosine half), then a cosine from `lr` to 0 over the remaining steps.
WarmupLr warmup_then_cosine(real lr, int64_t epochs, int64_t steps_per_epoch, double warmup_epochs);

// The ResNet paper's recipe (He et al., CVPR 2016, Sec. 4.2: 0.1, divided by 10 at 32k and 48k
// steps): `warmup_epochs` of linear warm-up, then `lr`, divided by 10 after each number of epochs in
// `drop_epochs` (increasing, each past the warm-up).
WarmupLr warmup_then_drops(real lr, const std::vector<int64_t>& drop_epochs, int64_t steps_per_epoch,
                           double warmup_epochs);

}  // namespace glimpse
