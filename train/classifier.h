// The training loop shared by the gradient-trained trainers (train_mnist, train_cifar,
// train_stn, train_ram): the common flags, epochs of SGD-style steps with a live progress line,
// evaluation on the test set after each epoch, the CSV metrics log, atomic checkpoints and
// --resume.
//
// One step, as in any PyTorch training script:
//   logits = forward(images)              (N, K)
//   loss   = cross_entropy(logits, labels)      (or the trainer's own step_loss)
//   zero_grad(); backward(loss); [clip]; optimizer.step()
//
// Everything random in a step is drawn from (seed, epoch, step): the data order and augmentation
// by the loader, dropout and RAM's locations by the model's Rngs, re-seeded before every step.
// So a checkpoint (parameters, buffers, optimiser state, position) is all that a resumed run
// needs to go on bitwise as an uninterrupted one would.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "io/data_loader.h"
#include "layers/module.h"
#include "optim/optimizer.h"
#include "train/flags.h"

namespace glimpse {

// The flags every trainer takes (docs/TRAINERS.md). Each field refers to the parsed value.
struct CommonFlags {
  std::string& data;
  int64_t& epochs;
  int64_t& batch;
  double& lr;
  int64_t& seed;
  int64_t& threads;
  int64_t& max_steps;
  std::string& save;
  int64_t& save_every;
  std::string& resume;
  std::string& log;
  std::string& plot;
  bool& quiet;
  bool& detect_anomaly;
};
struct CommonDefaults {
  int64_t epochs, batch;
  double lr;
  // the help of these three, for a trainer where an epoch, a batch or --lr mean something else
  std::string epochs_help = "passes over the training set";
  std::string batch_help = "images per step";
  std::string lr_help = "peak learning rate";
};
CommonFlags add_common_flags(Flags& flags, CommonDefaults defaults);
// --ema DECAY, for the trainers whose steps follow gradients (ClassifierTraining::ema_decay).
double& add_ema_flag(Flags& flags);
// Applies --threads and --detect-anomaly; prints the run's set-up line unless --quiet.
void apply_common_flags(const CommonFlags& flags, const std::string& program);

// Accuracy and mean loss over the test set; `note` is printed after the accuracy (e.g. RAM's
// accuracy over several sampled paths).
struct Evaluation {
  double accuracy = 0, loss = 0;
  std::string note = {};     // appended to the epoch's summary line
  std::string summary = {};  // the last evaluation's, printed on its own line before the final line
};

// One step's loss, for a model trained by more than the cross-entropy of its logits.
struct StepLoss {
  Tensor loss;                     // the scalar to back-propagate
  double shown_loss = 0;           // what the progress line and the log report as the train loss
  std::vector<int64_t> predicted;  // (N) the predicted classes, for the train accuracy
};

struct ClassifierTraining {
  std::string model_name = {};  // stored in checkpoints; a resume with another model is refused
  Module* model = nullptr;
  std::function<Tensor(const Tensor& images)> forward = {};  // images -> logits (N, K); default model->forward
  DataLoader* train_loader = nullptr;
  DataLoader* test_loader = nullptr;
  Optimizer* optimizer = nullptr;
  std::function<double(int64_t step)> lr_at = {};  // the schedule; default: constant --lr
  double clip_norm = 0;                        // 0: no clipping
  // > 0: keep an exponential moving average of the weights with this decay per step
  // (optim/ema.h) and evaluate, draw and report it; the trained weights' accuracy goes in the
  // epoch's summary line too.
  double ema_decay = 0;
  // Optional: the loss of one step (default: cross_entropy(forward(images), labels)), and the
  // evaluation after each epoch (default: evaluate_classifier on test_loader).
  std::function<StepLoss(const Batch& batch)> step_loss = {};
  std::function<Evaluation()> evaluate = {};
  // Optional: work before each epoch's batches are drawn, also for the epoch a resumed run
  // starts in (train_stn --redraw: that epoch's distortions of the training digits).
  std::function<void(int64_t epoch)> before_epoch = {};
  // Optional: work after the last evaluation, before the final line (a trainer's --visualize
  // picture, drawn with the averaged weights under --ema), so that "final test_acc=..." stays
  // the last line printed.
  std::function<void()> before_final_line = {};
};

struct TrainResult {
  double test_accuracy = 0;
  int64_t epochs = 0;
  double seconds = 0;
};

TrainResult train_classifier(ClassifierTraining& run, const CommonFlags& flags);

class ExponentialMovingAverage;
// The tensors of a train_classifier checkpoint, under the names it saves them by: the model's
// parameters and buffers ("model.*"), the optimiser's state ("optim.*") and, under --ema, the
// averaged weights ("ema.*"). Reading one back needs the same list.
std::vector<NamedTensor> classifier_checkpoint_tensors(Module& model, Optimizer& optimizer,
                                                       ExponentialMovingAverage* ema = nullptr);

// Accuracy and mean loss of `forward` over a loader, in evaluation mode without a graph.
Evaluation evaluate_classifier(Module& model, const std::function<Tensor(const Tensor&)>& forward, DataLoader& loader);

}  // namespace glimpse
