// train_ram: trains the Recurrent Attention Model (models/ram.h) on MNIST or on the 60x60
// translated / cluttered MNIST of Mnih et al. 2014, with the hybrid loss (cross-entropy +
// REINFORCE for the locations + a learned baseline).
//
//   build/train_ram --dataset mnist --glimpses 6                  28x28, g = 8, k = 1
//   build/train_ram --dataset translated --glimpses 6             60x60, g = 12, k = 3
//   build/train_ram --dataset cluttered --mc-samples 10 --visualize runs/ram.png
//
// The recipe: Adam (lr 1e-3) with cosine decay to zero over the run, batch 64, pixels in [0,1],
// location sigma 0.17, gradient norm clipped at 5, the location and baseline heads reading h_t
// detached (RamOptions::reinforce_into_core). (The paper used SGD with momentum; Adam at
// 1e-3 is what most re-implementations use and trains faster here.) The distorted training set
// is drawn once from --seed; the distorted test set from its own fixed seed, so every run is
// scored on the same images. Test accuracy is that of one sampled path of locations; it is also
// reported for the deterministic path that follows the policy's mean (l_1 still uniform), and
// with --mc-samples S for the mean of S sampled paths' log-probabilities.
//
// The loop is train/classifier.h's with RAM's loss: the same checkpoints (--save, --save-every),
// --resume that continues bitwise, and a stop with the step named when the loss or the
// gradient is not finite.
#include <cstdio>

#include "engine/wording.h"
#include "io/dataset.h"
#include "io/distorted_mnist.h"
#include "models/ram.h"
#include "optim/adam.h"
#include "optim/schedule.h"
#include "train/classifier.h"
#include "train/data_paths.h"
#include "train/ram_evaluation.h"
#include "train/stop_signals.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("train_ram", "Trains the Recurrent Attention Model on (translated, cluttered) MNIST.");
  std::string& dataset = flags.add_choice("dataset", "mnist", {"mnist", "translated", "cluttered"},
                                          "28x28 MNIST, or 60x60 translated / cluttered MNIST");
  int64_t& glimpses = flags.add_int("glimpses", 0, "glimpses T (0: 6, and 8 for cluttered as in the paper)", 0, 64);
  TrainingFlags common{.epochs = 20, .batch = 64, .lr = 1e-3};
  declare_training_flags(flags, common);
  double ema_decay = 0;
  declare_ema_flag(flags, ema_decay);
  int64_t& mc_samples = flags.add_int("mc-samples", 1, "also score the mean of S sampled location paths", 1, 1000);
  std::string& visualize = flags.add_string("visualize", "", "PNG file: test digits with their glimpse paths");
  bool& into_core = flags.add_bool("reinforce-into-core", "let REINFORCE train the core and glimpse networks too");
  double& clip_norm = flags.add_real("clip", 5, "clip the gradient norm (0: no clipping)", 0, 1e9);
  double& location_std = flags.add_real("location-std", 0.17, "standard deviation of the location policy", 1e-3, 1);
  flags.parse(argc, argv);
  check_output_paths(flags, common, {{"visualize", visualize}});

  try {
    apply_training_flags(common, "train_ram");
    DataLocation data = find_data(common.data, "mnist", common.quiet);
    ImageDataset train_set = load_mnist_dir(data.dir, true);
    ImageDataset test_set = load_mnist_dir(data.dir, false);
    if (dataset != "mnist") {
      auto distort = dataset == "cluttered" ? cluttered_mnist : translated_mnist;
      Rng train_rng(static_cast<uint64_t>(common.seed)), test_rng(distorted_test_seed);
      train_set = distort(train_set, train_rng, "the training digits of " + data.dir);
      test_set = distort(test_set, test_rng, "the test digits of " + data.dir);
    }
    if (!common.quiet)
      std::printf("%s MNIST (%lldx%lld) from %s: %s, %s\n", dataset.c_str(), static_cast<long long>(train_set.height),
                  static_cast<long long>(train_set.width), data.dir.c_str(),
                  count_of(train_set.size(), "training image").c_str(),
                  count_of(test_set.size(), "test image").c_str());

    const bool small = dataset == "mnist";
    RamOptions options{.glimpse_side = small ? 8 : 12,
                       .scales = small ? 1 : 3,
                       .glimpses = glimpses > 0 ? glimpses : (dataset == "cluttered" ? 8 : 6),
                       .location_sigma = static_cast<real>(location_std),
                       .image_side = train_set.height,
                       .reinforce_into_core = into_core};
    Rng rng(static_cast<uint64_t>(common.seed));
    RecurrentAttentionModel model(options, rng);
    if (!common.quiet) std::printf("%s", model.print().c_str());

    DataParallel parallel(model);  // under mpirun: this process's share of each batch
    DataLoader train_loader(
        train_set,
        parallel.share({.batch_size = common.batch, .shuffle = true, .seed = static_cast<uint64_t>(common.seed)}));
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false});
    Adam optimizer(model.parameters(), {.lr = static_cast<real>(common.lr)});
    CosineLr schedule(static_cast<real>(common.lr), common.epochs * train_loader.batches_per_epoch());

    // The loop, checkpoints and --resume of train/classifier.h, with RAM's hybrid loss. The
    // locations of a step come from the model's Rng, which the loop re-seeds from (seed, step).
    ClassifierTraining run{
        .model_name = "ram_" + dataset,
        .model_flags = {{"glimpses", std::to_string(options.glimpses)}, {"location-std", real_text(location_std)}},
        .model = &model,
        .train_loader = &train_loader,
        .test_loader = &test_loader,
        .optimizer = &optimizer,
        .parallel = &parallel,
        .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
        .clip_norm = clip_norm,
        .ema_decay = ema_decay,
        .step_loss =
            [&](const Batch& batch) {
              RamLoss loss = ram_loss(model.run(batch.images), batch.labels);
              return StepLoss{.loss = loss.total, .shown_loss = loss.classification, .predicted = loss.predicted};
            },
        .evaluate = [&] { return ram_evaluation_report(evaluate_ram(model, test_loader, mc_samples), mc_samples); }};
    TrainResult result = train_classifier(run, common);
    if (!visualize.empty() && parallel.is_root()) draw_glimpses(model, test_set, visualize);
    print_final_line(result);
  } catch (const std::exception& e) {
    return report_failure("train_ram", e);
  }
  return 0;
}
