// ExponentialMovingAverage: a running average of a model's weights, evaluated in their place
// (Polyak averaging, as TensorFlow's tf.train.ExponentialMovingAverage with num_updates does
// it). The weights an optimiser ends on wander with the noise of the last steps; their average
// over the last few thousand steps can sit nearer the middle of the valley and test a little
// better.
//
//     ExponentialMovingAverage ema(model.state(), 0.9999f);
//     ... optimizer.step(); ema.update(); ...            after every step
//     { AveragedWeightsInPlace use(&ema); evaluate(model); }  the model holds the averages
//                                                            inside the braces only
//
// Checkpoints: state() names the averages ("average.<weight name>") and the update count, so
// that a resumed run goes on averaging where it stopped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class ExponentialMovingAverage {
 public:
  // `weights`: what to average (a model's parameters and buffers, Module::state()); decay in [0, 1).
  ExponentialMovingAverage(NamedTensors weights, real decay);

  void update();  // after an optimiser step: a <- d a + (1 - d) w for every weight (rule in the .cpp)
  void swap();    // exchanges every weight's values with its average's
  NamedTensors state();
  int64_t updates() const;
  real decay() const { return decay_; }

 private:
  NamedTensors weights_;
  std::vector<Tensor> averages_;
  Tensor update_count_;  // one element, so that a checkpoint carries it (exact up to 2^24)
  real decay_;
};

// Puts the averages into the model for the life of the object, and the trained weights back
// after it (also when an exception leaves the scope).
class AveragedWeightsInPlace {
 public:
  explicit AveragedWeightsInPlace(ExponentialMovingAverage* ema) : ema_(ema) {
    if (ema_) ema_->swap();
  }
  ~AveragedWeightsInPlace() {
    if (ema_) ema_->swap();
  }
  AveragedWeightsInPlace(const AveragedWeightsInPlace&) = delete;
  AveragedWeightsInPlace& operator=(const AveragedWeightsInPlace&) = delete;

 private:
  ExponentialMovingAverage* ema_;  // null: nothing to swap
};

}  // namespace glimpse
