// The training loop shared by the image-classification trainers (train_mnist, train_cifar,
// train_stn): the common flags, epochs of SGD-style steps with a live progress line, evaluation
// on the test set after each epoch, the CSV metrics log, atomic checkpoints and --resume.
//
// One step, as in any PyTorch training script:
//   logits = forward(images)              (N, K)
//   loss   = cross_entropy(logits, labels)
//   zero_grad(); backward(loss); [clip]; optimizer.step()
#pragma once

#include <functional>
#include <string>

#include "engine/ops.h"
#include "io/data_loader.h"
#include "layers/module.h"
#include "optim/optimizer.h"
#include "train/flags.h"

namespace glimpse {

// The flags every trainer takes (README, "Trainers"). Each field refers to the parsed value.
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
};
CommonFlags add_common_flags(Flags& flags, CommonDefaults defaults);
// Applies --threads and --detect-anomaly; prints the run's set-up line unless --quiet.
void apply_common_flags(const CommonFlags& flags, const std::string& program);

struct ClassifierTraining {
  std::string model_name = {};  // stored in checkpoints; a resume with another model is refused
  Module* model = nullptr;
  std::function<Tensor(const Tensor& images)> forward = {};  // images -> logits (N, K); default model->forward
  DataLoader* train_loader = nullptr;
  DataLoader* test_loader = nullptr;
  Optimizer* optimizer = nullptr;
  std::function<double(int64_t step)> lr_at = {};  // the schedule; default: constant --lr
  double clip_norm = 0;                        // 0: no clipping
};

struct TrainResult {
  double test_accuracy = 0;
  int64_t epochs = 0;
  double seconds = 0;
};

TrainResult train_classifier(ClassifierTraining& run, const CommonFlags& flags);

// Accuracy and mean loss of `forward` over a loader, in evaluation mode without a graph.
struct Evaluation {
  double accuracy = 0, loss = 0;
};
Evaluation evaluate_classifier(Module& model, const std::function<Tensor(const Tensor&)>& forward, DataLoader& loader);

}  // namespace glimpse
