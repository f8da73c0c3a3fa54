#include "train/dasnet_training.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/classifier.h"
#include "train/evaluation.h"

namespace glimpse {

void load_dasnet_base(ResNet20& net, const std::string& path) {
  const std::string model = metadata_text(read_checkpoint_metadata(path), "model", path);
  if (model != "resnet20") fail("--base " + path + ": holds model '" + model + "', not resnet20");
  LoadedModel base = load_model(path, {});  // its weights alone: "model.*", or the averaged ones of --ema
  const std::vector<NamedTensor> from = base.model->state(), to = net.state();
  for (size_t i = 0; i < to.size(); i++) std::copy_n(from[i].second.data(), to[i].second.numel(), to[i].second.data());
}

void train_dasnet_base(ResNet20& net, const ImageDataset& train_set, DataLoader& test_loader, int64_t epochs,
                       const TrainingFlags& flags) {
  DataLoader loader(train_set, {.batch_size = 128,
                                .shuffle = true,
                                .seed = static_cast<uint64_t>(flags.seed),
                                .crop_padding = 4,
                                .horizontal_flip = true,
                                .mean = cifar10_mean,
                                .stddev = cifar10_stddev});
  SGD sgd(net.parameters(), {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 5e-4f});
  const int64_t total = epochs * loader.batches_per_epoch();
  const int64_t warmup = std::min<int64_t>(total / 2, loader.batches_per_epoch());
  WarmupLr schedule(warmup, std::make_shared<CosineLr>(0.1f, total - warmup));
  TrainingFlags base_flags{.epochs = epochs,
                           .batch = 128,
                           .lr = 0.1,
                           .data = flags.data,
                           .seed = flags.seed,
                           .threads = flags.threads,
                           .quiet = flags.quiet,
                           .detect_anomaly = flags.detect_anomaly};
  ClassifierTraining run{.model_name = "resnet20",
                         .model = &net,
                         .train_loader = &loader,
                         .test_loader = &test_loader,
                         .optimizer = &sgd,
                         .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); }};
  train_classifier(run, base_flags);
}

std::string describe_fitness(const std::vector<real>& fitness) {
  double best = *std::min_element(fitness.begin(), fitness.end()), sum = 0;
  for (real f : fitness) sum += f;
  char text[96];
  std::snprintf(text, sizeof text, "best fitness %.4f, mean %.4f", best, sum / static_cast<double>(fitness.size()));
  return text;
}

void check_fitness(const std::vector<real>& fitness, const Position& at, bool base_is_finite) {
  for (size_t k = 0; k < fitness.size(); k++)
    if (!std::isfinite(fitness[k]))
      fail("training stopped: the fitness of candidate " + std::to_string(k + 1) + " is " +
           (std::isnan(fitness[k]) ? std::string("nan") : std::to_string(fitness[k])) + " at generation " +
           std::to_string(at.step + 1) + " (epoch " + std::to_string(at.epoch + 1) + "). " +
           (base_is_finite ? "Lower --sigma or --lr, or rerun"
                           : "The frozen resnet20's own test loss is not finite either: the base is broken. Rerun") +
           " with --detect-anomaly to name the first op whose output is not finite.");
}

}  // namespace glimpse
