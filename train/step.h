// One step of gradient descent, as in any PyTorch training script:
//
//   optimizer.zero_grad();  loss.backward();  clip_grad_norm_(params, clip);  optimizer.step();
//
// and what a run says when a step goes wrong.
#pragma once

#include <string>

#include "engine/tensor.h"
#include "optim/optimizer.h"
#include "train/checkpointer.h"
#include "train/data_parallel.h"

namespace glimpse {

// Gradients of the scalar `loss` for the optimiser's parameters (averaged over the processes of a
// data-parallel run), their global norm clipped to `clip_norm` (0: not clipped), then the
// optimiser's update. A loss or a gradient norm that is not finite raises an Error before the
// update, so the weights stay those of the last good step.
void descend(Optimizer& optimizer, const Tensor& loss, double clip_norm = 0, DataParallel* parallel = nullptr);

// The error that ends a run whose step `at` failed: "training stopped at step 7 (epoch 1): "
// and what went wrong (a non-finite loss, the op --detect-anomaly caught, ...).
Error training_stopped(const Position& at, const Error& error, const std::string& step_word = "step");

}  // namespace glimpse
