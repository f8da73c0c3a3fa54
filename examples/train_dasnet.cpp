// train_dasnet: trains the attention policy theta of dasNet (models/dasnet.h) with SNES on a
// frozen resnet20, as in the paper's Algorithm 1 (Stollenga et al. 2014).
//
//   build/train_dasnet --base runs/r20.ckpt            a checkpoint written by train_cifar
//   build/train_dasnet                                 no --base: first trains a short resnet20
//                                                      with train_cifar's recipe (--base-epochs)
//
// Each generation: SNES draws p thetas (784 x 784 = 614,656 numbers each) around its mean,
// each is scored by the cross-entropy of the last of the 5 passes on the same n training
// images (lower is better), and the mean moves towards the better ones. An "epoch" here is
// --generations generations followed by a test evaluation. The mean starts at zero, where
// every gate is 2 * sigmoid(0) = 1: the search starts from the frozen network itself. The
// defaults (p = 8, n = --batch 32, sigma 0.005 per dimension, eta_mu 1) run in minutes; the
// paper's runs were far longer. Reports the test accuracy with all gates at one (the frozen
// net) and with the learnt policy.
//
// Checkpoints (--save, --save-every N generations) hold the base, theta and SNES's sigma;
// --resume continues bitwise where the run stood (same flags, same --threads). A fitness that
// is not finite stops the run with the generation named.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "engine/wording.h"
#include "io/dataset.h"
#include "models/dasnet.h"
#include "train/checkpointer.h"
#include "train/classifier.h"
#include "train/dasnet_training.h"
#include "train/data_paths.h"
#include "train/metrics_log.h"
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
  int64_t& population = flags.add_int("population", 8, "SNES population p (even: mirrored sampling)", 2, 1000);
  int64_t& generations = flags.add_int("generations", 25, "generations per epoch", 1, 1000000);
  int64_t& passes = flags.add_int("passes", 5, "passes T over each image", 1, 100);
  double& sigma0 = flags.add_real("sigma", 0.005, "initial SNES standard deviation of every theta entry", 1e-30, 10);
  flags.parse(argc, argv);
  if (!(common.lr > 0)) flags.usage_error("--lr 0: SNES's eta_mu must be above 0");  // 0 is the only value below
  if (!common.resume.empty() && !base_path.empty())
    flags.usage_error("--base with --resume: the checkpoint holds the base it was trained on; drop --base");
  check_output_paths(flags, common);

  try {
    using clock = std::chrono::steady_clock;
    auto started = clock::now();
    apply_training_flags(common, "train_dasnet");
    if (Communicator::world().size() > 1) fail("SNES runs as one process here: start train_dasnet without mpirun");
    DataLocation data = find_data(common.data, "cifar10", common.quiet);
    ImageDataset train_set = load_cifar10_dir(data.dir, true);
    ImageDataset test_set = load_cifar10_dir(data.dir, false);
    for (const ImageDataset* set : {&train_set, &test_set})
      require_images(*set, data.dir, 3, 32, 10, std::string("dasnet's resnet20"));
    const std::vector<float>& mean = cifar10_mean;
    const std::vector<float>& stddev = cifar10_stddev;
    DataLoader train_loader(train_set, {.batch_size = common.batch,
                                        .shuffle = true,
                                        .seed = static_cast<uint64_t>(common.seed),
                                        .drop_last = true,
                                        .mean = mean,
                                        .stddev = stddev});
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = mean, .stddev = stddev});
    const int64_t batches = train_loader.batches_per_epoch();
    if (batches == 0)
      fail("--batch " + std::to_string(common.batch) + ": more than the " + std::to_string(train_set.size()) +
           " training images");
    Rng rng(static_cast<uint64_t>(common.seed));
    auto base = std::make_shared<ResNet20>(rng);
    DasNet das(base, passes);
    Snes snes(std::vector<real>(static_cast<size_t>(dasnet_gates * dasnet_gates), 0), static_cast<real>(sigma0),
              {.population = static_cast<int>(population),
               .eta_mu = static_cast<real>(common.lr),
               .mirrored = population % 2 == 0,
               .seed = static_cast<uint64_t>(common.seed)});

    // A checkpoint holds the frozen base (so a resumed run needs neither --base nor a base run),
    // theta = SNES's mean, and SNES's sigma; its position says how many generations are done
    // (step) and where they stand in the epochs of --generations. SNES's Rng is re-seeded from
    // (seed, generation) before every generation and the batch of generation g is batch g of the
    // loader's stream, so that is all a resumed run needs.
    Tensor sigma = Tensor::empty({dasnet_gates, dasnet_gates});
    std::copy(snes.sigma().begin(), snes.sigma().end(), sigma.data());
    std::vector<NamedTensor> state;
    for (auto& [name, t] : das.state()) state.push_back({"model." + name, t});
    state.push_back({"snes.sigma", sigma});
    Checkpointer checkpoints(state,
                             {{"model", "dasnet"},
                              {"seed", std::to_string(common.seed)},
                              {"batch", std::to_string(common.batch)},
                              {"population", std::to_string(population)},
                              {"passes", std::to_string(passes)},
                              {"generations", std::to_string(generations)}},
                             common.save, common.save_every);
    Position at;  // step: the generations done
    if (!common.resume.empty()) {
      at = checkpoints.resume(common.resume, generations);
      snes.restore(das.theta.to_vector(), sigma.to_vector(), at.step);
      if (!common.quiet)
        std::printf("resumed from %s: %s done; the base comes from the checkpoint\n", common.resume.c_str(),
                    count_of(at.step, "generation").c_str());
    } else if (!base_path.empty()) {
      load_dasnet_base(*base, base_path);
      if (!common.quiet) std::printf("base resnet20 from %s\n", base_path.c_str());
    } else {
      std::printf("no --base: training a resnet20 base for %s with train_cifar's recipe\n",
                  count_of(base_epochs, "epoch").c_str());
      train_dasnet_base(*base, train_set, test_loader, base_epochs, common);
    }
    base->eval();

    auto evaluate_gated = [&] {
      return evaluate_classifier(
          das, [&](const Tensor& x) { return das.forward(x); }, test_loader);
    };
    Evaluation frozen, evaluation;
    bool evaluated = false;
    try {  // say where: --detect-anomaly may stop a broken base here, before any generation
      frozen = evaluate_classifier(
          das, [&](const Tensor& x) { return base->forward(x); }, test_loader);
      if (at.step == 0) evaluation = evaluate_gated();
    } catch (const Error& e) {
      fail("training stopped before generation " + std::to_string(at.step + 1) +
           ", evaluating the frozen resnet20 on the test set: " + e.what());
    }
    if (at.step == 0) {
      evaluated = true;
      std::printf("frozen resnet20: test acc %.2f%% | dasNet with theta = 0: test acc %.2f%% (the same net)\n",
                  100 * frozen.accuracy, 100 * evaluation.accuracy);
    } else {
      std::printf("frozen resnet20: test acc %.2f%%\n", 100 * frozen.accuracy);
    }

    const int64_t total_generations = total_steps(common, generations);
    train_loader.start_epoch(at.step / batches, at.step % batches);  // generation g reads batch g of the stream
    MetricsLog metrics(common.log, common.plot, "dasnet");
    StopSignals stop;
    while (at.step < total_generations) {
      auto epoch_started = clock::now();
      const int64_t epoch_number = at.epoch + 1;
      const int64_t epoch_end = std::min(total_generations, (at.epoch + 1) * generations);
      double fitness_sum = 0;
      int64_t done = 0;
      for (; at.step < epoch_end; done++) {
        Batch batch;
        if (!train_loader.next(batch)) {
          train_loader.start_epoch(at.step / batches);
          train_loader.next(batch);
        }
        snes.reseed(step_seed(common.seed, at.step));
        std::vector<real> fitness;
        try {
          fitness = dasnet_snes_generation(snes, das, batch.images, batch.labels);
        } catch (const Error& e) {  // say where: e.g. the op --detect-anomaly caught
          throw training_stopped(at, e, "generation");
        }
        check_fitness(fitness, at, std::isfinite(frozen.loss));
        fitness_sum += *std::min_element(fitness.begin(), fitness.end());
        if (!common.quiet)
          std::printf("  generation %lld: %s\n", static_cast<long long>(at.step + 1),
                      describe_fitness(fitness).c_str());
        std::copy(snes.sigma().begin(), snes.sigma().end(), sigma.data());  // the checkpoint's copy
        at.step++;
        at.batch_in_epoch++;
        if (stop.received()) stop.end_run(checkpoints, at);
        checkpoints.save_if_due(at, generations, total_generations);
      }
      double seconds = std::chrono::duration<double>(clock::now() - epoch_started).count();
      evaluation = evaluate_gated();
      evaluated = true;
      const bool epoch_complete = at.batch_in_epoch == generations;
      std::printf(
          "epoch %lld%s: %s, best fitness %.4f | test loss %.4f acc %.2f%% (frozen %.2f%%) | %.1f s, "
          "%.2f gen/s\n",
          static_cast<long long>(epoch_number), epoch_complete ? "" : " (partial)",
          count_of(done, "generation").c_str(), fitness_sum / static_cast<double>(done), evaluation.loss,
          100 * evaluation.accuracy, 100 * frozen.accuracy, seconds, static_cast<double>(done) / seconds);
      std::fflush(stdout);
      if (epoch_complete) at = {.epoch = at.epoch + 1, .batch_in_epoch = 0, .step = at.step};
      checkpoints.save(at);
      // the CSV's train loss is the epoch's mean best fitness (a cross-entropy); there is no train accuracy
      metrics.add({.epoch = epoch_number,
                   .step = at.step,
                   .lr = common.lr,
                   .train_loss = fitness_sum / static_cast<double>(done),
                   .train_acc = 0,
                   .test_loss = evaluation.loss,
                   .test_acc = evaluation.accuracy,
                   .seconds = seconds,
                   .images_per_s = static_cast<double>(done * common.batch * population) / seconds});
      if (stop.received()) stop.end_run(checkpoints, at);
    }
    if (!evaluated) evaluation = evaluate_gated();  // a resumed run that had already finished
    metrics.draw();
    if (!common.quiet) checkpoints.print_last_save();
    std::printf("test accuracy: %.4f with all gates at one (frozen resnet20), %.4f with the learnt gates\n",
                frozen.accuracy, evaluation.accuracy);
    print_final_line({.test_accuracy = evaluation.accuracy,
                      .epochs = static_cast<double>(at.step) / static_cast<double>(generations),
                      .seconds = std::chrono::duration<double>(clock::now() - started).count()});
  } catch (const std::exception& e) {
    return report_failure("train_dasnet", e);
  }
  return 0;
}
