#include "train/step.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/autograd.h"
#include "optim/clip.h"

namespace glimpse {

[[noreturn]] static void not_finite(const char* what, double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  fail(std::string("the ") + what + " is " + text +
       ". Lower --lr, or rerun with --detect-anomaly to name the first op whose output is not finite.");
}

void descend(Optimizer& optimizer, const Tensor& loss, double clip_norm, DataParallel* parallel) {
  const double value = loss.item();
  if (!std::isfinite(value)) not_finite("loss", value);
  optimizer.zero_grad();
  if (parallel)
    parallel->backward_and_average(loss, optimizer.params);  // under mpirun: the gradients averaged over the processes
  else
    backward(loss);
  const double no_clipping = std::numeric_limits<double>::infinity();
  const double norm = clip_grad_norm(optimizer.params, static_cast<real>(clip_norm > 0 ? clip_norm : no_clipping));
  if (!std::isfinite(norm)) not_finite("gradient norm", norm);
  optimizer.step();
}

Error training_stopped(const Position& at, const Error& error, const std::string& step_word) {
  return Error("training stopped at " + step_word + " " + std::to_string(at.step + 1) + " (epoch " +
               std::to_string(at.epoch + 1) + "): " + error.what());
}

}  // namespace glimpse
