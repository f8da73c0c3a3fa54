// The parts the training loop is built from (train/): flags bound to plain values, one step of
// descent, the checkpointer, the epoch's meter. The loop itself, with every trainer, is tested
// from the command line in test_cli.cpp.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/ops.h"
#include "engine/wording.h"
#include "optim/sgd.h"
#include "train/checkpointer.h"
#include "train/metrics_log.h"
#include "train/plot.h"
#include "train/step.h"
#include "train/training_flags.h"

using namespace glimpse;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// What f prints on stdout: file descriptor 1 sent to a file while it runs.
template <typename F>
std::string captured_stdout(F f) {
  const fs::path file = fs::temp_directory_path() / ("glimpse_stdout_" + std::to_string(::getpid()));
  std::fflush(stdout);
  const int saved = dup(1);
  FILE* sink = std::fopen(file.c_str(), "w");
  dup2(fileno(sink), 1);
  f();
  std::fflush(stdout);
  dup2(saved, 1);
  close(saved);
  std::fclose(sink);
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(file);
  return text;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("glimpse_test_parts_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("flags bound to plain values take their defaults from them and parse into them", "[train]") {
  Flags flags("prog", "A test program.");
  TrainingFlags run{.epochs = 7, .batch = 32, .lr = 0.5};
  declare_training_flags(flags, run);
  CHECK_THAT(flags.help_text(), Contains("(default: 7)") && Contains("(default: 32)") && Contains("(default: 0.5)"));
  std::vector<std::string> words = {"prog", "--epochs", "3", "--save=a.ckpt", "--quiet"};
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  flags.parse(static_cast<int>(argv.size()), argv.data());
  CHECK(run.epochs == 3);
  CHECK(run.batch == 32);
  CHECK(run.save == "a.ckpt");
  CHECK(run.quiet);
  CHECK(total_steps(run, 10) == 30);
  run.max_steps = 12;
  CHECK(total_steps(run, 10) == 12);
}

TEST_CASE("descend takes one step of the optimiser, and refuses a loss that is not finite before it", "[train]") {
  Tensor w = Tensor::from_data({2}, {1, 2}).set_requires_grad();
  SGD sgd({w}, {.lr = 0.5f});
  descend(sgd, sum(w * w));                         // dL/dw = 2w
  CHECK(w.to_vector() == std::vector<real>{0, 0});  // w - 0.5 * 2w

  Tensor v = Tensor::from_data({2}, {1, 2}).set_requires_grad();
  SGD other({v}, {.lr = 0.5f});
  const real nan = std::numeric_limits<real>::quiet_NaN();
  CHECK_THROWS_WITH(descend(other, sum(v * Tensor::from_data({2}, {nan, 1}))),
                    Contains("the loss is nan") && Contains("--detect-anomaly"));
  CHECK(v.to_vector() == std::vector<real>{1, 2});  // not updated

  Tensor u = Tensor::from_data({2}, {3, 4}).set_requires_grad();
  SGD clipped({u}, {.lr = 1.0f});
  descend(clipped, sum(u * u), 1.0);  // the gradient (6, 8) clipped to norm 1: (0.6, 0.8)
  CHECK(u.data()[0] == Approx(2.4));
  CHECK(u.data()[1] == Approx(3.2));

  Error stopped = training_stopped({.epoch = 1, .batch_in_epoch = 2, .step = 6}, Error("the loss is nan"));
  CHECK(std::string(stopped.what()) == "training stopped at step 7 (epoch 2): the loss is nan");
}

TEST_CASE("the checkpointer saves where the run stands and resumes only the same run", "[train][checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  Tensor w = Tensor::from_data({3}, {1, 2, 3});
  Checkpointer saver({{"w", w}}, {{"model", "m"}, {"seed", "1"}, {"batch", "8"}}, path, 2);
  saver.save({.epoch = 1, .batch_in_epoch = 3, .step = 13});

  Tensor loaded = Tensor::zeros({3});
  Checkpointer same({{"w", loaded}}, {{"model", "m"}, {"seed", "1"}, {"batch", "8"}}, "", 0);
  Position at = same.resume(path, 5);
  CHECK(at.epoch == 1);
  CHECK(at.batch_in_epoch == 3);
  CHECK(at.step == 13);
  CHECK(loaded.to_vector() == w.to_vector());

  Checkpointer other_seed({{"w", loaded}}, {{"model", "m"}, {"seed", "2"}, {"batch", "8"}}, "", 0);
  CHECK_THROWS_WITH(other_seed.resume(path, 5),
                    Contains("written with --seed 1, this run has --seed 2; resume with the same --seed"));
  Checkpointer other_model({{"w", loaded}}, {{"model", "n"}, {"seed", "1"}, {"batch", "8"}}, "", 0);
  CHECK_THROWS_WITH(other_model.resume(path, 5), Contains("holds model 'm', not 'n'"));
  CHECK_THROWS_WITH(same.resume(path, 2), Contains("batch_in_epoch"));  // 3 batches done of an epoch of 2
  // a flag recorded only by later versions counts as its default in a checkpoint without it
  Checkpointer recorded_later({{"w", loaded}}, {{"model", "m"}, {"seed", "1"}, {"batch", "8"}, {"holdout", "0"}}, "",
                              0);
  CHECK(recorded_later.resume(path, 5).step == 13);
  Checkpointer holding_out({{"w", loaded}}, {{"model", "m"}, {"seed", "1"}, {"batch", "8"}, {"holdout", "50"}}, "", 0);
  CHECK_THROWS_WITH(holding_out.resume(path, 5), Contains("written with --holdout 0, this run has --holdout 50"));

  SECTION("weights that are not finite never replace the last good checkpoint") {
    const std::string good = bytes_of(path);
    w.data()[1] = std::numeric_limits<real>::infinity();
    CHECK_THROWS_WITH(saver.save({.epoch = 1, .batch_in_epoch = 4, .step = 14}),
                      Contains("not saved: 'w' holds a value that is not finite") && Contains(path));
    CHECK(bytes_of(path) == good);
  }
  SECTION("--save-every saves every N steps, but not where the loop saves anyway") {
    fs::remove(path);
    saver.save_if_due({.epoch = 0, .batch_in_epoch = 3, .step = 3}, 5, 100);  // not a multiple of 2
    CHECK_FALSE(fs::exists(path));
    saver.save_if_due({.epoch = 0, .batch_in_epoch = 5, .step = 4}, 5, 100);  // the end of the epoch
    CHECK_FALSE(fs::exists(path));
    saver.save_if_due({.epoch = 0, .batch_in_epoch = 2, .step = 100}, 5, 100);  // the end of the run
    CHECK_FALSE(fs::exists(path));
    saver.save_if_due({.epoch = 0, .batch_in_epoch = 4, .step = 4}, 5, 100);
    CHECK(read_checkpoint_metadata(path).at("step") == "4");
  }
}

TEST_CASE("a run's last save is named once, at its end", "[train][checkpoint]") {
  TempDir dir;
  const std::string path = (dir.path / "run.ckpt").string();
  Tensor w = Tensor::zeros({2});
  Checkpointer saver({{"w", w}}, {{"model", "m"}}, path, 0);
  const std::string nothing = captured_stdout([&] { saver.print_last_save(); });
  CHECK(nothing.empty());
  saver.save({.epoch = 2, .batch_in_epoch = 0, .step = 14});
  CHECK(captured_stdout([&] { saver.print_last_save(); }) ==
        "checkpoint written to " + path + " (step 14, after epoch 2)\n");
  saver.save({.epoch = 2, .batch_in_epoch = 3, .step = 17});
  CHECK(captured_stdout([&] { saver.print_last_save(); }) ==
        "checkpoint written to " + path + " (step 17, in epoch 3)\n");
}

TEST_CASE("the epoch meter averages the loss over images and counts the right predictions", "[train]") {
  EpochMeter meter;
  meter.add(1.0, {0, 1, 2, 3}, {0, 1, 0, 0});  // 4 images, 2 right
  meter.add(4.0, {5, 5}, {5, 5});              // 2 images, 2 right
  CHECK(meter.images() == 6);
  CHECK(meter.loss() == Approx((4 * 1.0 + 2 * 4.0) / 6));
  CHECK(meter.accuracy() == Approx(4.0 / 6));
}

TEST_CASE("the plot of a one-epoch run shows its point, on axes with round ticks", "[train][plot]") {
  TempDir dir;
  const std::string path = (dir.path / "one.svg").string();
  const EpochMetrics row{.epoch = 1, .train_loss = 2.44, .train_acc = 0.07, .test_loss = 2.2, .test_acc = 0.11};
  write_metrics_svg({row}, path, "one epoch");
  std::ifstream in(path);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t dots = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) dots++;
  CHECK(dots == 4 + 2);  // train and test, loss and accuracy, and the legend's two
  // the loss axis 0 to 2.5 in steps of 0.5, the accuracy axis 0 to 1 in steps of 0.2, epochs 0 and 1
  CHECK_THAT(svg, Contains(">0.5</text>") && Contains(">2.5</text>") && Contains(">0.4</text>") &&
                      Contains(">1.0</text>") && Contains(">1</text>"));
  CHECK_THAT(svg, !Contains(">2.56</text>") && !Contains(">0.125</text>"));
}

TEST_CASE("count_of writes a count with its noun in the singular or plural", "[train]") {
  CHECK(count_of(1, "epoch") == "1 epoch");
  CHECK(count_of(0, "epoch") == "0 epochs");
  CHECK(count_of(3, "thread") == "3 threads");
  CHECK(count_of(2, "class", "classes") == "2 classes");
}
