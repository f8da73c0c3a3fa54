// train_cifar: trains a CIFAR-10 model of the zoo (docs/MODELS.md) on CIFAR-10.
//
//   build/train_cifar --model resnet20                 data/cifar10, else the bundled sample
//   build/train_cifar --model resnet20 --data DIR --epochs 50 --save runs/r20.ckpt --log runs/r20.csv
//
// The recipe (the same for every model, so that they compare): SGD with momentum 0.9 and
// weight decay 5e-4, batch 128, learning rate 0.1 with one epoch of linear warm-up then cosine
// decay to zero, random crops of the 4-pixel zero-padded image and horizontal flips, inputs
// normalised per channel with CIFAR-10's training-set mean and standard deviation.
// --lr-drops replaces the cosine by the ResNet paper's steps (He et al. 2016, Sec. 4.2: the rate
// divided by 10 at 32k and 48k of 64k steps, weight decay 1e-4, no warm-up for ResNet-20):
//
//   build/train_cifar --epochs 164 --lr-drops 82,123 --weight-decay 1e-4 --warmup-epochs 0
//
// --holdout N trains on the training set less N images (a fixed random choice, io/dataset.h
// hold_out): a base for train_dasnet --holdout N, which scores its gates on the images it never saw.
//
// --visualize FILE.png (the attention models) writes, at the end of the run, a row per test image
// (the first of each class, so ten rows on the full test set): the image, then what the model's
// attention made of it (train/attention_pictures.h says what each model's columns are).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "engine/wording.h"
#include "io/dataset.h"
#include "models/zoo.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/attention_pictures.h"
#include "train/classifier.h"
#include "train/data_paths.h"
#include "train/stop_signals.h"

using namespace glimpse;

// "82,123" -> {82, 123}: the rate is divided by 10 after 82 epochs and again after 123.
static std::vector<int64_t> parse_drop_epochs(const Flags& flags, const std::string& text, int64_t epochs) {
  const std::string where = "--lr-drops " + text;
  if (text.back() == ',') flags.usage_error(where + ": ends with a comma");
  std::vector<int64_t> drops;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    char* end = nullptr;
    const long long epoch = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || epoch < 1 || epoch >= epochs)
      flags.usage_error(where + ": '" + item + "' is not a number of epochs from 1 to " + std::to_string(epochs - 1));
    if (!drops.empty() && epoch <= drops.back()) flags.usage_error(where + ": the numbers must increase");
    drops.push_back(epoch);
  }
  return drops;
}

int main(int argc, char** argv) {
  Flags flags("train_cifar", "Trains a CIFAR-10 model of the zoo and reports its test accuracy.");
  std::string& model_name = flags.add_choice("model", "resnet20", cifar_model_names(), "the model to train");
  int64_t& width = flags.add_int("width", 16, "attention56 only: the base width w (channels 4w/8w/16w)", 1, 256);
  TrainingFlags common{.epochs = 50, .batch = 128, .lr = 0.1};
  declare_training_flags(flags, common);
  double ema_decay = 0;
  declare_ema_flag(flags, ema_decay);
  double& momentum = flags.add_real("momentum", 0.9, "SGD momentum", 0, 1);
  double& weight_decay = flags.add_real("weight-decay", 5e-4, "L2 weight decay", 0, 1);
  double& warmup_epochs = flags.add_real("warmup-epochs", 1, "epochs of linear learning-rate warm-up", 0, 1000);
  std::string& lr_drops = flags.add_string(
      "lr-drops", "",
      "divide the rate by 10 after each of these numbers of epochs, e.g. 82,123 (none: cosine decay to 0)");
  std::string& visualize =
      flags.add_string("visualize", "", "attention models: PNG of what the attention does on test images");
  int64_t& holdout = flags.add_int("holdout", 0,
                                   "train without N of the training images, a fixed choice: the base of "
                                   "train_dasnet --holdout N, which tunes its gates on them",
                                   0, 1000000000);
  flags.parse(argc, argv);
  const std::vector<int64_t> drop_epochs =
      lr_drops.empty() ? std::vector<int64_t>{} : parse_drop_epochs(flags, lr_drops, common.epochs);
  if (!visualize.empty() && !draws_attention(model_name))
    flags.usage_error("--visualize draws the attention of the attention models (train/attention_pictures.h), not " +
                      model_name);
  check_output_paths(flags, common, {{"visualize", visualize}});

  try {
    apply_training_flags(common, "train_cifar");
    Rng rng(static_cast<uint64_t>(common.seed));
    std::shared_ptr<Module> model = create_model(model_name, rng, {.width = width});
    auto [data, train_set, test_set, held_out] = load_cifar10_for(model_name, common.data, common.quiet, holdout);
    if (!common.quiet) {
      const std::string held_out_note = holdout > 0 ? " (" + std::to_string(holdout) + " held out)" : "";
      std::printf("CIFAR-10 from %s: %s%s, %s\n", data.dir.c_str(),
                  count_of(train_set.size(), "training image").c_str(), held_out_note.c_str(),
                  count_of(test_set.size(), "test image").c_str());
      std::printf("%s", model->print().c_str());
    }

    const std::vector<float>& mean = cifar10_mean;
    const std::vector<float>& stddev = cifar10_stddev;
    DataParallel parallel(*model, common.per_process_bn);  // under mpirun: this process's share of each batch
    DataLoader train_loader(train_set, parallel.share({.batch_size = common.batch,
                                                       .shuffle = true,
                                                       .seed = static_cast<uint64_t>(common.seed),
                                                       .crop_padding = 4,
                                                       .horizontal_flip = true,
                                                       .mean = mean,
                                                       .stddev = stddev}));
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = mean, .stddev = stddev});

    SGD optimizer(model->parameters(), {.lr = static_cast<real>(common.lr),
                                        .momentum = static_cast<real>(momentum),
                                        .weight_decay = static_cast<real>(weight_decay)});
    const int64_t steps_per_epoch = train_loader.batches_per_epoch();
    WarmupLr schedule =
        drop_epochs.empty()
            ? warmup_then_cosine(static_cast<real>(common.lr), common.epochs, steps_per_epoch, warmup_epochs)
            : warmup_then_drops(static_cast<real>(common.lr), drop_epochs, steps_per_epoch, warmup_epochs);

    ClassifierTraining run{
        .model_name = model_name,
        .model_flags = model_name == "attention56" ? Metadata{{"width", std::to_string(width)}} : Metadata{},
        .data_flags = {{"holdout", std::to_string(holdout)}},
        .model = model.get(),
        .train_loader = &train_loader,
        .test_loader = &test_loader,
        .optimizer = &optimizer,
        .parallel = &parallel,
        .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
        .ema_decay = ema_decay};
    TrainResult result = train_classifier(run, common);
    if (!visualize.empty() && parallel.is_root())
      draw_attention_on_test_images(*model, model_name, test_set, mean, stddev, visualize);
    print_final_line(result);
  } catch (const std::exception& e) {
    return report_failure("train_cifar", e);
  }
  return 0;
}
