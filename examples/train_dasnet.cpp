// train_dasnet: trains the attention policy theta of dasNet (models/dasnet.h) with SNES on a
// frozen resnet20, as in the paper's Algorithm 1 (Stollenga et al. 2014).
//
//   build/train_dasnet --base runs/r20.ckpt            a checkpoint written by train_cifar
//   build/train_dasnet                                 no --base: first trains a short resnet20
//                                                      with train_cifar's recipe (--base-epochs)
//
// Each generation: SNES draws p thetas (784 x 784 = 614,656 numbers each) around its mean,
// each is scored by the cross-entropy of the last of the 5 passes on the same n training
// images (lower is better), and the mean moves towards the better ones. With --holdout N the n
// images come from N training images the base never saw (it was trained with train_cifar
// --holdout N, or here without --base on the rest): on images a base has learnt, every
// candidate scores nearly alike and the ranking is noise. An "epoch" here is --generations
// generations followed by a test evaluation. The mean starts at zero, where every gate is
// 2 * sigmoid(0) = 1: the search starts from the frozen network itself. The defaults (p = 8,
// n = --batch 32, sigma 0.005 per dimension, eta_mu 1) run in minutes; the paper's runs were far
// longer (--population 0 takes SNES's own 4 + 3 ln d, 44 here). Reports the test accuracy with
// all gates at one (the frozen net) and with the learnt policy, and whether the difference is
// real: McNemar's exact test over the test images (train/paired_test.h).
//
// Checkpoints (--save, --save-every N generations) hold the base, theta and SNES's sigma;
// --resume continues bitwise where the run stood (same flags, same --threads). A fitness that
// is not finite stops the run with the generation named.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/wording.h"
#include "io/dataset.h"
#include "models/dasnet.h"
#include "train/checkpointer.h"
#include "train/classifier.h"
#include "train/dasnet_training.h"
#include "train/data_paths.h"
#include "train/paired_test.h"
#include "train/step.h"
#include "train/stop_signals.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("train_dasnet",
              "Trains dasNet's attention policy with SNES on a frozen resnet20 (CIFAR-10).\n"
              "A step (--max-steps, --save-every) is one SNES generation; --lr is SNES's eta_mu.");
  std::string& base_path = flags.add_string("base", "",
                                            "resnet20 checkpoint from train_cifar (none: train one first; "
                                            "not needed with --resume)");
  int64_t& base_epochs = flags.add_int("base-epochs", 3, "without --base: epochs of the base's training", 1, 1000);
  TrainingFlags common{.epochs = 2, .batch = 32, .lr = 1};
  declare_training_flags(flags, common,
                         {.epochs = "rounds of --generations generations and a test evaluation",
                          .batch = "training images that score each generation",
                          .lr = "SNES's learning rate of the mean, eta_mu"});
  int64_t& population = flags.add_int(
      "population", 8, "SNES population p (even: mirrored sampling; 0: SNES's own 4 + 3 ln d, 44)", 0, 1000);
  int64_t& holdout = flags.add_int("holdout", 0,
                                   "score the gates on the N training images a base of train_cifar --holdout N "
                                   "never saw (0: on the training images)",
                                   0, 1000000000);
  int64_t& generations = flags.add_int("generations", 25, "generations per epoch", 1, 1000000);
  int64_t& passes = flags.add_int("passes", 5, "passes T over each image", 1, 100);
  double& sigma0 = flags.add_real("sigma", 0.005, "initial SNES standard deviation of every theta entry", 1e-30, 10);
  std::string& policy_name = flags.add_choice("policy", "full", {"full", "diagonal"},
                                              "what SNES searches: all of theta (784 x 784), or its diagonal (784)");
  flags.parse(argc, argv);
  if (population == 1) flags.usage_error("--population 1: SNES ranks candidates; give it at least 2 (0: its own)");
  if (!(common.lr > 0)) flags.usage_error("--lr 0: SNES's eta_mu must be above 0");  // 0 is the only value below
  if (!common.resume.empty() && !base_path.empty())
    flags.usage_error("--base with --resume: the checkpoint holds the base it was trained on; drop --base");
  check_output_paths(flags, common);

  try {
    using clock = std::chrono::steady_clock;
    auto started = clock::now();
    apply_training_flags(common, "train_dasnet");
    if (Communicator::world().size() > 1) fail("SNES runs as one process here: start train_dasnet without mpirun");
    auto [data, train_set, test_set, held_out] =
        load_cifar10_for("dasnet's resnet20", common.data, common.quiet, holdout);
    const ImageDataset& fitness_set = holdout > 0 ? held_out : train_set;  // the images that score the gates
    const std::vector<float>& mean = cifar10_mean;
    const std::vector<float>& stddev = cifar10_stddev;
    DataLoader train_loader(fitness_set, {.batch_size = common.batch,
                                          .shuffle = true,
                                          .seed = static_cast<uint64_t>(common.seed),
                                          .drop_last = true,
                                          .mean = mean,
                                          .stddev = stddev});
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = mean, .stddev = stddev});
    if (train_loader.batches_per_epoch() == 0)
      fail("--batch " + std::to_string(common.batch) + ": more than the " +
           count_of(fitness_set.size(), holdout > 0 ? "held-out image" : "training image"));
    Rng rng(static_cast<uint64_t>(common.seed));
    auto base = std::make_shared<ResNet20>(rng);
    DasNet das(base, passes);
    const DasnetPolicy policy = policy_name == "full" ? DasnetPolicy::full : DasnetPolicy::diagonal;
    Snes snes = dasnet_snes(population, sigma0, common.lr, common.seed, policy);

    Tensor sigma = policy == DasnetPolicy::full ? Tensor::empty({dasnet_gates, dasnet_gates})
                                                : Tensor::empty({dasnet_gates});  // SNES's, for the checkpoints
    std::copy(snes.sigma().begin(), snes.sigma().end(), sigma.data());
    const int64_t members = snes.population();  // --population 0: SNES's own
    Checkpointer checkpoints = dasnet_checkpointer(das, sigma, {common, members, passes, generations, holdout, policy});
    Position at;  // step: the generations done
    if (!common.resume.empty()) {
      at = checkpoints.resume(common.resume, generations);
      snes.restore(das.policy(policy), sigma.to_vector(), at.step);
      if (!common.quiet)
        std::printf("resumed from %s: %s done; the base comes from the checkpoint\n", common.resume.c_str(),
                    count_of(at.step, "generation").c_str());
    } else if (!base_path.empty()) {
      load_dasnet_base(*base, base_path, holdout);
      if (!common.quiet) std::printf("base resnet20 from %s\n", base_path.c_str());
    } else {
      std::printf("no --base: training a resnet20 base for %s with train_cifar's recipe\n",
                  count_of(base_epochs, "epoch").c_str());
      train_dasnet_base(*base, train_set, test_loader, base_epochs, common);
    }
    base->eval();

    const bool starting = at.step == 0, finished = at.step >= total_steps(common, generations);
    DasnetScores scores = evaluate_frozen_and_gated(das, test_loader, at, starting || finished);
    std::printf("frozen resnet20: test acc %.2f%%", 100 * scores.frozen.accuracy);
    if (starting) std::printf(" | dasNet with theta = 0: test acc %.2f%% (the same net)", 100 * scores.gated.accuracy);
    std::printf("\n");

    scores = search_gates({.das = &das,
                           .snes = &snes,
                           .policy = policy,
                           .sigma = &sigma,
                           .checkpoints = &checkpoints,
                           .fitness_loader = &train_loader,
                           .test_loader = &test_loader,
                           .generations = generations},
                          common, at, scores);
    if (!common.quiet) checkpoints.print_last_save();
    std::printf("test accuracy: %.4f with all gates at one (frozen resnet20), %.4f with the learnt gates\n",
                scores.frozen.accuracy, scores.gated.accuracy);
    std::printf("%s\n", describe_comparison(mcnemar_exact(scores.gated.right, scores.frozen.right),
                                            "with the learnt gates", "with all gates at one")
                            .c_str());
    print_final_line({.test_accuracy = scores.gated.accuracy,
                      .epochs = static_cast<double>(at.step) / static_cast<double>(generations),
                      .seconds = std::chrono::duration<double>(clock::now() - started).count()});
  } catch (const std::exception& e) {
    return report_failure("train_dasnet", e);
  }
  return 0;
}
