// train_stn: trains a spatial transformer network (Jaderberg et al. 2015, Sec. 4.1;
// docs/MODELS.md) on RTS MNIST or plain MNIST: stn_mnist, a transformer in front of a small CNN
// (the PyTorch tutorial's), or --model stn_paper, the paper's own larger networks (RTS only);
// with --no-transformer the CNN baseline, the same classifier without the transformer.
//
//   build/train_stn --dataset rts                        RTS MNIST, 42x42
//   build/train_stn --optimizer adam --lr 1e-3 --redraw --epochs 150 --ema 0.9999 --visualize stn.png
//   build/train_stn --dataset mnist --no-transformer     the classifier alone on the plain digits
//   build/train_stn --model stn_paper --redraw           the paper's ST-CNN on RTS
//
// Data (train/stn_digits.h): MNIST via --data (else data/mnist, else the bundled sample). rts
// turns each digit by up to 45 degrees, scales it by 0.7-1.2 and places it anywhere on a 42x42
// canvas. The training digits are drawn once per run from --seed, or with --redraw afresh every
// epoch (from the seed and the epoch, so a resumed run sees what the uninterrupted one saw); the
// test digits are the same in every run. The model's input side follows the data (28 or 42).
//
// The recipe: SGD with momentum 0.9, learning rate 0.01 with cosine decay to zero, batch 64, the
// gradient's global norm clipped at 1, which keeps the localisation net from throwing the sampling
// grid off the canvas early on (docs/RESULTS.md). --optimizer adam trains with Adam instead (same
// schedule and clipping); --loc-lr-factor F trains the localisation net at F times the rate.
// --visualize FILE.png draws, after training, test digits beside what the transformer made of them.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/wording.h"
#include "io/dataset.h"
#include "models/stn_mnist.h"
#include "models/stn_paper.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/classifier.h"
#include "train/data_paths.h"
#include "train/evaluation.h"
#include "train/stn_digits.h"
#include "train/stop_signals.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("train_stn", "Trains stn_mnist or stn_paper (or their CNN baselines) on RTS MNIST or MNIST.");
  std::string& model_name = flags.add_choice("model", "stn_mnist", {"stn_mnist", "stn_paper"},
                                             "the tutorial's small networks, or the paper's (RTS only)");
  std::string& dataset =
      flags.add_choice("dataset", "rts", {"rts", "mnist"}, "RTS MNIST (42x42) or the digits as they are (28x28)");
  std::string& visualize = flags.add_string("visualize", "", "PNG file: test images beside their transformed versions");
  TrainingFlags common{.epochs = 10, .batch = 64, .lr = 0.01};
  declare_training_flags(flags, common);
  double ema_decay = 0;
  declare_ema_flag(flags, ema_decay);
  StnRecipe recipe;
  declare_stn_recipe(flags, recipe);
  flags.parse(argc, argv);
  if (!visualize.empty() && recipe.no_transformer)
    flags.usage_error("--visualize draws the transformer's output; drop --no-transformer");
  if (recipe.loc_lr_factor != 1 && recipe.no_transformer)
    flags.usage_error("--loc-lr-factor needs the transformer; drop --no-transformer");
  if (recipe.redraw && dataset == "mnist") flags.usage_error("--redraw needs distorted digits: --dataset rts");
  if (model_name == "stn_paper" && dataset != "rts")
    flags.usage_error("--model stn_paper takes the 42x42 RTS digits: --dataset rts");
  check_output_paths(flags, common, {{"visualize", visualize}});

  try {
    apply_training_flags(common, "train_stn");
    DataLocation data = find_data(common.data, "mnist", common.quiet);
    ImageDataset mnist_train = load_mnist_dir(data.dir, true);
    ImageDataset mnist_test = load_mnist_dir(data.dir, false);
    auto training_digits = [&](int64_t draw) {
      Rng distortions = stn_training_draw(common.seed, draw);
      return stn_digits(mnist_train, dataset, distortions, "the training digits");
    };
    ImageDataset train_set = training_digits(0);
    int64_t drawn = 0;                                    // the draw train_set holds
    const auto statistics = pixel_statistics(train_set);  // of draw 0, for every epoch
    const float mean = statistics.first, stddev = statistics.second;
    Rng test_distortions(stn_test_seed);
    ImageDataset test_set = stn_digits(mnist_test, dataset, test_distortions, "the test digits");
    const int64_t side = train_set.height;
    if (!common.quiet)
      std::printf("%s MNIST (%lldx%lld) from %s: %s, %s; pixel mean %.4f, std %.4f\n", dataset.c_str(),
                  static_cast<long long>(side), static_cast<long long>(side), data.dir.c_str(),
                  count_of(train_set.size(), "training image").c_str(), count_of(test_set.size(), "test image").c_str(),
                  mean, stddev);

    Rng rng(static_cast<uint64_t>(common.seed));
    std::shared_ptr<Module> model;
    if (model_name == "stn_paper")
      model = std::make_shared<StnPaper>(side, rng, !recipe.no_transformer);
    else
      model = std::make_shared<StnMnist>(side, rng, !recipe.no_transformer);
    SpatialTransformer* transformer = spatial_transformer_of(*model);
    if (!common.quiet) std::printf("%s", model->print().c_str());

    DataParallel parallel(*model, common.per_process_bn);  // under mpirun: this process's share of each batch
    DataLoader train_loader(train_set, parallel.share({.batch_size = common.batch,
                                                       .shuffle = true,
                                                       .seed = static_cast<uint64_t>(common.seed),
                                                       .mean = {mean},
                                                       .stddev = {stddev}}));
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = {mean}, .stddev = {stddev}});
    std::unique_ptr<Optimizer> optimizer = make_optimizer(
        recipe.optimizer, model->parameters(), static_cast<real>(common.lr), static_cast<real>(recipe.momentum));
    if (transformer) optimizer->scale_lr(transformer->parameters(), static_cast<real>(recipe.loc_lr_factor));
    WarmupLr schedule = warmup_then_cosine(static_cast<real>(common.lr), common.epochs,
                                           train_loader.batches_per_epoch(), recipe.warmup_epochs);

    const std::string run_name = model_name + (recipe.no_transformer ? "_cnn_baseline_" : "_") + dataset;
    ClassifierTraining run{.model_name = run_name,
                           .model = model.get(),
                           .train_loader = &train_loader,
                           .test_loader = &test_loader,
                           .optimizer = optimizer.get(),
                           .parallel = &parallel,
                           .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
                           .clip_norm = recipe.clip,
                           .ema_decay = ema_decay,
                           .before_epoch = [&](int64_t epoch) {  // --redraw: epoch k trains on draw k
                             const int64_t draw = recipe.redraw ? epoch : 0;
                             if (draw != drawn) train_set = training_digits(drawn = draw);
                           }};
    TrainResult result = train_classifier(run, common);
    if (!visualize.empty() && parallel.is_root())
      draw_first_transformed_digits(*model, *transformer, model_name, test_set, mean, stddev, visualize);
    print_final_line(result);
  } catch (const std::exception& e) {
    return report_failure("train_stn", e);
  }
  return 0;
}
