// train_mnist: trains mnist_cnn (the plain MNIST baseline of docs/MODELS.md) on MNIST.
//
//   build/train_mnist                        full MNIST from data/mnist, else the bundled sample
//   build/train_mnist --data DIR --epochs 3 --save runs/mnist.ckpt --log runs/mnist.csv
//
// The recipe: Adam (lr 1e-3), cosine decay of the learning rate to zero over the run, batch 64,
// inputs normalised with MNIST's mean and standard deviation (0.1307, 0.3081).
#include <cstdio>
#include <memory>

#include "io/dataset.h"
#include "models/zoo.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/classifier.h"
#include "train/data_paths.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("train_mnist", "Trains mnist_cnn on MNIST and reports its test accuracy.");
  CommonFlags common = add_common_flags(flags, {.epochs = 3, .batch = 64, .lr = 1e-3});
  double& ema_decay = add_ema_flag(flags);
  std::string& optimizer_name = flags.add_choice("optimizer", "adam", {"adam", "sgd"}, "adam, or SGD with momentum 0.9");
  flags.parse(argc, argv);

  try {
    apply_common_flags(common, "train_mnist");
    DataLocation data = find_data(common.data, "mnist", common.quiet);
    ImageDataset train_set = load_mnist_dir(data.dir, true);
    ImageDataset test_set = load_mnist_dir(data.dir, false);
    if (!common.quiet)
      std::printf("MNIST from %s: %lld training, %lld test images\n", data.dir.c_str(),
                  static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()));

    Rng rng(static_cast<uint64_t>(common.seed));
    std::shared_ptr<Module> model = create_model("mnist_cnn", rng);
    if (!common.quiet) std::printf("%s", model->print().c_str());

    const std::vector<float>& mean = mnist_mean;
    const std::vector<float>& stddev = mnist_stddev;
    DataLoader train_loader(train_set, {.batch_size = common.batch, .shuffle = true,
                                        .seed = static_cast<uint64_t>(common.seed), .mean = mean, .stddev = stddev});
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = mean, .stddev = stddev});

    std::unique_ptr<Optimizer> optimizer = make_optimizer(optimizer_name, model->parameters(), static_cast<real>(common.lr), 0.9f);
    int64_t total_steps = common.epochs * train_loader.batches_per_epoch();
    CosineLr schedule(static_cast<real>(common.lr), total_steps);

    ClassifierTraining run{.model_name = "mnist_cnn", .model = model.get(), .train_loader = &train_loader,
                           .test_loader = &test_loader, .optimizer = optimizer.get(),
                           .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
                           .ema_decay = ema_decay};
    train_classifier(run, common);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_mnist: %s\n", e.what());
    return 1;
  }
  return 0;
}
