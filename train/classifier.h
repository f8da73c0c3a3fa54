// The training loop shared by train_cifar, train_stn and train_ram: epochs of steps with a live
// progress line, an evaluation on the test set after each epoch, the metrics log, checkpoints,
// --resume and a clean stop on Ctrl-C. train_mnist writes the same loop out in full, from the
// same parts (train/step.h, train/checkpointer.h, train/metrics_log.h, train/stop_signals.h):
// read it first.
//
// One step, as in any PyTorch training script:
//   logits = forward(images)              (N, K)
//   loss   = cross_entropy(logits, labels)      (or the trainer's own step_loss)
//   zero_grad(); backward(loss); [clip]; optimizer.step()
//
// Everything random in a step is drawn from (seed, epoch, step): the data order and augmentation
// by the loader, dropout and RAM's locations by the model's Rngs, re-seeded before every step
// (step_seed). So a checkpoint (parameters, buffers, optimiser state, position) is all that a
// resumed run needs to go on bitwise as an uninterrupted one would.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "io/checkpoint.h"
#include "io/data_loader.h"
#include "layers/module.h"
#include "optim/optimizer.h"
#include "train/checkpointer.h"
#include "train/data_parallel.h"
#include "train/training_flags.h"

namespace glimpse {

// Accuracy and mean loss over the test set; `note` is printed after the accuracy (e.g. RAM's
// accuracy over several sampled paths).
struct Evaluation {
  double accuracy = 0, loss = 0;
  std::vector<uint8_t> right = {};  // evaluate_classifier: per image, in the loader's order, 1 if right
  std::string note = {};            // appended to the epoch's summary line
  std::string summary = {};         // the last evaluation's, printed on its own line before the final line
};

// One step's loss, for a model trained by more than the cross-entropy of its logits.
struct StepLoss {
  Tensor loss;                     // the scalar to back-propagate
  double shown_loss = 0;           // what the progress line and the log report as the train loss
  std::vector<int64_t> predicted;  // (N) the predicted classes, for the train accuracy
};

struct ClassifierTraining {
  std::string model_name = {};  // stored in checkpoints; a resume with another model is refused
  // The trainer's flags that shape the model beyond its name, stored in checkpoints under the
  // flag's name ({"width", "32"}): a resume with other values is refused, and evaluate, predict
  // and export rebuild the model from them (train/evaluation.h).
  Metadata model_flags = {};
  // The trainer's flags that choose the training images ({"holdout", "5000"}), stored in
  // checkpoints the same way: a resume with other values is refused.
  Metadata data_flags = {};
  Module* model = nullptr;
  DataLoader* train_loader = nullptr;
  DataLoader* test_loader = nullptr;
  Optimizer* optimizer = nullptr;
  // Under mpirun (train/data_parallel.h): the processes, which train_loader must be shared out by.
  DataParallel* parallel = nullptr;
  std::function<double(int64_t step)> lr_at = {};  // the schedule; default: constant --lr
  double clip_norm = 0;                            // 0: no clipping
  // > 0: keep an exponential moving average of the weights with this decay per step
  // (optim/ema.h) and evaluate and report it; the trained weights' accuracy goes in the epoch's
  // summary line too. The model holds the averaged weights when train_classifier returns.
  double ema_decay = 0;
  // Optional: the loss of one step (default: cross_entropy(model->forward(images), labels)), and
  // the evaluation after each epoch (default: evaluate_classifier on test_loader).
  std::function<StepLoss(const Batch& batch)> step_loss = {};
  std::function<Evaluation()> evaluate = {};
  // Optional: work before each epoch's batches are drawn, also for the epoch a resumed run
  // starts in (train_stn --redraw: that epoch's distortions of the training digits).
  std::function<void(int64_t epoch)> before_epoch = {};
};

struct TrainResult {
  double test_accuracy = 0;
  double epochs = 0;  // steps taken over steps per epoch (a resumed run's earlier steps too)
  double seconds = 0;
};

// Trains, evaluates after every epoch, saves, and prints the last evaluation's summary; the
// trainer then draws its pictures and prints the final line.
TrainResult train_classifier(ClassifierTraining& run, const TrainingFlags& flags);

// "final test_acc=0.9912 epochs=3 seconds=41.2": the last line of every trainer, which scripts read.
void print_final_line(const TrainResult& result);

// The seed of step `step`'s random draws (dropout, RAM's locations): model.reseed(step_seed(...)).
uint64_t step_seed(int64_t seed, int64_t step);

// What a resumed classifier run must share with the run that saved it (train/checkpointer.h).
// `model_flags`: ClassifierTraining::model_flags.
Metadata classifier_identity(const std::string& model_name, const TrainingFlags& flags, double ema_decay,
                             const Metadata& model_flags = {});

class ExponentialMovingAverage;
// The tensors of a train_classifier checkpoint, under the names it saves them by: the model's
// parameters and buffers ("model.*"), the optimiser's state ("optim.*") and, under --ema, the
// averaged weights ("ema.*"). Reading one back needs the same list.
std::vector<NamedTensor> classifier_checkpoint_tensors(Module& model, Optimizer& optimizer,
                                                       ExponentialMovingAverage* ema = nullptr);

// Accuracy and mean loss of `forward` over a loader, in evaluation mode without a graph.
Evaluation evaluate_classifier(Module& model, const std::function<Tensor(const Tensor&)>& forward, DataLoader& loader);

}  // namespace glimpse
