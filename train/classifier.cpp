#include "train/classifier.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "engine/parallel.h"
#include "io/checkpoint.h"
#include "optim/clip.h"
#include "optim/ema.h"
#include "train/metrics_log.h"
#include "train/plot.h"
#include "train/progress.h"

namespace glimpse {

CommonFlags add_common_flags(Flags& flags, CommonDefaults defaults) {
  return CommonFlags{
      .data = flags.add_string("data", "", "data directory; none: data/<set> if it holds the data, else the bundled sample"),
      .epochs = flags.add_int("epochs", defaults.epochs, defaults.epochs_help, 1, 100000),
      .batch = flags.add_int("batch", defaults.batch, defaults.batch_help, 1, 65536),
      .lr = flags.add_real("lr", defaults.lr, defaults.lr_help, 0, 1e6),
      .seed = flags.add_int("seed", 1, "seed of initialisation, shuffling, augmentation and dropout", 0),
      .threads = flags.add_int("threads", 0, "worker threads (0: GLIMPSE_NUM_THREADS, else all cores)", 0, 1024),
      .max_steps = flags.add_int("max-steps", 0, "stop after this many steps in all (0: no limit)", 0),
      .save = flags.add_string("save", "", "checkpoint file, written atomically after every epoch and at the end"),
      .save_every = flags.add_int("save-every", 0, "with --save: also write it every N steps (0: only per epoch)", 0),
      .resume = flags.add_string("resume", "", "checkpoint file to continue from"),
      .log = flags.add_string("log", "", "CSV file that gets one row of metrics per epoch"),
      .plot = flags.add_string("plot", "", "SVG file: loss and accuracy per epoch, drawn at the end"),
      .quiet = flags.add_bool("quiet", "print only the epoch summaries and the final line"),
      .detect_anomaly = flags.add_bool("detect-anomaly", "check every op's output and gradient for NaN/inf (slow)"),
  };
}

double& add_ema_flag(Flags& flags) {
  return flags.add_real("ema", 0,
                        "evaluate an exponential moving average of the weights with this decay per step, "
                        "e.g. 0.9999 (0: the trained weights)",
                        0, 0.999999999);
}

void apply_common_flags(const CommonFlags& flags, const std::string& program) {
  if (flags.threads > 0) set_num_threads(static_cast<int>(flags.threads));
  set_detect_anomaly(flags.detect_anomaly);
  if (!flags.quiet) std::printf("%s: %d threads\n", program.c_str(), num_threads());
}

Evaluation evaluate_classifier(Module& model, const std::function<Tensor(const Tensor&)>& forward, DataLoader& loader) {
  NoGradGuard no_grad;
  bool was_training = model.is_training();
  model.eval();
  loader.start_epoch(0);
  Batch batch;
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  while (loader.next(batch)) {
    Tensor logits = forward(batch.images);
    int64_t n = static_cast<int64_t>(batch.labels.size());
    loss_sum += cross_entropy(logits, batch.labels).item() * static_cast<double>(n);
    std::vector<int64_t> predicted = argmax(logits);
    for (int64_t i = 0; i < n; i++) correct += predicted[i] == batch.labels[i];
    seen += n;
  }
  model.train(was_training);
  if (seen == 0) fail("evaluate: the test loader produced no images");
  return {static_cast<double>(correct) / static_cast<double>(seen), loss_sum / static_cast<double>(seen)};
}

std::vector<NamedTensor> classifier_checkpoint_tensors(Module& model, Optimizer& optimizer, ExponentialMovingAverage* ema) {
  std::vector<NamedTensor> tensors;
  for (auto& [name, t] : model.state()) tensors.push_back({"model." + name, t});
  for (auto& [name, t] : optimizer.state()) tensors.push_back({"optim." + name, t});
  if (ema)
    for (auto& [name, t] : ema->state()) tensors.push_back({"ema." + name, t});
  return tensors;
}

// The decay as the checkpoint's metadata and its messages write it ("0" without --ema).
static std::string decay_text(double decay) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", decay);
  return text;
}

// A checkpoint holds averaged weights only if it was written under --ema; resuming must keep
// the same decay, or the average would change its meaning halfway.
static void check_resume_ema(const std::string& path, double ema_decay) {
  Metadata meta = read_checkpoint_metadata(path);
  auto it = meta.find("ema");
  std::string saved = it == meta.end() ? "0" : it->second;
  if (saved != decay_text(ema_decay))
    fail("--resume " + path + ": the checkpoint was written with --ema " + saved + ", this run has --ema " +
         decay_text(ema_decay) + "; resume with the same --ema");
}

[[noreturn]] static void non_finite(const char* what, double value, int64_t step, int64_t epoch) {
  fail(std::string("training stopped: the ") + what + " is " + std::to_string(value) + " at step " +
       std::to_string(step) + " (epoch " + std::to_string(epoch + 1) +
       "). Lower --lr, or rerun with --detect-anomaly to name the first op whose output is not finite.");
}

TrainResult train_classifier(ClassifierTraining& run, const CommonFlags& flags) {
  using clock = std::chrono::steady_clock;
  auto started = clock::now();
  if (!run.forward) run.forward = [&run](const Tensor& x) { return run.model->forward(x); };
  if (!run.lr_at) run.lr_at = [&flags](int64_t) { return flags.lr; };
  if (!run.step_loss)
    run.step_loss = [&run](const Batch& batch) {
      Tensor logits = run.forward(batch.images);          // (N, K)
      Tensor loss = cross_entropy(logits, batch.labels);  // mean over N
      return StepLoss{.loss = loss, .shown_loss = loss.item(), .predicted = argmax(logits.detach())};
    };
  if (!run.evaluate)
    run.evaluate = [&run] { return evaluate_classifier(*run.model, run.forward, *run.test_loader); };

  const int64_t steps_per_epoch = run.train_loader->batches_per_epoch();
  int64_t total_steps = flags.epochs * steps_per_epoch;
  if (flags.max_steps > 0) total_steps = std::min(total_steps, flags.max_steps);

  std::unique_ptr<ExponentialMovingAverage> ema;
  if (run.ema_decay > 0)
    ema = std::make_unique<ExponentialMovingAverage>(run.model->state(), static_cast<real>(run.ema_decay));
  // Under --ema the averaged weights are the ones evaluated and reported; the trained ones'
  // accuracy goes in the note.
  auto evaluate = [&] {
    if (!ema) return run.evaluate();
    Evaluation trained = run.evaluate();
    Evaluation averaged;
    {
      AveragedWeightsInPlace use(ema.get());
      averaged = run.evaluate();
    }
    char note[96];
    std::snprintf(note, sizeof note, " (averaged weights; trained weights %.2f%%)", 100 * trained.accuracy);
    averaged.note += note;
    return averaged;
  };

  int64_t epoch = 0, skip_batches = 0, step = 0;
  std::vector<NamedTensor> state = classifier_checkpoint_tensors(*run.model, *run.optimizer, ema.get());
  if (!flags.resume.empty()) {
    check_resume_ema(flags.resume, run.ema_decay);
    auto meta = load_checkpoint(flags.resume, state);
    const std::string& model = metadata_text(meta, "model", flags.resume);
    if (model != run.model_name)
      fail("--resume " + flags.resume + ": the checkpoint holds model '" + model + "', not '" + run.model_name + "'");
    epoch = metadata_int(meta, "epoch", flags.resume);
    skip_batches = metadata_int(meta, "batch_in_epoch", flags.resume, 0, steps_per_epoch);
    step = metadata_int(meta, "step", flags.resume);
    if (!flags.quiet)
      std::printf("resumed from %s: epoch %lld, step %lld\n", flags.resume.c_str(), static_cast<long long>(epoch + 1),
                  static_cast<long long>(step));
  }

  // A checkpoint says where the run stands: the next step, and the batch of the epoch it starts.
  auto save = [&](int64_t at_epoch, int64_t batch_in_epoch) {
    save_checkpoint(flags.save, state,
                    {{"model", run.model_name}, {"epoch", std::to_string(at_epoch)},
                     {"batch_in_epoch", std::to_string(batch_in_epoch)}, {"step", std::to_string(step)},
                     {"seed", std::to_string(flags.seed)}, {"batch", std::to_string(flags.batch)},
                     {"ema", decay_text(run.ema_decay)}});
  };

  std::vector<Tensor> params = run.model->parameters();
  Progress progress(flags.quiet);
  Evaluation evaluation;
  bool evaluated = false;
  std::vector<EpochMetrics> history;  // this call's epochs; the CSV log also holds earlier runs'
  const double no_clipping = std::numeric_limits<double>::infinity();
  while (epoch < flags.epochs && step < total_steps) {
    auto epoch_started = clock::now();
    run.model->train();
    if (run.before_epoch) run.before_epoch(epoch);
    run.train_loader->start_epoch(epoch, skip_batches);
    int64_t batch_in_epoch = skip_batches;
    skip_batches = 0;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    Batch batch;
    while (step < total_steps && run.train_loader->next(batch)) {
      double lr = run.lr_at(step);
      run.optimizer->lr = static_cast<real>(lr);
      run.model->reseed(static_cast<uint64_t>(flags.seed) * 1000003 + static_cast<uint64_t>(step));

      StepLoss loss;
      try {
        loss = run.step_loss(batch);
        double loss_value = loss.loss.item();
        if (!std::isfinite(loss_value)) non_finite("loss", loss_value, step, epoch);
        run.optimizer->zero_grad();
        backward(loss.loss);
        double norm = clip_grad_norm(params, run.clip_norm > 0 ? run.clip_norm : no_clipping);
        if (!std::isfinite(norm)) non_finite("gradient norm", norm, step, epoch);
        run.optimizer->step();
        if (ema) ema->update();
      } catch (const Error& e) {  // say where: e.g. the op --detect-anomaly caught
        if (std::string(e.what()).starts_with("training stopped")) throw;
        fail("training stopped at step " + std::to_string(step) + " (epoch " + std::to_string(epoch + 1) +
             "): " + e.what());
      }
      step++;
      batch_in_epoch++;
      // the periodic save; the end of an epoch and of the run save below anyway
      if (!flags.save.empty() && flags.save_every > 0 && step % flags.save_every == 0 && step < total_steps &&
          batch_in_epoch < steps_per_epoch)
        save(epoch, batch_in_epoch);

      int64_t n = static_cast<int64_t>(batch.labels.size());
      for (int64_t i = 0; i < n; i++) correct += loss.predicted[i] == batch.labels[i];
      loss_sum += loss.shown_loss * static_cast<double>(n);
      seen += n;
      double seconds = std::chrono::duration<double>(clock::now() - epoch_started).count();
      progress.update(epoch + 1, flags.epochs, step, total_steps, loss_sum / static_cast<double>(seen),
                      static_cast<double>(correct) / static_cast<double>(seen), static_cast<double>(seen) / seconds);
    }
    progress.finish_line();
    double train_seconds = std::chrono::duration<double>(clock::now() - epoch_started).count();
    bool epoch_complete = batch_in_epoch == steps_per_epoch;

    evaluation = evaluate();
    evaluated = true;
    EpochMetrics row{.epoch = epoch + 1, .step = step, .lr = run.lr_at(std::max<int64_t>(step - 1, 0)),
                     .train_loss = seen ? loss_sum / static_cast<double>(seen) : 0,
                     .train_acc = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0,
                     .test_loss = evaluation.loss, .test_acc = evaluation.accuracy, .seconds = train_seconds,
                     .images_per_s = static_cast<double>(seen) / train_seconds};
    std::printf("epoch %lld%s: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%%%s | %.1f s, %.0f img/s\n",
                static_cast<long long>(epoch + 1), epoch_complete ? "" : " (partial)", row.train_loss,
                100 * row.train_acc, row.test_loss, 100 * row.test_acc, evaluation.note.c_str(), row.seconds,
                row.images_per_s);
    std::fflush(stdout);
    if (!flags.log.empty()) append_metrics_csv(flags.log, row);
    history.push_back(row);

    if (epoch_complete) {
      epoch++;
      batch_in_epoch = 0;
    }
    if (!flags.save.empty()) save(epoch, batch_in_epoch);
  }

  if (!evaluated)  // a resumed run that had already finished: report where it stands
    evaluation = evaluate();
  if (!flags.plot.empty() && (!history.empty() || !flags.log.empty()))
    write_metrics_svg(flags.log.empty() ? history : read_metrics_csv(flags.log), flags.plot, run.model_name);
  TrainResult result;
  result.test_accuracy = evaluation.accuracy;
  result.epochs = epoch;
  result.seconds = std::chrono::duration<double>(clock::now() - started).count();
  double epochs_run = static_cast<double>(step) / static_cast<double>(steps_per_epoch);
  if (!evaluation.summary.empty()) std::printf("%s\n", evaluation.summary.c_str());
  if (run.before_final_line) {
    AveragedWeightsInPlace use(ema.get());
    run.before_final_line();
  }
  std::printf("final test_acc=%.4f epochs=%g seconds=%.1f\n", result.test_accuracy, epochs_run, result.seconds);
  return result;
}

}  // namespace glimpse
