#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace glimpse {

static void check_step(int64_t step, const char* schedule) {
  if (step < 0) fail(std::string(schedule) + ": step must be >= 0, got " + std::to_string(step));
}

// ---- constant ----

ConstantLr::ConstantLr(real base) : base_(base) {}
real ConstantLr::lr_at(int64_t step) const {
  check_step(step, "ConstantLr");
  return base_;
}

// ---- step decay ----

StepLr::StepLr(real base, int64_t step_size, real gamma) : base_(base), step_size_(step_size), gamma_(gamma) {
  if (step_size <= 0) fail("StepLr: step_size must be > 0, got " + std::to_string(step_size));
}
real StepLr::lr_at(int64_t step) const {
  check_step(step, "StepLr");
  const int64_t periods = step / step_size_;  // the whole periods done: an integer division
  return static_cast<real>(base_ * std::pow(static_cast<double>(gamma_), static_cast<double>(periods)));
}

// ---- multi-step decay ----

MultiStepLr::MultiStepLr(real base, std::vector<int64_t> milestones, real gamma)
    : base_(base), milestones_(std::move(milestones)), gamma_(gamma) {
  for (size_t i = 1; i < milestones_.size(); i++)
    if (milestones_[i] <= milestones_[i - 1]) fail("MultiStepLr: milestones must increase");
}
real MultiStepLr::lr_at(int64_t step) const {
  check_step(step, "MultiStepLr");
  int passed = 0;
  for (int64_t milestone : milestones_) passed += step >= milestone;
  return static_cast<real>(base_ * std::pow(static_cast<double>(gamma_), passed));
}

// ---- cosine ----

CosineLr::CosineLr(real base, int64_t total_steps, real floor) : base_(base), total_steps_(total_steps), floor_(floor) {
  if (total_steps <= 0) fail("CosineLr: total_steps must be > 0, got " + std::to_string(total_steps));
}
real CosineLr::lr_at(int64_t step) const {
  check_step(step, "CosineLr");
  double progress = static_cast<double>(std::min(step, total_steps_)) / static_cast<double>(total_steps_);  // 0 .. 1
  return static_cast<real>(floor_ + (base_ - floor_) * (1 + std::cos(std::numbers::pi * progress)) / 2);
}

// ---- linear warm-up, then another schedule ----

WarmupLr::WarmupLr(int64_t warmup_steps, std::shared_ptr<const Schedule> after)
    : warmup_steps_(warmup_steps), after_(std::move(after)) {
  if (warmup_steps < 0) fail("WarmupLr: warmup_steps must be >= 0, got " + std::to_string(warmup_steps));
  if (!after_) fail("WarmupLr: needs a schedule to follow the warm-up");
}
real WarmupLr::lr_at(int64_t step) const {
  check_step(step, "WarmupLr");
  if (step < warmup_steps_)
    return static_cast<real>(after_->lr_at(0) * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_));
  return after_->lr_at(step - warmup_steps_);
}

WarmupLr warmup_then_cosine(real lr, int64_t epochs, int64_t steps_per_epoch, double warmup_epochs) {
  const int64_t total_steps = epochs * steps_per_epoch;
  const int64_t warmup_steps =
      std::min(total_steps / 2, static_cast<int64_t>(warmup_epochs * static_cast<double>(steps_per_epoch)));
  return WarmupLr(warmup_steps, std::make_shared<CosineLr>(lr, total_steps - warmup_steps));
}

WarmupLr warmup_then_drops(real lr, const std::vector<int64_t>& drop_epochs, int64_t steps_per_epoch,
                           double warmup_epochs) {
  const auto warmup_steps = static_cast<int64_t>(warmup_epochs * static_cast<double>(steps_per_epoch));
  std::vector<int64_t> milestones;  // counted from the end of the warm-up, as WarmupLr's `after` sees them
  for (int64_t epoch : drop_epochs) {
    if (epoch * steps_per_epoch <= warmup_steps)
      fail("the rate cannot drop at epoch " + std::to_string(epoch) + ", inside the warm-up");
    milestones.push_back(epoch * steps_per_epoch - warmup_steps);
  }
  return WarmupLr(warmup_steps, std::make_shared<MultiStepLr>(lr, milestones, 0.1f));
}

}  // namespace glimpse
