#include "train/classifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "optim/ema.h"
#include "train/metrics_log.h"
#include "train/progress.h"
#include "train/step.h"
#include "train/stop_signals.h"

namespace glimpse {

Evaluation evaluate_classifier(Module& model, const std::function<Tensor(const Tensor&)>& forward, DataLoader& loader) {
  NoGradGuard no_grad;
  bool was_training = model.is_training();
  model.eval();
  loader.start_epoch(0);
  Batch batch;
  double loss_sum = 0;
  std::vector<uint8_t> right;
  while (loader.next(batch)) {
    Tensor logits = forward(batch.images);
    const size_t n = batch.labels.size();
    loss_sum += cross_entropy(logits, batch.labels).item() * static_cast<double>(n);
    std::vector<int64_t> predicted = argmax(logits);
    for (size_t i = 0; i < n; i++) right.push_back(predicted[i] == batch.labels[i]);
  }
  model.train(was_training);
  if (right.empty()) fail("evaluate: the test loader produced no images");
  const double seen = static_cast<double>(right.size());
  const auto correct = std::count(right.begin(), right.end(), 1);
  return {.accuracy = static_cast<double>(correct) / seen, .loss = loss_sum / seen, .right = std::move(right)};
}

std::vector<NamedTensor> classifier_checkpoint_tensors(Module& model, Optimizer& optimizer,
                                                       ExponentialMovingAverage* ema) {
  std::vector<NamedTensor> tensors;
  for (auto& [name, t] : model.state()) tensors.emplace_back("model." + name, t);
  for (auto& [name, t] : optimizer.state()) tensors.emplace_back("optim." + name, t);
  if (ema)
    for (auto& [name, t] : ema->state()) tensors.emplace_back("ema." + name, t);
  return tensors;
}

uint64_t step_seed(int64_t seed, int64_t step) {
  return static_cast<uint64_t>(seed) * 1000003 + static_cast<uint64_t>(step);
}

Metadata classifier_identity(const std::string& model_name, const TrainingFlags& flags, double ema_decay,
                             const Metadata& model_flags) {
  Metadata identity = model_flags;
  identity.insert({{"model", model_name},
                   {"seed", std::to_string(flags.seed)},
                   {"batch", std::to_string(flags.batch)},
                   {"ema", real_text(ema_decay)}});
  return identity;
}

void print_final_line(const TrainResult& result) {
  std::printf("final test_acc=%.4f epochs=%g seconds=%.1f\n", result.test_accuracy, result.epochs, result.seconds);
  std::fflush(stdout);
}

// Under --ema the averaged weights are the ones evaluated and reported; the trained ones'
// accuracy goes in the note.
static Evaluation evaluate_with_average(ClassifierTraining& run, ExponentialMovingAverage* ema) {
  if (!ema) return run.evaluate();
  Evaluation trained = run.evaluate();
  Evaluation averaged;
  {
    AveragedWeightsInPlace use(ema);
    averaged = run.evaluate();
  }
  char note[96];
  std::snprintf(note, sizeof note, " (averaged weights; trained weights %.2f%%)", 100 * trained.accuracy);
  averaged.note += note;
  return averaged;
}

static void fill_in_defaults(ClassifierTraining& run, const TrainingFlags& flags) {
  if (!run.lr_at) run.lr_at = [lr = flags.lr](int64_t) { return lr; };
  if (!run.step_loss)
    run.step_loss = [model = run.model](const Batch& batch) {
      Tensor logits = model->forward(batch.images);       // (N, K)
      Tensor loss = cross_entropy(logits, batch.labels);  // mean over N
      return StepLoss{.loss = loss, .shown_loss = loss.item(), .predicted = argmax(logits.detach())};
    };
  if (!run.evaluate)
    run.evaluate = [&run] {
      return evaluate_classifier(
          *run.model, [&run](const Tensor& x) { return run.model->forward(x); }, *run.test_loader);
    };
}

// One step: this step's learning rate and random draws, the loss, its gradients (averaged over
// the processes under mpirun) and the update, then the average of the weights under --ema. An
// error (a loss that is not finite, say) stops the run and names the step.
static StepLoss take_step(ClassifierTraining& run, const Batch& batch, const Position& at, int64_t seed,
                          DataParallel& parallel, ExponentialMovingAverage* ema) {
  run.optimizer->lr = static_cast<real>(run.lr_at(at.step));
  parallel.start_step(*run.model, batch, step_seed(seed, at.step));
  try {
    StepLoss loss = run.step_loss(batch);
    descend(*run.optimizer, parallel.weigh(loss.loss, batch), run.clip_norm, &parallel);
    if (ema) ema->update();
    return loss;
  } catch (const Error& e) {
    throw training_stopped(at, e);
  }
}

// The epoch's row of the log: its training figures (summed over the processes; the seconds of
// its training steps, without the evaluation) and the evaluation after it.
static EpochMetrics epoch_row(const Position& at, const EpochMeter& meter, double train_seconds, double lr,
                              const Evaluation& test) {
  return {.epoch = at.epoch + 1,
          .step = at.step,
          .lr = lr,
          .train_loss = meter.loss(),
          .train_acc = meter.accuracy(),
          .test_loss = test.loss,
          .test_acc = test.accuracy,
          .seconds = train_seconds,
          .images_per_s = meter.images() / train_seconds};
}

// The processes a step's gradients are averaged over: the trainer's, or this one alone. A trainer
// that has not shared its data out refuses to run under mpirun.
static DataParallel& processes_of(ClassifierTraining& run, DataParallel& alone) {
  if (!run.parallel && Communicator::world().size() > 1)
    fail(run.model_name + " does not train data-parallel: start it without mpirun");
  return run.parallel ? *run.parallel : alone;
}

// The checkpoint: the model's, the optimiser's and the average's tensors, and what a resume
// must match (the model, its flags, the data's flags, the seed, the batch).
static Checkpointer checkpointer_of(ClassifierTraining& run, const TrainingFlags& flags, ExponentialMovingAverage* ema,
                                    DataParallel& parallel) {
  Metadata run_flags = run.model_flags;
  run_flags.insert(run.data_flags.begin(), run.data_flags.end());
  return Checkpointer(classifier_checkpoint_tensors(*run.model, *run.optimizer, ema),
                      classifier_identity(run.model_name, flags, run.ema_decay, run_flags), parallel.output(flags.save),
                      flags.save_every);
}

// Where the run starts: at the beginning, or where --resume's checkpoint stood.
static Position start_position(Checkpointer& checkpoints, const TrainingFlags& flags, int64_t steps_per_epoch) {
  if (flags.resume.empty()) return {};
  const Position at = checkpoints.resume(flags.resume, steps_per_epoch);
  if (!flags.quiet)
    std::printf("resumed from %s: epoch %lld, step %lld\n", flags.resume.c_str(), static_cast<long long>(at.epoch + 1),
                static_cast<long long>(at.step));
  return at;
}

TrainResult train_classifier(ClassifierTraining& run, const TrainingFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  fill_in_defaults(run, flags);
  const int64_t steps_per_epoch = run.train_loader->batches_per_epoch();
  const int64_t total = total_steps(flags, steps_per_epoch);

  std::unique_ptr<ExponentialMovingAverage> ema;
  if (run.ema_decay > 0)
    ema = std::make_unique<ExponentialMovingAverage>(run.model->state(), static_cast<real>(run.ema_decay));
  DataParallel alone = DataParallel::none();
  DataParallel& parallel = processes_of(run, alone);
  Checkpointer checkpoints = checkpointer_of(run, flags, ema.get(), parallel);
  Position at = start_position(checkpoints, flags, steps_per_epoch);

  MetricsLog metrics(parallel.output(flags.log), parallel.output(flags.plot), run.model_name);
  Progress progress(flags.quiet);
  StopSignals stop;
  std::optional<Evaluation> test;  // the last epoch's
  while (at.epoch < flags.epochs && at.step < total) {
    run.model->train();
    if (run.before_epoch) run.before_epoch(at.epoch);
    run.train_loader->start_epoch(at.epoch, at.batch_in_epoch);  // this epoch's order; skip the batches done
    EpochMeter meter;
    Batch batch;
    while (at.step < total && run.train_loader->next(batch)) {
      const StepLoss loss = take_step(run, batch, at, flags.seed, parallel, ema.get());
      at.step++;
      at.batch_in_epoch++;
      meter.add(loss.shown_loss, loss.predicted, batch.labels);
      progress.update(at.epoch + 1, flags.epochs, at.step, total, meter.loss(), meter.accuracy(),
                      meter.images_per_second());
      if (stop.received()) {
        progress.finish_line();
        stop.end_run(checkpoints, at);
      }
      checkpoints.save_if_due(at, steps_per_epoch, total);
    }
    progress.finish_line();
    meter.add_other_processes([&parallel](double* totals, int64_t n) { parallel.sum(totals, n); });
    const double train_seconds = meter.seconds();

    test = evaluate_with_average(run, ema.get());
    const double last_lr = run.lr_at(std::max<int64_t>(at.step - 1, 0));
    const EpochMetrics row = epoch_row(at, meter, train_seconds, last_lr, *test);
    const bool epoch_complete = at.batch_in_epoch == steps_per_epoch;
    print_epoch_line(row, epoch_complete, test->note);
    if (epoch_complete) at = {.epoch = at.epoch + 1, .batch_in_epoch = 0, .step = at.step};
    checkpoints.save(at);  // first: a log that cannot be written (a full disk) loses no training
    metrics.add(row);
    if (stop.received()) stop.end_run(checkpoints, at);
  }

  if (!test)  // a resumed run that had already finished: report where it stands
    test = evaluate_with_average(run, ema.get());
  metrics.draw();
  if (!flags.quiet) checkpoints.print_last_save();
  if (parallel.active() && !flags.quiet)
    std::printf("data parallel: %d processes; %.3f s of the run averaging gradients\n", parallel.processes(),
                parallel.seconds_averaging());
  if (!test->summary.empty()) std::printf("%s\n", test->summary.c_str());
  if (ema) ema->swap();  // the averaged weights, for the trainer's pictures
  return TrainResult{.test_accuracy = test->accuracy,
                     .epochs = static_cast<double>(at.step) / static_cast<double>(steps_per_epoch),
                     .seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
}

}  // namespace glimpse
