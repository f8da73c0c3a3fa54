// train_mnist: trains mnist_cnn (the plain MNIST baseline of docs/MODELS.md) on MNIST.
//
//   build/train_mnist                        full MNIST from data/mnist, else the bundled sample
//   build/train_mnist --data DIR --epochs 3 --save runs/mnist.ckpt --log runs/mnist.csv
//
// The recipe: Adam (lr 1e-3), cosine decay of the learning rate to zero over the run, batch 64,
// inputs normalised with MNIST's mean and standard deviation (0.1307, 0.3081).
//
// This trainer writes its training loop out in full, to be read: epochs of steps (forward, loss,
// backward, update), an evaluation after each epoch, the metrics log and the checkpoints. The
// other trainers run the same loop from train/classifier.h.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "engine/wording.h"
#include "io/dataset.h"
#include "models/zoo.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/checkpointer.h"
#include "train/classifier.h"
#include "train/data_parallel.h"
#include "train/data_paths.h"
#include "train/metrics_log.h"
#include "train/progress.h"
#include "train/step.h"
#include "train/stop_signals.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("train_mnist", "Trains mnist_cnn on MNIST and reports its test accuracy.");
  TrainingFlags run{.epochs = 3, .batch = 64, .lr = 1e-3};
  declare_training_flags(flags, run);
  std::string& optimizer_name =
      flags.add_choice("optimizer", "adam", {"adam", "sgd"}, "adam, or SGD with momentum 0.9");
  flags.parse(argc, argv);
  check_output_paths(flags, run);

  try {
    const auto started = std::chrono::steady_clock::now();
    apply_training_flags(run, "train_mnist");
    DataLocation data = find_data(run.data, "mnist", run.quiet);
    ImageDataset train_set = load_mnist_dir(data.dir, true);
    ImageDataset test_set = load_mnist_dir(data.dir, false);
    for (const ImageDataset* set : {&train_set, &test_set})
      require_images(*set, data.dir, 1, 28, 10, std::string("mnist_cnn"));
    if (!run.quiet)
      std::printf("MNIST from %s: %s, %s\n", data.dir.c_str(), count_of(train_set.size(), "training image").c_str(),
                  count_of(test_set.size(), "test image").c_str());

    Rng rng(static_cast<uint64_t>(run.seed));
    std::shared_ptr<Module> model = create_model("mnist_cnn", rng);
    if (!run.quiet) std::printf("%s", model->print().c_str());

    DataParallel parallel(*model);  // under mpirun: this process's share of each batch, and averaged gradients
    DataLoader train_loader(train_set, parallel.share({.batch_size = run.batch,
                                                       .shuffle = true,
                                                       .seed = static_cast<uint64_t>(run.seed),
                                                       .mean = mnist_mean,
                                                       .stddev = mnist_stddev}));
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = mnist_mean, .stddev = mnist_stddev});
    std::unique_ptr<Optimizer> optimizer =
        make_optimizer(optimizer_name, model->parameters(), static_cast<real>(run.lr), 0.9f);
    const int64_t steps_per_epoch = train_loader.batches_per_epoch();
    const int64_t total = total_steps(run, steps_per_epoch);
    CosineLr schedule(static_cast<real>(run.lr), run.epochs * steps_per_epoch);

    // --save and --resume: the weights, the optimiser's state and where the run stands.
    Checkpointer checkpoints(classifier_checkpoint_tensors(*model, *optimizer),
                             classifier_identity("mnist_cnn", run, 0), parallel.output(run.save), run.save_every);
    Position at;  // epoch, batch in the epoch, step
    if (!run.resume.empty()) {
      at = checkpoints.resume(run.resume, steps_per_epoch);
      if (!run.quiet)
        std::printf("resumed from %s at step %lld\n", run.resume.c_str(), static_cast<long long>(at.step));
    }

    MetricsLog metrics(parallel.output(run.log), parallel.output(run.plot), "mnist_cnn");
    Progress progress(run.quiet);
    StopSignals stop;                // Ctrl-C: save and stop after the step under way
    std::optional<Evaluation> test;  // the last epoch's
    while (at.epoch < run.epochs && at.step < total) {
      model->train();
      train_loader.start_epoch(at.epoch, at.batch_in_epoch);  // this epoch's order; skip the batches done
      EpochMeter meter;
      Batch batch;
      while (at.step < total && train_loader.next(batch)) {
        optimizer->lr = schedule.lr_at(at.step);
        // dropout's draws: from (seed, step), so a resume repeats them; under mpirun the whole batch's
        parallel.start_step(*model, batch, step_seed(run.seed, at.step));
        Tensor logits, loss;
        try {
          logits = model->forward(batch.images);                           // (N, 10)
          loss = cross_entropy(logits, batch.labels);                      // mean over the batch
          descend(*optimizer, parallel.weigh(loss, batch), 0, &parallel);  // zero_grad, backward, step
        } catch (const Error& e) {
          throw training_stopped(at, e);
        }
        at.step++;
        at.batch_in_epoch++;
        meter.add(loss.item(), argmax(logits.detach()), batch.labels);
        progress.update(at.epoch + 1, run.epochs, at.step, total, meter.loss(), meter.accuracy(),
                        meter.images_per_second());
        if (stop.received()) stop.end_run(checkpoints, at);
        checkpoints.save_if_due(at, steps_per_epoch, total);
      }
      progress.finish_line();
      meter.add_other_processes([&](double* totals, int64_t n) { parallel.sum(totals, n); });
      const double train_seconds = meter.seconds();  // the epoch's steps, without the evaluation

      test = evaluate_classifier(
          *model, [&](const Tensor& x) { return model->forward(x); }, test_loader);
      EpochMetrics row{.epoch = at.epoch + 1,
                       .step = at.step,
                       .lr = optimizer->lr,
                       .train_loss = meter.loss(),
                       .train_acc = meter.accuracy(),
                       .test_loss = test->loss,
                       .test_acc = test->accuracy,
                       .seconds = train_seconds,
                       .images_per_s = static_cast<double>(meter.images()) / train_seconds};
      const bool epoch_complete = at.batch_in_epoch == steps_per_epoch;
      print_epoch_line(row, epoch_complete);
      if (epoch_complete) at = {.epoch = at.epoch + 1, .batch_in_epoch = 0, .step = at.step};
      checkpoints.save(at);  // before the log row: a full disk there loses no training
      metrics.add(row);
    }
    if (!test)  // a finished run resumed: nothing trained here, but say where it stands
      test = evaluate_classifier(
          *model, [&](const Tensor& x) { return model->forward(x); }, test_loader);
    metrics.draw();
    if (!run.quiet) checkpoints.print_last_save();
    print_final_line({.test_accuracy = test->accuracy,
                      .epochs = static_cast<double>(at.step) / static_cast<double>(steps_per_epoch),
                      .seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
  } catch (const std::exception& e) {
    return report_failure("train_mnist", e);
  }
  return 0;
}
