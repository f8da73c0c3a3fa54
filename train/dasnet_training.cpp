#include "train/dasnet_training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "engine/wording.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/classifier.h"
#include "train/evaluation.h"
#include "train/metrics_log.h"
#include "train/step.h"
#include "train/stop_signals.h"

namespace glimpse {

namespace {

// "best fitness 2.1034, mean 2.2750" (lower is better: a cross-entropy)
std::string describe_fitness(const std::vector<real>& fitness) {
  double best = *std::min_element(fitness.begin(), fitness.end()), sum = 0;
  for (real f : fitness) sum += f;
  char text[96];
  std::snprintf(text, sizeof text, "best fitness %.4f, mean %.4f", best, sum / static_cast<double>(fitness.size()));
  return text;
}

// Stops the run (Error) at a candidate whose fitness is not finite, naming it and the generation;
// `base_is_finite`: whether the frozen resnet20's own test loss is, which says where to look.
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

// One generation at `at` on a batch: SNES re-seeded from the seed and the generation, then
// dasnet_snes_generation. Returns the best (lowest) fitness.
double dasnet_generation(Snes& snes, DasNet& das, DasnetPolicy policy, const Batch& batch, const Position& at,
                         int64_t seed, bool base_is_finite, bool quiet) {
  snes.reseed(step_seed(seed, at.step));
  std::vector<real> fitness;
  try {
    fitness = dasnet_snes_generation(snes, das, batch.images, batch.labels, policy);
  } catch (const Error& e) {  // say where: e.g. the op --detect-anomaly caught
    throw training_stopped(at, e, "generation");
  }
  check_fitness(fitness, at, base_is_finite);
  if (!quiet) {  // a line per generation, out at once: a log file shows where a long run is
    std::printf("  generation %lld: %s\n", static_cast<long long>(at.step + 1), describe_fitness(fitness).c_str());
    std::fflush(stdout);
  }
  return *std::min_element(fitness.begin(), fitness.end());
}

// "epoch 3: 25 generations, best fitness 1.0230 | test loss ... acc ...% (frozen ...%) | 41.0 s, 0.61 gen/s"
void print_dasnet_epoch_line(int64_t epoch_number, bool complete, int64_t generations_done, double mean_best_fitness,
                             const DasnetScores& scores, double seconds) {
  std::printf("epoch %lld%s: %s, best fitness %.4f | test loss %.4f acc %.2f%% (frozen %.2f%%) | %.1f s, %.2f gen/s\n",
              static_cast<long long>(epoch_number), complete ? "" : " (partial)",
              count_of(generations_done, "generation").c_str(), mean_best_fitness, scores.gated.loss,
              100 * scores.gated.accuracy, 100 * scores.frozen.accuracy, seconds,
              static_cast<double>(generations_done) / seconds);
  std::fflush(stdout);
}

// The batch of generation `step`: the next of the loader's stream, which starts its next epoch
// when one ends (an SNES epoch of generations need not be one of the loader).
Batch fitness_batch(DataLoader& loader, int64_t step) {
  Batch batch;
  if (!loader.next(batch)) {
    loader.start_epoch(step / loader.batches_per_epoch());
    loader.next(batch);
  }
  return batch;
}

}  // namespace

void load_dasnet_base(ResNet20& net, const std::string& path, int64_t holdout) {
  const Metadata metadata = read_checkpoint_metadata(path);
  const std::string model = metadata_text(metadata, "model", path);
  if (model != "resnet20") fail("--base " + path + ": holds model '" + model + "', not resnet20");
  const int64_t base_holdout = metadata.count("holdout") ? metadata_int(metadata, "holdout", path, 0) : 0;
  if (holdout > 0 && base_holdout != holdout)
    fail("--base " + path + " was trained " +
         (base_holdout == 0 ? std::string("on every training image")
                            : "with --holdout " + std::to_string(base_holdout)) +
         ", so some of the images --holdout " + std::to_string(holdout) +
         " scores the gates on are ones it learnt; train it with train_cifar --holdout " + std::to_string(holdout));
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

Checkpointer dasnet_checkpointer(DasNet& das, const Tensor& sigma, const DasnetRun& run) {
  std::vector<NamedTensor> state;
  for (auto& [name, t] : das.state()) state.emplace_back("model." + name, t);
  state.emplace_back("snes.sigma", sigma);
  Metadata identity{{"model", "dasnet"},
                    {"seed", std::to_string(run.flags.seed)},
                    {"batch", std::to_string(run.flags.batch)},
                    {"population", std::to_string(run.population)},
                    {"passes", std::to_string(run.passes)},
                    {"generations", std::to_string(run.generations)},
                    {"holdout", std::to_string(run.holdout)},
                    {"policy", run.policy == DasnetPolicy::full ? "full" : "diagonal"}};
  return Checkpointer(state, identity, run.flags.save, run.flags.save_every);
}

DasnetScores evaluate_frozen_and_gated(DasNet& das, DataLoader& test_loader, const Position& at, bool with_gated) {
  auto evaluate = [&](const std::string& what, const std::function<Tensor(const Tensor&)>& forward) {
    try {
      return evaluate_classifier(das, forward, test_loader);
    } catch (const Error& e) {  // --detect-anomaly may stop a broken base here
      fail("training stopped before generation " + std::to_string(at.step + 1) + ", evaluating " + what +
           " on the test set: " + e.what());
    }
  };
  DasnetScores scores;
  scores.frozen = evaluate("the frozen resnet20", [&](const Tensor& x) { return das.base->forward(x); });
  if (with_gated) scores.gated = evaluate("the gated network", [&](const Tensor& x) { return das.forward(x); });
  return scores;
}

Snes dasnet_snes(int64_t population, double sigma0, double eta_mu, int64_t seed, DasnetPolicy policy) {
  return Snes(std::vector<real>(static_cast<size_t>(policy_size(policy)), 0), static_cast<real>(sigma0),
              {.population = static_cast<int>(population),
               .eta_mu = static_cast<real>(eta_mu),
               .mirrored = population % 2 == 0,
               .seed = static_cast<uint64_t>(seed)});
}

DasnetScores search_gates(const DasnetSearch& search, const TrainingFlags& flags, Position& at, DasnetScores scores) {
  using clock = std::chrono::steady_clock;
  DasNet& das = *search.das;
  const int64_t total = total_steps(flags, search.generations);
  const int64_t batches = search.fitness_loader->batches_per_epoch();
  const bool base_is_finite = std::isfinite(scores.frozen.loss);
  search.fitness_loader->start_epoch(at.step / batches, at.step % batches);
  MetricsLog metrics(flags.log, flags.plot, "dasnet");
  StopSignals stop;
  while (at.step < total) {
    const auto started = clock::now();
    const int64_t epoch_number = at.epoch + 1;
    const int64_t epoch_end = std::min(total, epoch_number * search.generations);
    double fitness_sum = 0;
    int64_t done = 0;
    for (; at.step < epoch_end; done++) {
      const Batch batch = fitness_batch(*search.fitness_loader, at.step);
      fitness_sum +=
          dasnet_generation(*search.snes, das, search.policy, batch, at, flags.seed, base_is_finite, flags.quiet);
      std::copy(search.snes->sigma().begin(), search.snes->sigma().end(), search.sigma->data());
      at.step++;
      at.batch_in_epoch++;
      if (stop.received()) stop.end_run(*search.checkpoints, at);
      search.checkpoints->save_if_due(at, search.generations, total);
    }
    const double seconds = std::chrono::duration<double>(clock::now() - started).count();
    scores.gated = evaluate_classifier(
        das, [&](const Tensor& x) { return das.forward(x); }, *search.test_loader);
    const bool epoch_complete = at.batch_in_epoch == search.generations;
    const double mean_best_fitness = fitness_sum / static_cast<double>(done);
    print_dasnet_epoch_line(epoch_number, epoch_complete, done, mean_best_fitness, scores, seconds);
    if (epoch_complete) at = {.epoch = at.epoch + 1, .batch_in_epoch = 0, .step = at.step};
    search.checkpoints->save(at);  // before the log row: a full disk there loses no search
    // the CSV's train loss is the epoch's mean best fitness (a cross-entropy); there is no train accuracy
    const double images = static_cast<double>(done * flags.batch * search.snes->population());
    metrics.add({.epoch = epoch_number,
                 .step = at.step,
                 .lr = flags.lr,
                 .train_loss = mean_best_fitness,
                 .train_acc = 0,
                 .test_loss = scores.gated.loss,
                 .test_acc = scores.gated.accuracy,
                 .seconds = seconds,
                 .images_per_s = images / seconds});
    if (stop.received()) stop.end_run(*search.checkpoints, at);
  }
  metrics.draw();
  return scores;
}

}  // namespace glimpse
