// train_cifar: trains a CIFAR-10 model of the zoo (docs/MODELS.md) on CIFAR-10.
//
//   build/train_cifar --model resnet20                 data/cifar10, else the bundled sample
//   build/train_cifar --model resnet20 --data DIR --epochs 50 --save runs/r20.ckpt --log runs/r20.csv
//
// The recipe (the same for every model, so that they compare): SGD with momentum 0.9 and
// weight decay 5e-4, batch 128, learning rate 0.1 with one epoch of linear warm-up then cosine
// decay to zero, random crops of the 4-pixel zero-padded image and horizontal flips, inputs
// normalised per channel with CIFAR-10's training-set mean and standard deviation.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "io/dataset.h"
#include "models/zoo.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/classifier.h"
#include "train/data_paths.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("train_cifar", "Trains a CIFAR-10 model of the zoo and reports its test accuracy.");
  std::string& model_name = flags.add_choice("model", "resnet20", cifar_model_names(), "the model to train");
  int64_t& width = flags.add_int("width", 16, "attention56 only: the base width w (channels 4w/8w/16w)", 1, 256);
  CommonFlags common = add_common_flags(flags, {.epochs = 50, .batch = 128, .lr = 0.1});
  double& momentum = flags.add_real("momentum", 0.9, "SGD momentum", 0, 1);
  double& weight_decay = flags.add_real("weight-decay", 5e-4, "L2 weight decay", 0, 1);
  double& warmup_epochs = flags.add_real("warmup-epochs", 1, "epochs of linear learning-rate warm-up", 0, 1000);
  flags.parse(argc, argv);

  try {
    apply_common_flags(common, "train_cifar");
    Rng rng(static_cast<uint64_t>(common.seed));
    std::shared_ptr<Module> model = create_model(model_name, rng, {.width = width});
    DataLocation data = find_data(common.data, "cifar10", common.quiet);
    ImageDataset train_set = load_cifar10_dir(data.dir, true);
    ImageDataset test_set = load_cifar10_dir(data.dir, false);
    if (!common.quiet) {
      std::printf("CIFAR-10 from %s: %lld training, %lld test images\n", data.dir.c_str(),
                  static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()));
      std::printf("%s", model->print().c_str());
    }

    const std::vector<float> mean{0.4914f, 0.4822f, 0.4465f}, stddev{0.2470f, 0.2435f, 0.2616f};
    DataLoader train_loader(train_set, {.batch_size = common.batch, .shuffle = true,
                                        .seed = static_cast<uint64_t>(common.seed), .crop_padding = 4,
                                        .horizontal_flip = true, .mean = mean, .stddev = stddev});
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = mean, .stddev = stddev});

    SGD optimizer(model->parameters(), {.lr = static_cast<real>(common.lr), .momentum = static_cast<real>(momentum),
                                        .weight_decay = static_cast<real>(weight_decay)});
    int64_t steps_per_epoch = train_loader.batches_per_epoch();
    int64_t total_steps = common.epochs * steps_per_epoch;
    int64_t warmup_steps = std::min(total_steps / 2,  // a short run still gets its cosine half
                                    static_cast<int64_t>(warmup_epochs * static_cast<double>(steps_per_epoch)));
    WarmupLr schedule(warmup_steps, std::make_shared<CosineLr>(static_cast<real>(common.lr),
                                                               total_steps - warmup_steps));

    ClassifierTraining run{.model_name = model_name, .model = model.get(), .train_loader = &train_loader,
                           .test_loader = &test_loader, .optimizer = &optimizer,
                           .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); }};
    train_classifier(run, common);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_cifar: %s\n", e.what());
    return 1;
  }
  return 0;
}
