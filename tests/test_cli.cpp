// The trainers as a user meets them: their command lines ([cli]) and what happens when a run
// goes wrong ([faults]): a kill at any moment leaves a checkpoint that loads, --resume after it
// ends bitwise where an uninterrupted run ends, and a non-finite loss stops the run with a
// message naming the step (and, with --detect-anomaly, the op).
//
// Every requirement is checked for every trainer (train_mnist, train_cifar, train_stn, train_ram,
// train_dasnet). The binaries are the ones built next to this test (GLIMPSE_BINARY_DIR); every
// run uses a small cut of the bundled sample, a few steps and small batches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "io/dataset.h"
#include "io/image.h"
#include "io/image_grid.h"
#include "models/dasnet.h"
#include "models/resnet20.h"
#include "models/zoo.h"
#include "optim/ema.h"
#include "optim/sgd.h"
#include "tests/optional_packages.h"
#include "tests/program_testing.h"
#include "train/classifier.h"
#include "train/metrics_log.h"

using namespace glimpse;
using namespace glimpse::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kSampleMnist = std::string(GLIMPSE_SOURCE_DIR) + "/data/sample/mnist";

// A resnet20 checkpoint as train_cifar writes it (untrained: the parameters of seed 5); with
// `poisoned`, one bias of its last layer is NaN.
void write_resnet20_checkpoint(const std::string& path, bool poisoned) {
  Rng rng(5);
  ResNet20 net(rng);
  if (poisoned) net.fc->bias.data()[3] = std::numeric_limits<real>::quiet_NaN();
  SGD sgd(net.parameters(), {.lr = 0.1f, .momentum = 0.9f});
  save_checkpoint(path, classifier_checkpoint_tensors(net, sgd),
                  {{"model", "resnet20"}, {"epoch", "1"}, {"batch_in_epoch", "0"}, {"step", "0"}});
}

// The base of every train_dasnet run here (--base).
const std::string& tiny_dasnet_base() {
  static TempDir dir;
  static const std::string path = dir / "base.ckpt";
  if (!fs::exists(path)) write_resnet20_checkpoint(path, false);
  return path;
}

// The arguments of a short run of `trainer` on the small data sets above: small batches (and
// for train_dasnet a small population and few passes, generations of 3 per epoch), 2 threads,
// quiet.
std::string tiny_run(const std::string& trainer, const std::string& extra) {
  std::string common = " --threads 2 --seed 3 --quiet " + extra;
  if (trainer == "train_cifar") return "--data " + tiny_cifar_dir() + " --batch 8" + common;
  if (trainer == "train_dasnet") {  // a resumed run takes its base from the checkpoint
    const std::string base = extra.find("--resume") == std::string::npos ? " --base " + tiny_dasnet_base() : "";
    return "--data " + tiny_cifar_dir() + base + " --batch 4 --population 2 --passes 2 --generations 3" + common;
  }
  return "--data " + tiny_mnist_dir() + " --batch 8" + common;  // train_mnist, train_stn, train_ram, stn_pose_study
}

std::string mnist_run(const std::string& extra) { return tiny_run("train_mnist", extra); }

// The help text of each flag: from its "  --name" line up to the next flag's.
std::string flag_help(const std::string& help, const std::string& name) {
  size_t at = help.find("\n  --" + name + " ");
  if (at == std::string::npos) at = help.find("\n  --" + name + "\n");
  if (at == std::string::npos) return "";
  size_t next = help.find("\n  --", at + 1);
  return help.substr(at, next == std::string::npos ? std::string::npos : next - at);
}

// Starts `program` with `arguments` (split at spaces) as a child process, output discarded.
pid_t start(const std::string& program, const std::string& arguments) {
  std::vector<std::string> words = {kBinaryDir + "/" + program};
  for (size_t begin = 0, end; begin < arguments.size(); begin = end + 1) {
    end = arguments.find(' ', begin);
    if (end == std::string::npos) end = arguments.size();
    if (end > begin) words.push_back(arguments.substr(begin, end - begin));
  }
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// start(program, arguments), then waits until `file` exists (e.g. its first checkpoint) or the
// program has ended, however slow the machine (a sanitizer build beside other work takes tens of
// seconds to a first checkpoint); after 10 minutes it stops waiting, so a hang fails the test.
// The program is left to be reaped by the caller's waitpid.
pid_t start_and_wait_for(const std::string& file, const std::string& program, const std::string& arguments) {
  pid_t pid = start(program, arguments);
  auto ended = [pid] {
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (!fs::exists(file) && !ended() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return pid;
}

// Runs `trainer` for `steps` steps in one go and, in a second directory, for `split` steps and
// then --resume'd to `steps`: both must end with the very same checkpoint bytes (parameters,
// optimiser or SNES state, metadata).
// The checkpoint (its bytes) that a tiny run of train_stn (or of `program`, which takes its flags)
// of `steps` steps with `extra` flags saves.
std::string stn_checkpoint_after(int steps, const std::string& extra, const std::string& program = "train_stn") {
  TempDir dir;
  const std::string path = dir / "run.ckpt";
  Outcome outcome =
      run(program, tiny_run(program, extra + " --max-steps " + std::to_string(steps) + " --save " + path));
  INFO(outcome.output);
  REQUIRE(outcome.status == 0);
  return file_bytes(path);
}

// A tiny `trainer` run with `extra` flags is refused: status 1, and the output says `message`.
void check_refused(const std::string& trainer, const std::string& extra, const std::string& message) {
  Outcome outcome = run(trainer, tiny_run(trainer, extra));
  INFO(trainer << " " << extra << "\n" << outcome.output);
  CHECK(outcome.status == 1);
  CHECK_THAT(outcome.output, Contains(message));
}

// A tiny `trainer` run with `extra` flags is a usage error: status 2, the message and the hint
// to --help (flags that exclude or need each other, as a bad value).
void check_usage_error(const std::string& trainer, const std::string& extra, const std::string& message) {
  Outcome outcome = run(trainer, tiny_run(trainer, extra));
  INFO(trainer << " " << extra << "\n" << outcome.output);
  CHECK(outcome.status == 2);
  CHECK_THAT(outcome.output, Contains(message) && Contains("Run '" + trainer + " --help'"));
}

void check_resume_is_bitwise(const std::string& trainer, int split, int steps, const std::string& extra = "") {
  INFO(trainer << ", split at step " << split << " of " << steps);
  TempDir dir;
  const std::string whole = dir / "whole.ckpt", part = dir / "split.ckpt";
  Outcome uninterrupted =
      run(trainer, tiny_run(trainer, extra + " --max-steps " + std::to_string(steps) + " --save " + whole));
  INFO(uninterrupted.output);
  REQUIRE(uninterrupted.status == 0);
  Outcome first = run(trainer, tiny_run(trainer, extra + " --max-steps " + std::to_string(split) + " --save " + part));
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(read_checkpoint_metadata(part).at("step") == std::to_string(split));
  Outcome second = run(trainer, tiny_run(trainer, extra + " --max-steps " + std::to_string(steps) + " --resume " +
                                                      part + " --save " + part));
  INFO(second.output);
  REQUIRE(second.status == 0);
  CHECK(read_checkpoint_metadata(part).at("step") == std::to_string(steps));
  CHECK(file_bytes(part) == file_bytes(whole));
}

// Kills a `trainer` run that saves every 2 steps at a random moment after its first
// checkpoint (possibly while it writes the next one), checks that the checkpoint left behind
// loads and sits at a multiple of 2 steps, and that --resume from it ends with the bytes of an
// uninterrupted run.
// (An epoch's end also saves: `extra` keeps epochs a multiple of 2 steps long.)
void check_kill_and_resume(const std::string& trainer, int steps, int max_wait_us, const std::string& extra = "") {
  INFO(trainer);
  TempDir dir;
  const std::string every = extra + " --save-every 2 --max-steps " + std::to_string(steps) + " ";
  Outcome whole = run(trainer, tiny_run(trainer, every + "--save " + dir / "whole.ckpt"));
  INFO(whole.output);
  REQUIRE(whole.status == 0);

  std::mt19937 random(std::random_device{}());
  const std::string path = dir / "killed.ckpt";
  int kills = 0;
  // A short run (train_dasnet's, 0.3 s on a fast core) may finish before the kill; the attempts stop
  // at the first kill, so a generous number costs time only where the runs keep finishing first.
  for (int attempt = 0; attempt < 20 && kills < 1; attempt++) {
    fs::remove(path);
    // from its first checkpoint on, kill it at a random moment of the steps that follow
    pid_t pid = start_and_wait_for(path, trainer, tiny_run(trainer, every + "--save " + path));
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, max_wait_us)(random)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) continue;  // it finished first: try again
    kills++;

    Metadata metadata = read_checkpoint_metadata(path);  // checks the whole file: size, checksum, structure
    INFO("killed at step " << metadata.at("step") << " or after");
    CHECK(std::stoll(metadata.at("step")) % 2 == 0);
    Outcome resumed = run(trainer, tiny_run(trainer, every + "--resume " + path + " --save " + path));
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK(file_bytes(path) == file_bytes(dir / "whole.ckpt"));
  }
  CHECK(kills > 0);
}

}  // namespace

const std::vector<std::string> kTrainers = {"train_mnist", "train_cifar", "train_stn", "train_ram", "train_dasnet"};

TEST_CASE("trainers refuse an unknown flag with status 2", "[cli]") {
  for (const std::string& trainer : kTrainers) {
    INFO(trainer);
    Outcome outcome = run(trainer, "--epochz 3");
    CHECK(outcome.status == 2);
    CHECK_THAT(outcome.output, Contains("unknown flag --epochz") && Contains("--help"));
  }
  Outcome positional = run("train_mnist", "mnist");
  CHECK(positional.status == 2);
  CHECK_THAT(positional.output, Contains("unexpected argument 'mnist'"));
}

TEST_CASE("trainers refuse a bad value with status 2", "[cli]") {
  struct Case {
    const char* arguments;
    const char* message;
  };
  for (Case c :
       {Case{"--epochs abc", "--epochs abc: not a whole number"},
        Case{"--epochs 2.5", "--epochs 2.5: not a whole number"}, Case{"--epochs 0", "--epochs 0: must be from 1"},
        Case{"--lr -1", "--lr -1: must be from 0"}, Case{"--lr nan", "--lr nan: not a finite number"},
        Case{"--batch=", "--batch : not a whole number"}, Case{"--seed", "--seed needs a value"},
        Case{"--quiet=yes", "--quiet takes no value"}, Case{"--threads 99999999999999999999", "not a whole number"}}) {
    INFO(c.arguments);
    Outcome outcome = run("train_mnist", c.arguments);
    CHECK(outcome.status == 2);
    CHECK_THAT(outcome.output, Contains(c.message));
  }
  Outcome sgd = run("train_mnist", "--optimizer adagrad");
  CHECK(sgd.status == 2);
  CHECK_THAT(sgd.output, Contains("choose one of: adam, sgd"));
  // and each trainer's own flags
  struct OwnCase {
    const char* trainer;
    const char* arguments;
    const char* message;
  };
  for (OwnCase c :
       {OwnCase{"train_cifar", "--width 0", "--width 0: must be from 1"},
        OwnCase{"train_cifar", "--momentum 1.5", "--momentum 1.5: must be from 0 to 1"},
        OwnCase{"train_cifar", "--lr-drops 30,20", "--lr-drops 30,20: the numbers must increase"},
        OwnCase{"train_cifar", "--lr-drops 20,x", "--lr-drops 20,x: 'x' is not a number of epochs from 1 to 49"},
        OwnCase{"train_cifar", "--lr-drops 50", "--lr-drops 50: '50' is not a number of epochs from 1 to 49"},
        OwnCase{"train_cifar", "--lr-drops 20,", "--lr-drops 20,: ends with a comma"},
        OwnCase{"train_stn", "--dataset spiral", "choose one of: rts, mnist"},
        OwnCase{"train_stn", "--no-transformer=1", "--no-transformer takes no value"},
        OwnCase{"train_ram", "--dataset rotated", "choose one of: mnist, translated, cluttered"},
        OwnCase{"train_ram", "--mc-samples 0", "--mc-samples 0: must be from 1"},
        OwnCase{"train_ram", "--clip x", "--clip x: not a finite number"},
        OwnCase{"train_dasnet", "--population 1", "--population 1: SNES ranks candidates; give it at least 2"},
        OwnCase{"train_dasnet", "--sigma 0", "--sigma 0: must be from"},
        OwnCase{"train_dasnet", "--lr 0", "--lr 0: SNES's eta_mu must be above 0"},
        OwnCase{"train_dasnet", "--generations", "--generations needs a value"}}) {
    INFO(c.trainer << " " << c.arguments);
    Outcome outcome = run(c.trainer, c.arguments);
    CHECK(outcome.status == 2);
    CHECK_THAT(outcome.output, Contains(c.message) && Contains("--help"));
  }
}

TEST_CASE("trainer --help lists every flag with its default", "[cli]") {
  const std::vector<std::string> common = {"data",      "epochs",         "batch",         "lr",     "seed", "threads",
                                           "max-steps", "save",           "save-every",    "resume", "log",  "plot",
                                           "quiet",     "detect-anomaly", "per-process-bn"};
  struct Trainer {
    const char* name;
    std::vector<std::string> own_flags;
    std::vector<std::string> defaults;  // "--flag ... (default: value)" for a few of them
  };
  for (const Trainer& trainer :
       {Trainer{"train_mnist", {"optimizer"}, {"epochs:3", "batch:64", "lr:0.001", "optimizer:adam", "quiet:off"}},
        Trainer{
            "train_cifar",
            {"ema", "model", "width", "momentum", "weight-decay", "warmup-epochs", "lr-drops", "visualize", "holdout"},
            {"model:resnet20", "epochs:50", "batch:128", "lr:0.1", "momentum:0.9", "weight-decay:0.0005", "holdout:0"}},
        Trainer{"train_stn",
                {"ema", "model", "dataset", "no-transformer", "redraw", "visualize", "optimizer", "momentum",
                 "warmup-epochs", "clip", "loc-lr-factor"},
                {"model:stn_mnist", "dataset:rts", "epochs:10", "batch:64", "lr:0.01", "optimizer:sgd", "momentum:0.9",
                 "no-transformer:off", "redraw:off", "clip:1", "warmup-epochs:0", "loc-lr-factor:1"}},
        Trainer{"stn_pose_study",  // tools/: train_stn's flags, less --visualize, and the study's
                {"ema", "dataset", "no-transformer", "redraw", "optimizer", "momentum", "warmup-epochs", "clip",
                 "loc-lr-factor", "pose-supervision", "report", "mistakes"},
                {"dataset:rts", "epochs:10", "batch:64", "lr:0.01", "optimizer:sgd", "pose-supervision:0", "report:off",
                 "mistakes:none"}},
        Trainer{
            "train_ram",
            {"ema", "dataset", "glimpses", "mc-samples", "visualize", "reinforce-into-core", "clip", "location-std"},
            {"dataset:mnist", "epochs:20", "batch:64", "lr:0.001", "mc-samples:1", "clip:5"}},
        Trainer{"train_dasnet",
                {"base", "base-epochs", "population", "generations", "passes", "sigma", "holdout", "policy"},
                {"base:none", "base-epochs:3", "epochs:2", "batch:32", "lr:1", "population:8", "generations:25",
                 "passes:5", "sigma:0.005", "holdout:0", "policy:full"}}}) {
    INFO(trainer.name);
    Outcome outcome = run(trainer.name, "--help");
    CHECK(outcome.status == 0);
    CHECK_THAT(outcome.output, Contains(std::string("usage: ") + trainer.name));
    std::vector<std::string> flags = common;
    flags.insert(flags.end(), trainer.own_flags.begin(), trainer.own_flags.end());
    for (const std::string& flag : flags) {
      INFO("--" << flag);
      std::string help = flag_help(outcome.output, flag);
      CHECK_FALSE(help.empty());
      CHECK_THAT(help, Contains("(default: "));
    }
    for (const std::string& pair : trainer.defaults) {
      std::string flag = pair.substr(0, pair.find(':')), value = pair.substr(pair.find(':') + 1);
      CHECK_THAT(flag_help(outcome.output, flag), Contains("(default: " + value + ")"));
    }
    // no flag the help does not document: every "  --" line is one of the expected flags
    size_t count = 0;
    for (size_t at = outcome.output.find("\n  --"); at != std::string::npos; at = outcome.output.find("\n  --", at + 1))
      count++;
    CHECK(count == flags.size() + 2);  // + --help, --version
  }
}

TEST_CASE("a missing --data dir says where the data should be and how to get it", "[cli]") {
  for (const std::string& trainer : kTrainers) {
    INFO(trainer);
    Outcome outcome = run(trainer, "--data /nonexistent/glimpse-data --epochs 1");
    CHECK(outcome.status == 1);
    CHECK_THAT(outcome.output,
               Contains("--data /nonexistent/glimpse-data: no such directory") && Contains("scripts/download_data.sh"));
    const bool cifar = trainer == "train_cifar" || trainer == "train_dasnet";
    CHECK_THAT(outcome.output, Contains(cifar ? "data_batch_1" : "train-images-idx3-ubyte"));
    // a directory that exists but holds no data set
    TempDir empty;
    Outcome nothing = run(trainer, "--data " + empty.path.string());
    CHECK(nothing.status == 1);
    CHECK_THAT(nothing.output, Contains(cifar ? "no cifar10 data there" : "no mnist data there") &&
                                   Contains("scripts/download_data.sh"));
  }
}

TEST_CASE("train_cifar with an unknown --model lists the known ones", "[cli]") {
  Outcome outcome = run("train_cifar", "--model resnet21");
  CHECK(outcome.status == 2);
  CHECK_THAT(outcome.output, Contains("--model resnet21: unknown value; choose one of:") && Contains("resnet20"));
}

// A flag that takes a value took the next flag as its value: "--save --quiet" wrote a checkpoint
// named --quiet. A separate value that starts with -- is refused (status 2), naming both and the
// --flag=--value form that still gives such a value; a negative number has one dash and passes.
TEST_CASE("a flag's value may not be the next flag", "[cli]") {
  for (const std::string& trainer : kTrainers) {
    INFO(trainer);
    Outcome outcome = run(trainer, "--save --quiet");
    CHECK(outcome.status == 2);
    CHECK_THAT(outcome.output, Contains("--save needs a value, but the next argument '--quiet' is a flag") &&
                                   Contains("write --save=--quiet") && Contains("--help"));
  }
  Outcome seed = run("train_mnist", "--seed --epochs 3");
  CHECK(seed.status == 2);
  CHECK_THAT(seed.output, Contains("--seed needs a value, but the next argument '--epochs' is a flag"));
  Outcome negative = run("train_mnist", "--lr -1");  // a value, refused by its range
  CHECK(negative.status == 2);
  CHECK_THAT(negative.output, Contains("--lr -1: must be from 0"));
  Outcome attached = run("train_mnist", "--data=--nowhere --epochs 1");  // the = form takes it as a value
  CHECK(attached.status == 1);
  CHECK_THAT(attached.output, Contains("--data --nowhere: no such directory"));
}

// convert_cifar10 and plot_metrics read positional arguments: --help printed the usage as an
// error (status 2); it prints it on stdout with status 0, and another flag is a usage error.
TEST_CASE("convert_cifar10 and plot_metrics --help print the usage with status 0", "[cli]") {
  for (std::string program : {"convert_cifar10", "plot_metrics"}) {
    INFO(program);
    for (std::string arguments : {"--help", "-h", "a b --help"}) {
      Outcome help = run(program, arguments + " 2>/dev/null");
      CHECK(help.status == 0);
      CHECK_THAT(help.output, Contains("usage: " + program));
    }
    Outcome unknown = run(program, "--quiet a b");
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.output, Contains("unknown flag '--quiet'") && Contains("usage: " + program));
    Outcome none = run(program, "");
    CHECK(none.status == 2);
  }
  // more runs than a comparison has colours: wrong arguments too, before any file is read
  Outcome nine = run("plot_metrics", "--compare out.svg 1.csv 2.csv 3.csv 4.csv 5.csv 6.csv 7.csv 8.csv 9.csv");
  CHECK(nine.status == 2);
  CHECK_THAT(nine.output, Contains("at most 8 runs, got 9") && Contains("usage: plot_metrics"));
}

// The benchmarks read their arguments by hand: --help ran bench_gemm's whole benchmark, and
// bench_ops_basic took it for a number of repeats (0: every time printed as 1e30 ms).
TEST_CASE("the benchmarks answer --help with status 0 and refuse a bad value with status 2", "[cli]") {
  const std::vector<std::pair<std::string, std::string>> bad_values = {{"bench_gemm", "--threads x"},
                                                                       {"bench_ops_basic", "--repeats 0"},
                                                                       {"bench_step", "--model resnet20 --steps 0"},
                                                                       {"bench_data_loader", "--cifar"},
                                                                       {"rounding_growth", "data/sample/cifar10 2x"},
                                                                       {"parity_step", "step"}};
  for (const auto& [program, bad] : bad_values) {
    INFO(program);
    Outcome help = run(program, "--help", true);
    CHECK(help.status == 0);
    CHECK_THAT(help.output, Contains("usage: " + program));
    Outcome refused = run(program, bad);
    CHECK(refused.status == 2);
    CHECK_THAT(refused.output, Contains(program + ": "));
  }
}

// Flags that exclude or need each other were refused after parsing with status 1, as if a run
// had failed; the README promises 2 for a wrong flag. (train_stn's are checked with their own
// features below.)
TEST_CASE("flag combinations a trainer refuses are usage errors, status 2", "[cli]") {
  check_usage_error("train_cifar", "--model resnet20 --visualize x.png", "--visualize draws the attention");
  check_usage_error("train_stn", "--no-transformer --visualize x.png", "drop --no-transformer");
  check_usage_error("stn_pose_study", "--dataset rts-upright --report", "need the generator's record");
}

// A tiny MNIST folder whose sets are cut or replaced: `train` and `test` images of the sample.
std::string mnist_dir_with(const TempDir& dir, int64_t train, int64_t test) {
  write_mnist(subset(load_mnist_dir(kSampleMnist, true), 0, train), dir / "train-images-idx3-ubyte",
              dir / "train-labels-idx1-ubyte");
  write_mnist(subset(load_mnist_dir(kSampleMnist, false), 0, test), dir / "t10k-images-idx3-ubyte",
              dir / "t10k-labels-idx1-ubyte");
  return dir.path.string();
}

// train_ram --dataset cluttered on a one-image test set died of SIGFPE (a random integer in an
// empty range); digits that are not 28x28 were read past their end (train_ram, train_stn) and
// trained on with status 0. Both are refused with status 1 and a message naming the set.
TEST_CASE("the distorted-MNIST trainers refuse sets they cannot distort", "[cli]") {
  TempDir one_test;
  mnist_dir_with(one_test, 40, 1);
  Outcome one = run("train_ram", "--data " + one_test.path.string() + " --dataset cluttered --max-steps 1 --quiet");
  INFO(one.output);
  CHECK(one.status == 1);
  CHECK_THAT(one.output, Contains("the test digits") && Contains("needs at least 2 digits; the set has 1"));
  // write_stn_digits writes 42x42 rts digits as MNIST files: not digits to distort again
  TempDir big;
  Outcome written = run("write_stn_digits", "--data " + tiny_mnist_dir() + " --out " + big.path.string());
  REQUIRE(written.status == 0);
  for (auto [trainer, dataset] : {std::pair{"train_ram", "translated"},
                                  {"train_ram", "cluttered"},
                                  {"train_stn", "rts"},
                                  {"stn_pose_study", "rts"},
                                  {"stn_pose_study", "rts-upright"}}) {
    Outcome outcome = run(trainer, "--data " + big.path.string() + " --dataset " + dataset + " --max-steps 1 --quiet");
    INFO(trainer << " --dataset " << dataset << "\n" << outcome.output);
    CHECK(outcome.status == 1);
    CHECK_THAT(outcome.output, Contains("the training digits") && Contains("the digits are 1x42x42") &&
                                   Contains("take 1x28x28 MNIST digits"));
  }
}

// A CIFAR-10 image folder whose test/ lacks a class trained to test accuracy 0.0000 (every label
// after the class shifted); the trainers refuse it, naming the class and both folders.
TEST_CASE("a CIFAR-10 image folder whose train/ and test/ classes differ is refused", "[cli]") {
  TempDir dir;
  fs::copy(tiny_cifar_dir(), dir.path, fs::copy_options::recursive);
  fs::remove_all(dir.path / "test" / "cat");
  for (std::string trainer : {"train_cifar", "train_dasnet"}) {
    Outcome outcome = run(trainer, "--data " + dir.path.string() + " --max-steps 1 --quiet");
    INFO(trainer << "\n" << outcome.output);
    CHECK(outcome.status == 1);
    CHECK_THAT(outcome.output, Contains("class folder 'cat' is in '" + (dir.path / "train").string() +
                                        "' but not in '" + (dir.path / "test").string() + "'"));
  }
}

// A metadata entry as a checkpoint stores it: u32 length and bytes of the key, then of the value.
std::string metadata_entry(const std::string& key, const std::string& value) {
  auto field = [](const std::string& text) { return std::string{char(text.size()), 0, 0, 0} + text; };
  return field(key) + field(value);
}

// Edits a checkpoint as a user could: the bytes `from` replaced by `to` (of the same length), the
// FNV-1a checksum recomputed, so that the file passes every check before the metadata's meaning.
void edit_checkpoint(const std::string& path, const std::string& from, const std::string& to) {
  std::string bytes = file_bytes(path);
  const size_t at = bytes.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(from.size() == to.size());
  bytes.replace(at, from.size(), to);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i + 8 < bytes.size(); i++) h = (h ^ static_cast<uint8_t>(bytes[i])) * 0x100000001b3ull;
  for (int b = 0; b < 8; b++) bytes[bytes.size() - 8 + b] = static_cast<char>(h >> (8 * b));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A run that saves says where, once, at its end (a line per save would drown the epoch lines).
TEST_CASE("a run with --save says where its checkpoint went, once", "[cli]") {
  TempDir dir;
  const std::string path = dir / "run.ckpt";
  Outcome outcome =
      run("train_mnist", "--data " + tiny_mnist_dir() + " --batch 8 --threads 2 --max-steps 2 --save " + path);
  INFO(outcome.output);
  REQUIRE(outcome.status == 0);
  const std::string said = "checkpoint written to " + path + " (step 2, in epoch 1)\n";
  CHECK_THAT(outcome.output, Contains(said) && Contains("train_mnist: 2 threads"));
  CHECK(outcome.output.find(said) == outcome.output.rfind(said));
}

// A checkpoint whose metadata was edited (checksum valid) gave "stoll" or "map::at" on --resume;
// the message names the key, the file and what was expected.
TEST_CASE("resuming from a checkpoint with edited metadata names the key, the file and what it expected", "[cli]") {
  TempDir dir;
  for (auto [trainer, model] :
       {std::pair<std::string, std::string>{"train_mnist", "mnist_cnn"}, {"train_dasnet", "dasnet"}}) {
    INFO(trainer);
    const std::string path = dir / (trainer + ".ckpt"), resume = "--max-steps 3 --resume " + path;
    Outcome saved = run(trainer, tiny_run(trainer, "--max-steps 2 --save " + path));
    INFO(saved.output);
    REQUIRE(saved.status == 0);
    edit_checkpoint(path, metadata_entry("step", "2"), metadata_entry("step", "x"));
    Outcome not_a_number = run(trainer, tiny_run(trainer, resume));
    CHECK(not_a_number.status == 1);
    CHECK_THAT(not_a_number.output,
               Contains("checkpoint '" + path + "': metadata 'step' is 'x', expected a whole number from 0"));
    edit_checkpoint(path, metadata_entry("step", "x"), metadata_entry("stop", "2"));
    Outcome missing = run(trainer, tiny_run(trainer, resume));
    CHECK(missing.status == 1);
    CHECK_THAT(missing.output, Contains("checkpoint '" + path + "': no metadata entry 'step'"));
    edit_checkpoint(path, metadata_entry("model", model), metadata_entry("mode!", model));
    Outcome no_model = run(trainer, tiny_run(trainer, resume));
    CHECK(no_model.status == 1);
    CHECK_THAT(no_model.output, Contains("checkpoint '" + path + "': no metadata entry 'model'"));
  }
}

// A non-finite loss (or, for train_dasnet, fitness) stops `trainer` with status 1 and the step
// named; with --detect-anomaly, the first op whose output was not finite.
void check_non_finite_stops(const std::string& trainer, const std::string& arguments, const std::string& step_word) {
  INFO(trainer << " " << arguments);
  Outcome outcome = run(trainer, arguments);
  INFO(outcome.output);
  CHECK(outcome.status == 1);
  CHECK_THAT(outcome.output, Contains(trainer + ": training stopped") && Contains(" " + step_word + " "));

  Outcome anomaly = run(trainer, arguments + " --detect-anomaly");
  INFO(anomaly.output);
  CHECK(anomaly.status == 1);
  CHECK_THAT(anomaly.output, Contains("training stopped at " + step_word + " ") && Contains("(anomaly detection)"));
  CHECK_THAT(anomaly.output, Contains(": forward produced a non-finite value") ||
                                 Contains(" backward: produced a non-finite gradient"));
}

TEST_CASE("a non-finite loss stops training and names the step", "[faults]") {
  check_non_finite_stops("train_mnist", mnist_run("--optimizer sgd --lr 1e6 --max-steps 30"), "step");
  // "train_mnist: training stopped at step 3 (epoch 1): the loss is nan. Lower --lr, or rerun with --detect-anomaly
  // ..."
  CHECK_THAT(run("train_mnist", mnist_run("--optimizer sgd --lr 1e6 --max-steps 30")).output,
             Contains("training stopped at step ") && Contains(" is nan") && Contains("--detect-anomaly"));
}

TEST_CASE("a non-finite loss stops train_cifar, train_stn and train_ram and names the step", "[faults]") {
  for (const std::string trainer : {"train_cifar", "train_stn", "train_ram"}) {
    // train_stn clips the gradient norm by default, which keeps even this rate finite
    const std::string no_clipping = trainer == "train_stn" ? " --clip 0" : "";
    check_non_finite_stops(trainer, tiny_run(trainer, "--lr 1e6 --max-steps 30" + no_clipping), "step");
  }
}

// --holdout: train_cifar records it in its checkpoint; train_dasnet scores its gates on those
// images and takes only a base that never saw them.
TEST_CASE("train_dasnet --holdout takes a base of train_cifar --holdout and refuses others", "[cli]") {
  TempDir dir;
  const std::string base = dir / "base.ckpt";
  Outcome trained = run("train_cifar", tiny_run("train_cifar", "--holdout 8 --max-steps 2 --save " + base));
  INFO(trained.output);
  REQUIRE(trained.status == 0);
  CHECK(read_checkpoint_metadata(base).at("holdout") == "8");
  Outcome resumed = run("train_cifar", tiny_run("train_cifar", "--max-steps 3 --resume " + base));  // no --holdout
  CHECK(resumed.status == 1);
  CHECK_THAT(resumed.output, Contains("written with --holdout 8, this run has --holdout 0"));
  // tiny_run's own --base comes first: the last --base counts
  Outcome tuned = run("train_dasnet", tiny_run("train_dasnet", "--holdout 8 --max-steps 2") + " --base " + base);
  INFO(tuned.output);
  CHECK(tuned.status == 0);
  CHECK_THAT(tuned.output, Contains("right only with the learnt gates") && Contains("McNemar's exact p = "));
  Outcome saw_them = run("train_dasnet", tiny_run("train_dasnet", "--holdout 8 --max-steps 2"));
  CHECK(saw_them.status == 1);
  CHECK_THAT(saw_them.output,
             Contains("was trained on every training image") && Contains("train it with train_cifar --holdout 8"));
  Outcome other = run("train_dasnet", tiny_run("train_dasnet", "--holdout 4 --max-steps 2") + " --base " + base);
  CHECK(other.status == 1);
  CHECK_THAT(other.output, Contains("was trained with --holdout 8"));
  // the diagnostic of tools/ trains the same gates by back-propagation from the same base
  const std::string gates = dir / "gates.ckpt";
  Outcome backprop = run("dasnet_backprop", "--data " + tiny_cifar_dir() + " --base " + base +
                                                " --holdout 8 --batch 4 --passes 2 --max-steps 2 --threads 2 --quiet "
                                                "--save " +
                                                gates);
  INFO(backprop.output);
  CHECK(backprop.status == 0);
  CHECK_THAT(backprop.output,
             Contains("with the gates learnt by back-propagation") && Contains("McNemar's exact p = "));
  CHECK(read_checkpoint_metadata(gates).at("model") == "dasnet");
  CHECK(run("dasnet_backprop", "--data " + tiny_cifar_dir()).status == 2);                       // no --base
  Outcome too_few = run("train_dasnet", tiny_run("train_dasnet", "--holdout 2 --max-steps 2"));  // --batch 4
  CHECK(too_few.status == 1);
  CHECK_THAT(too_few.output, Contains("--batch 4: more than the 2 held-out images"));
  Outcome all = run("train_cifar", tiny_run("train_cifar", "--holdout 40 --max-steps 2"));
  CHECK(all.status == 1);
  CHECK_THAT(all.output, Contains("--holdout 40: ") && Contains(" has 40 training images; hold out fewer"));
}

TEST_CASE("a non-finite fitness stops train_dasnet and names the generation", "[faults]") {
  // a broken base: its last layer holds a NaN, which the frozen evaluation only reports
  TempDir dir;
  const std::string poisoned = dir / "poisoned.ckpt";
  write_resnet20_checkpoint(poisoned, true);
  const std::string arguments =
      tiny_run("train_dasnet", "--max-steps 3") + " --base " + poisoned;  // the last --base counts
  Outcome outcome = run("train_dasnet", arguments);
  INFO(outcome.output);
  CHECK(outcome.status == 1);
  CHECK_THAT(outcome.output, Contains("train_dasnet: training stopped: the fitness of candidate 1 is nan at "
                                      "generation 1 (epoch 1). The frozen resnet20's own test loss is not finite "
                                      "either: the base is broken. Rerun with --detect-anomaly"));
  // with --detect-anomaly the frozen evaluation, before any generation, meets the NaN first
  Outcome anomaly = run("train_dasnet", arguments + " --detect-anomaly");
  INFO(anomaly.output);
  CHECK(anomaly.status == 1);
  CHECK_THAT(anomaly.output, Contains("training stopped before generation 1, evaluating the frozen resnet20") &&
                                 Contains(": forward produced a non-finite value") && Contains("(anomaly detection)"));
}

TEST_CASE("a run resumed from its checkpoint ends bitwise where an uninterrupted run ends", "[faults]") {
  check_resume_is_bitwise("train_mnist", 10, 20);
}

TEST_CASE("train_cifar resumed from its checkpoint ends bitwise where an uninterrupted run ends", "[faults]") {
  check_resume_is_bitwise("train_cifar", 2, 7);  // 5 steps an epoch: the split is mid-epoch, the end in epoch 2
  // the attention models with learnt scalars and ops of their own resume the same way
  check_resume_is_bitwise("train_cifar", 2, 4, "--model cc_resnet20");
  check_resume_is_bitwise("train_cifar", 2, 4, "--model aa_resnet20");
}

// --ema only reads the weights: the trained ones end as they do without it, the checkpoint
// carries the average, a resumed run goes on averaging bitwise, and a resume that changes the
// decay is refused.
TEST_CASE("train_cifar --ema averages the weights without changing the training", "[cli][faults]") {
  TempDir dir;
  auto cifar_run = [](const std::string& extra) { return tiny_run("train_cifar", extra); };
  Outcome plain = run("train_cifar", cifar_run("--max-steps 12 --save " + dir / "plain.ckpt"));
  Outcome averaged = run("train_cifar", cifar_run("--max-steps 12 --ema 0.9 --save " + dir / "ema.ckpt"));
  INFO(plain.output << averaged.output);
  REQUIRE(plain.status == 0);
  REQUIRE(averaged.status == 0);
  CHECK_THAT(averaged.output, Contains("(averaged weights; trained weights "));
  CHECK(read_checkpoint_metadata(dir / "ema.ckpt").at("ema") == "0.9");

  Rng rng(1);
  std::shared_ptr<Module> without = create_model("resnet20", rng), with = create_model("resnet20", rng);
  SGD sgd_without(without->parameters(), {.lr = 0.1f, .momentum = 0.9f});
  SGD sgd_with(with->parameters(), {.lr = 0.1f, .momentum = 0.9f});
  ExponentialMovingAverage ema(with->state(), 0.9f);
  load_checkpoint(dir / "plain.ckpt", classifier_checkpoint_tensors(*without, sgd_without));
  load_checkpoint(dir / "ema.ckpt", classifier_checkpoint_tensors(*with, sgd_with, &ema));
  CHECK(ema.updates() == 12);
  std::vector<Tensor> trained_without = without->parameters(), trained_with = with->parameters();
  for (size_t i = 0; i < trained_with.size(); i++) CHECK(trained_with[i].to_vector() == trained_without[i].to_vector());
  CHECK(ema.state()[1].second.to_vector() != trained_with[0].to_vector());  // the average is its own

  check_resume_is_bitwise("train_cifar", 3, 7, "--ema 0.9");

  Outcome other_decay = run("train_cifar", cifar_run("--max-steps 14 --ema 0.99 --resume " + dir / "ema.ckpt"));
  CHECK(other_decay.status == 1);
  CHECK_THAT(other_decay.output, Contains("the checkpoint was written with --ema 0.9, this run has --ema 0.99"));
  Outcome no_average = run("train_cifar", cifar_run("--max-steps 14 --resume " + dir / "ema.ckpt"));
  CHECK(no_average.status == 1);
  CHECK_THAT(no_average.output, Contains("written with --ema 0.9, this run has --ema 0;"));
  Outcome from_plain = run("train_cifar", cifar_run("--max-steps 14 --ema 0.9 --resume " + dir / "plain.ckpt"));
  CHECK(from_plain.status == 1);
  CHECK_THAT(from_plain.output, Contains("written with --ema 0, this run has --ema 0.9;"));
}

// Each epoch's rate in the metrics log (the rate of its last step), with --lr-drops.
TEST_CASE("train_cifar --lr-drops divides the rate by 10 after each number of epochs named", "[cli]") {
  TempDir dir;
  Outcome drops = run(
      "train_cifar", tiny_run("train_cifar", "--epochs 3 --warmup-epochs 0 --lr-drops 1,2 --log " + dir / "drops.csv"));
  INFO(drops.output);
  REQUIRE(drops.status == 0);
  std::vector<EpochMetrics> rows = read_metrics_csv(dir / "drops.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].lr == Approx(0.1));  // the rate of each epoch's last step
  CHECK(rows[1].lr == Approx(0.01));
  CHECK(rows[2].lr == Approx(0.001));
  Outcome inside_warmup = run("train_cifar", tiny_run("train_cifar", "--epochs 3 --warmup-epochs 1 --lr-drops 1"));
  CHECK(inside_warmup.status == 1);
  CHECK_THAT(inside_warmup.output, Contains("cannot drop at epoch 1, inside the warm-up"));
}

TEST_CASE("train_stn resumed from its checkpoint ends bitwise where an uninterrupted run ends", "[faults]") {
  check_resume_is_bitwise("train_stn", 5, 10);
}

// With --redraw the first epoch trains on the run's first draw of distortions, as without it;
// the second on fresh ones; and a run resumed inside the second epoch draws them again.
// (The tiny MNIST has 400 digits: 50 steps of 8 an epoch.)
TEST_CASE("train_stn --redraw: the first epoch as without it, fresh distortions after, the same when resumed",
          "[faults]") {
  CHECK(stn_checkpoint_after(50, "--redraw") == stn_checkpoint_after(50, ""));
  CHECK(stn_checkpoint_after(60, "--redraw") != stn_checkpoint_after(60, ""));
  check_resume_is_bitwise("train_stn", 55, 60, "--redraw");

  check_usage_error("train_stn", "--dataset mnist --redraw --max-steps 1", "--redraw needs distorted digits");
}

// bench/write_stn_digits writes what a train_stn run would train and test on, as idx files:
// epoch 1's training digits are the run's first draw (the same with or without --redraw), a later
// epoch's are that draw again without --redraw and fresh ones with it; the test digits do not
// depend on --seed; the labels are the digits' own.
TEST_CASE("write_stn_digits writes the digits of a train_stn epoch and the test digits as idx files", "[cli]") {
  TempDir dir;
  auto digits = [&](const std::string& name, const std::string& extra) {
    const std::string folder = dir / name;
    Outcome outcome = run("write_stn_digits", "--data " + tiny_mnist_dir() + " --seed 3 --out " + folder + " " + extra);
    INFO(outcome.output);
    REQUIRE(outcome.status == 0);
    CHECK_THAT(outcome.output, Contains("wrote the rts training digits"));
    return std::pair{load_mnist_dir(folder, true), load_mnist_dir(folder, false)};
  };
  auto [first, test] = digits("first", "");
  CHECK(first.height == 42);
  CHECK(first.width == 42);
  CHECK(first.size() == 400);
  CHECK(test.size() == 100);
  CHECK(first.labels == load_mnist_dir(tiny_mnist_dir(), true).labels);
  CHECK(test.labels == load_mnist_dir(tiny_mnist_dir(), false).labels);
  CHECK(digits("first_redraw", "--redraw").first.pixels == first.pixels);
  CHECK(digits("second", "--epoch 2").first.pixels == first.pixels);
  auto [second_redraw, same_test] = digits("second_redraw", "--redraw --epoch 2");
  CHECK(second_redraw.pixels != first.pixels);
  CHECK(same_test.pixels == test.pixels);
  auto [other_seed, other_seed_test] = digits("other_seed", "--seed 4");
  CHECK(other_seed.pixels != first.pixels);
  CHECK(other_seed_test.pixels == test.pixels);

  std::ofstream(dir / "a_file") << "x";
  Outcome refused = run("write_stn_digits", "--data " + tiny_mnist_dir() + " --out " + dir / "a_file");
  CHECK(refused.status == 1);
  CHECK_THAT(refused.output, Contains("--out: cannot create the folder"));
  Outcome no_out = run("write_stn_digits", "--data " + tiny_mnist_dir());
  CHECK(no_out.status == 2);
  CHECK_THAT(no_out.output, Contains("--out FOLDER is needed"));
}

// tools/stn_pose_study trains as train_stn does: without its own flags it ends with train_stn's
// very checkpoint (the same digits, draws and recipe), also across a --redraw; a train_stn
// checkpoint resumes in it. --pose-supervision adds a loss on theta: the run trains differently,
// resumes bitwise (each image's record is found by its bytes, whatever the order) and is refused
// where there is no record or no transformer.
TEST_CASE("stn_pose_study trains as train_stn does, and with --pose-supervision resumes bitwise", "[faults]") {
  CHECK(stn_checkpoint_after(60, "--redraw", "stn_pose_study") == stn_checkpoint_after(60, "--redraw"));
  TempDir dir;
  const std::string path = dir / "stn.ckpt";
  REQUIRE(run("train_stn", tiny_run("train_stn", "--max-steps 5 --save " + path)).status == 0);
  Outcome resumed =
      run("stn_pose_study", tiny_run("stn_pose_study", "--max-steps 10 --resume " + path + " --save " + path));
  INFO(resumed.output);
  CHECK(resumed.status == 0);
  CHECK(file_bytes(path) == stn_checkpoint_after(10, ""));
  check_refused("stn_pose_study", "--dataset rts-upright --max-steps 20 --resume " + path,
                "the checkpoint holds model 'stn_mnist_rts', not 'stn_mnist_rts-upright'");

  CHECK(stn_checkpoint_after(10, "--pose-supervision 1", "stn_pose_study") != stn_checkpoint_after(10, ""));
  check_resume_is_bitwise("stn_pose_study", 45, 60, "--pose-supervision 1 --redraw");
  check_usage_error("stn_pose_study", "--dataset rts-upright --pose-supervision 1 --max-steps 1",
                    "--pose-supervision need the generator's record");
  check_usage_error("stn_pose_study", "--no-transformer --pose-supervision 1 --max-steps 1", "need the transformer");
}

// --dataset rts-upright: the rts draws undone, a set of its own (the classifier alone on it
// trains differently from on rts), resumed bitwise across a --redraw.
TEST_CASE("stn_pose_study --dataset rts-upright trains the classifier on the undone digits", "[faults]") {
  CHECK(stn_checkpoint_after(10, "--dataset rts-upright --no-transformer", "stn_pose_study") !=
        stn_checkpoint_after(10, "--no-transformer", "stn_pose_study"));
  check_resume_is_bitwise("stn_pose_study", 45, 60, "--dataset rts-upright --no-transformer --redraw");
}

TEST_CASE("train_ram resumed from its checkpoint ends bitwise where an uninterrupted run ends", "[faults]") {
  check_resume_is_bitwise("train_ram", 5, 10, "--mc-samples 2");
}

TEST_CASE("train_dasnet resumed from its checkpoint ends bitwise where an uninterrupted run ends", "[faults]") {
  check_resume_is_bitwise("train_dasnet", 2, 4);  // 3 generations an epoch: the end is mid-epoch 2
  check_resume_is_bitwise("train_dasnet", 2, 4, "--policy diagonal");
}

TEST_CASE("a run killed at a random moment leaves a checkpoint that loads, and resumes bitwise", "[faults]") {
  check_kill_and_resume("train_mnist", 30, 150000);
}

TEST_CASE("train_ram killed at a random moment leaves a checkpoint that loads, and resumes bitwise", "[faults]") {
  check_kill_and_resume("train_ram", 40, 100000);
}

TEST_CASE("train_dasnet killed at a random moment leaves a checkpoint that loads, and resumes bitwise", "[faults]") {
  check_kill_and_resume("train_dasnet", 6, 200000, "--generations 2");  // the last --generations counts
}

// The last line a trainer prints is the final line that scripts read, with or without a
// picture to draw; the picture is a PNG that decodes.
TEST_CASE("a trainer's --visualize writes a PNG and the final line stays the last line", "[cli]") {
  TempDir dir;
  struct Case {
    std::string trainer, extra;
    int64_t maps = 3;  // train_cifar: the attention columns after each image (train/attention_pictures.h)
  };
  for (const Case& c : {Case{"train_stn", "--dataset rts"}, Case{"train_ram", "--mc-samples 2"},
                        Case{"train_cifar", "--model se_resnet20"}, Case{"train_cifar", "--model cbam_resnet20"},
                        Case{"train_cifar", "--model attention56 --width 4"},
                        Case{"train_cifar", "--model eca_resnet20"}, Case{"train_cifar", "--model gc_resnet20"},
                        Case{"train_cifar", "--model nl_resnet20", 4}, Case{"train_cifar", "--model da_resnet20"},
                        Case{"train_cifar", "--model cc_resnet20", 4}, Case{"train_cifar", "--model aa_resnet20", 5}}) {
    INFO(c.trainer << " " << c.extra);
    static int pictures = 0;
    const std::string picture = dir / (c.trainer + std::to_string(pictures++) + ".png");
    Outcome outcome = run(c.trainer, tiny_run(c.trainer, c.extra + " --max-steps 2 --visualize " + picture));
    INFO(outcome.output);
    REQUIRE(outcome.status == 0);
    std::string output = outcome.output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    CHECK(output.substr(output.rfind('\n') + 1).rfind("final test_acc=", 0) == 0);
    std::string bytes = file_bytes(picture);
    Image image = decode_image(std::vector<uint8_t>(bytes.begin(), bytes.end()), 3, picture);
    CHECK(image.width > 0);
    CHECK(image.height > 0);
    if (c.trainer == "train_cifar") {  // a row per class of the sample's test set: the image, then the maps
      const Image tiles = ImageGrid(10, 1 + c.maps, 32, 3).image();
      CHECK(image.width == tiles.width);
      CHECK(image.height > tiles.height + 10 * 2 * 12);  // a title, column labels, two caption lines a row
    }
  }
}

// stn_pose_study --report: after two steps the transformer is still near the identity, so it
// shows nearly all of its input, and the digits sit in its output as they sit in the input.
TEST_CASE("stn_pose_study --report measures the transformer's zoom and the digits' pose", "[cli]") {
  Outcome outcome = run("stn_pose_study", tiny_run("stn_pose_study", "--max-steps 2 --report"));
  INFO(outcome.output);
  REQUIRE(outcome.status == 0);
  std::string output = outcome.output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  CHECK(output.substr(output.rfind('\n') + 1).rfind("final test_acc=", 0) == 0);
  const std::string zoom = "the output shows a median ";
  const size_t at = output.find(zoom);
  REQUIRE(at != std::string::npos);
  const double median_area = std::stod(output.substr(at + zoom.size()));
  CHECK(median_area > 95);
  CHECK(median_area < 105);
  CHECK(output.find("\n  transformed, to its class  angle ") != std::string::npos);
  // each test digit drawn 5 times: in the input the angle follows the draw alone (uniform in
  // [-45, 45]: 26.0 degrees RMS within a digit, 0 between digits); the identity shows the same
  auto angle_spread = [&](const std::string& line) {
    const size_t found = output.find("\n  " + line + " angle ");
    REQUIRE(found != std::string::npos);
    double within = -1, between = -1;
    REQUIRE(std::sscanf(output.c_str() + found + line.size() + 10, "%lf | %lf", &within, &between) == 2);
    return std::pair{within, between};
  };
  auto [input_within, input_between] = angle_spread("input       ");
  CHECK(input_within == Approx(26.0).margin(1.5));
  CHECK(input_between < 2);
  auto [output_within, output_between] = angle_spread("transformed ");
  CHECK(output_within == Approx(input_within).margin(1));
  CHECK(output_between < 2);
}

// stn_pose_study --mistakes: the number of mistakes it reports is the final line's error, the
// picture has a tile pair for each (up to 120, 6 pairs a row); the CNN baseline has nothing to draw.
TEST_CASE("stn_pose_study --mistakes draws the test images it gets wrong and counts them", "[cli]") {
  TempDir dir;
  const std::string picture = dir / "mistakes.png";
  Outcome outcome = run("stn_pose_study", tiny_run("stn_pose_study", "--max-steps 2 --mistakes " + picture));
  INFO(outcome.output);
  REQUIRE(outcome.status == 0);
  long drawn = 0, mistakes = 0, tested = 0;
  const size_t wrote = outcome.output.find("wrote " + picture + ": ");
  REQUIRE(wrote != std::string::npos);
  REQUIRE(std::sscanf(outcome.output.c_str() + wrote + picture.size() + 8, "%ld of the %ld mistakes on %ld test images",
                      &drawn, &mistakes, &tested) == 3);
  double accuracy = 0;
  REQUIRE(std::sscanf(outcome.output.c_str() + outcome.output.rfind("final test_acc="), "final test_acc=%lf",
                      &accuracy) == 1);
  CHECK(mistakes == std::lround((1 - accuracy) * static_cast<double>(tested)));
  CHECK(drawn == std::min(mistakes, 120L));
  std::string bytes = file_bytes(picture);
  Image image = decode_image(std::vector<uint8_t>(bytes.begin(), bytes.end()), 3, picture);
  const Image tiles = ImageGrid(std::max(1L, (drawn + 5) / 6), 12, 42, 2).image();
  CHECK(image.width == tiles.width);
  CHECK(image.height > tiles.height);  // and a title, column labels, captions

  check_usage_error("stn_pose_study", "--no-transformer --max-steps 1 --mistakes " + picture, "drop --no-transformer");
  check_usage_error("train_stn", "--no-transformer --max-steps 1 --loc-lr-factor 0.1",
                    "--loc-lr-factor needs the transformer");
}

// plot_metrics: one run's train and test curves, or the test curves of several runs named by
// their files; a missing CSV is status 1 naming the file, wrong arguments the usage and status 2.
TEST_CASE("plot_metrics draws a run or compares runs, and says what is wrong", "[cli]") {
  TempDir dir;
  for (const char* name : {"resnet20", "se_resnet20"})
    for (int64_t epoch = 1; epoch <= 3; epoch++)
      append_metrics_csv(dir / (std::string(name) + ".csv"), {.epoch = epoch,
                                                              .step = 10 * epoch,
                                                              .lr = 0.1,
                                                              .train_loss = 2.0 / epoch,
                                                              .train_acc = 0.3 * epoch,
                                                              .test_loss = 2.1 / epoch,
                                                              .test_acc = 0.25 * epoch,
                                                              .seconds = 1,
                                                              .images_per_s = 100});

  Outcome one = run("plot_metrics", dir / "resnet20.csv " + dir / "one.svg 'lr <0.1> & more'");
  INFO(one.output);
  CHECK(one.status == 0);
  CHECK_THAT(file_bytes(dir / "one.svg"), Contains("<svg") && Contains(">train</text>") && Contains(">test</text>") &&
                                              Contains(">lr &lt;0.1&gt; &amp; more</text>"));

  Outcome both =
      run("plot_metrics", "--compare " + dir / "both.svg " + dir / "resnet20.csv " + dir / "se_resnet20.csv");
  INFO(both.output);
  CHECK(both.status == 0);
  const std::string svg = file_bytes(dir / "both.svg");
  CHECK_THAT(svg, Contains(">resnet20</text>") && Contains(">se_resnet20</text>"));
  size_t curves = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) curves++;
  CHECK(curves == 4);  // test loss and test accuracy of each run

  Outcome missing = run("plot_metrics", "--compare " + dir / "x.svg " + dir / "absent.csv");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.output, Contains("absent.csv"));
  Outcome wrong = run("plot_metrics", "--compare " + dir / "x.svg");
  CHECK(wrong.status == 2);
  CHECK_THAT(wrong.output, Contains("usage: plot_metrics"));
}

// Ctrl-C (SIGINT) or SIGTERM: the trainer saves where it stands, ends as the signal ends a
// program, and --resume from that checkpoint ends bitwise where an uninterrupted run ends.
void check_stop_signal_and_resume(const std::string& trainer, int steps, int signal, const std::string& extra = "") {
  INFO(trainer << ", signal " << signal);
  TempDir dir;
  const std::string length = extra + " --max-steps " + std::to_string(steps) + " ";
  Outcome whole = run(trainer, tiny_run(trainer, length + "--save " + dir / "whole.ckpt"));
  INFO(whole.output);
  REQUIRE(whole.status == 0);

  const std::string path = dir / "stopped.ckpt";
  int stops = 0;
  for (int attempt = 0; attempt < 6 && stops < 1; attempt++) {
    fs::remove(path);
    // the first checkpoint (after step 1) says the run is under way
    pid_t pid = start_and_wait_for(path, trainer, tiny_run(trainer, length + "--save-every 1 --save " + path));
    kill(pid, signal);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;  // it finished first: try again
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == signal));
    stops++;
    const int64_t stopped_at = std::stoll(read_checkpoint_metadata(path).at("step"));
    INFO("stopped after step " << stopped_at);
    CHECK(stopped_at < steps);
    Outcome resumed = run(trainer, tiny_run(trainer, length + "--resume " + path + " --save " + path));
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK(file_bytes(path) == file_bytes(dir / "whole.ckpt"));
  }
  CHECK(stops > 0);
}

TEST_CASE("Ctrl-C or SIGTERM saves the checkpoint, and the run resumes bitwise from it", "[faults]") {
  check_stop_signal_and_resume("train_mnist", 40, SIGINT);
  check_stop_signal_and_resume("train_cifar", 12, SIGTERM);
  check_stop_signal_and_resume("train_ram", 40, SIGINT);
  check_stop_signal_and_resume("train_dasnet", 6, SIGINT);
}

TEST_CASE("Ctrl-C says where the run stopped and how to go on", "[cli]") {
  TempDir dir;
  const std::string path = dir / "run.ckpt";
  const std::string command =
      kBinaryDir + "/train_mnist " + mnist_run("--save-every 1 --save " + path) + " > " + dir / "out.txt" + " 2>&1";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGINT));
  CHECK_THAT(file_bytes(dir / "out.txt"), Contains("stopped by SIGINT after step ") &&
                                              Contains("checkpoint written to " + path + "; --resume " + path));
}

TEST_CASE("resuming refuses a checkpoint written with another --seed, --batch or model flag, and names both", "[cli]") {
  TempDir dir;
  const std::string path = dir / "run.ckpt";
  REQUIRE(run("train_mnist", mnist_run("--max-steps 2 --save " + path)).status == 0);
  check_refused("train_mnist", "--max-steps 4 --seed 4 --resume " + path,
                "the checkpoint was written with --seed 3, this run has --seed 4; resume with the same --seed");
  check_refused("train_mnist", "--max-steps 4 --batch 16 --resume " + path,
                "the checkpoint was written with --batch 8, this run has --batch 16");
  const std::string das = dir / "das.ckpt";
  REQUIRE(run("train_dasnet", tiny_run("train_dasnet", "--max-steps 1 --save " + das)).status == 0);
  check_refused("train_dasnet", "--max-steps 2 --population 4 --resume " + das,
                "written with --population 2, this run has --population 4");
  check_usage_error("train_dasnet", "--max-steps 2 --resume " + das + " --base " + tiny_dasnet_base(),
                    "--base with --resume");
  const std::string ram = dir / "ram.ckpt";  // the flags that shape a model are part of what a run is
  REQUIRE(run("train_ram", tiny_run("train_ram", "--max-steps 1 --glimpses 2 --save " + ram)).status == 0);
  check_refused("train_ram", tiny_run("train_ram", "--max-steps 2 --glimpses 3 --resume " + ram),
                "written with --glimpses 2, this run has --glimpses 3");
  check_refused("train_ram", tiny_run("train_ram", "--max-steps 2 --glimpses 2 --location-std 0.2 --resume " + ram),
                "written with --location-std 0.17, this run has --location-std 0.2");
}

TEST_CASE("outputs that collide, sit in no directory, are directories or a --save that is no file are refused",
          "[cli]") {
  TempDir dir;
  const std::string pipe = dir / "pipe";  // a checkpoint's rename would replace it
  REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
  for (const std::string& trainer : kTrainers) {
    check_usage_error(trainer, "--save " + dir / "a" + " --log " + dir / "a",
                      "--log " + dir / "a" + ": the same file as --save");
    check_usage_error(trainer, "--plot " + dir.path.string(), "is a directory, not a file");
    check_usage_error(trainer, "--save " + pipe, "--save " + pipe + ": is not a regular file");
    check_usage_error(trainer, "--log " + dir / "no/such/run.csv",
                      "the directory " + dir / "no/such" + " does not exist");
  }
  check_usage_error("train_cifar", "--model cbam_resnet20 --visualize " + dir / "a" + " --plot " + dir / "a",
                    "the same file as --plot");
}

// Found by a hostile run: a file that does not exist yet was compared as spelled ("s.ckpt" against
// "./s.ckpt"), so --save and --log could name one file and the log's rows went into the
// checkpoint; --plot could name the checkpoint --resume reads; --log could append rows to a file
// that is no log; a --save name too long for its temporary failed after training. Each is
// refused before training, the file untouched.
TEST_CASE("outputs that name one file spelled twice, the resumed checkpoint or a file that is no log are refused",
          "[cli]") {
  TempDir dir;
  const std::string notes = dir / "notes.txt", checkpoint = dir / "run.ckpt";
  { std::ofstream(notes) << "my notes\n"; }
  Outcome trained = run("train_mnist", mnist_run("--max-steps 2 --save " + checkpoint));
  REQUIRE(trained.status == 0);
  const std::string saved = file_bytes(checkpoint);
  const std::string dot = (dir.path / "." / "x.ckpt").string(), plain = dir / "x.ckpt";
  check_usage_error("train_mnist", "--save " + plain + " --log " + dot, "the same file as --save");
  check_usage_error("train_mnist", "--resume " + checkpoint + " --plot " + checkpoint, "the checkpoint --resume reads");
  check_usage_error("train_mnist", "--log " + notes, "holds something else than a metrics log");
  // 250 bytes fit a file name, not with ".tmp.<process id>" after them: found before training
  check_usage_error("train_mnist", "--save " + dir / std::string(250, 'c'), "the file name is too long");
  CHECK(file_bytes(checkpoint) == saved);
  CHECK(file_bytes(notes) == "my notes\n");
  CHECK_FALSE(std::filesystem::exists(plain));
}

TEST_CASE("a full disk under the log or a picture stops the run with the file named, the checkpoint kept", "[faults]") {
  TempDir dir;
  const std::string path = dir / "run.ckpt";
  Outcome full_log = run("train_mnist", mnist_run("--max-steps 3 --log /dev/full --save " + path));
  INFO(full_log.output);
  CHECK(full_log.status == 1);
  CHECK_THAT(full_log.output, Contains("'/dev/full'") && Contains("No space left on device"));
  CHECK(read_checkpoint_metadata(path).at("step") == "3");  // the epoch's checkpoint came first
  Outcome full_picture = run("train_ram", tiny_run("train_ram", "--max-steps 2 --visualize /dev/full"));
  INFO(full_picture.output);
  CHECK(full_picture.status == 1);
  CHECK_THAT(full_picture.output, Contains("'/dev/full'") && Contains("No space left on device"));
  Outcome full_plot = run("train_cifar", tiny_run("train_cifar", "--max-steps 2 --plot /dev/full"));
  INFO(full_plot.output);
  CHECK(full_plot.status == 1);
  CHECK_THAT(full_plot.output, Contains("/dev/full"));
}

// ---- data-parallel training under mpirun (train/data_parallel.h) ----

const std::string kMpirun = GLIMPSE_MPIRUN;  // empty: the build has no MPI, or there is no mpirun

// What the processes of an MPI run get in their environment: root may run mpirun here, and under
// the sanitizers LeakSanitizer stays off for them, because Open MPI unloads its plugins at exit and
// their allocations can then be named by no module (nor suppressed by one).
const std::string kMpiEnvironment =
    "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=${ASAN_OPTIONS}:detect_leaks=0 ";

// "mpirun -np R <binary dir>/program arguments" as the shell runs it.
std::string mpirun_command(int processes, const std::string& program, const std::string& arguments) {
  return kMpiEnvironment + kMpirun + " -np " + std::to_string(processes) + " --oversubscribe " + kBinaryDir + "/" +
         program + " " + arguments;
}

Outcome run_mpi(int processes, const std::string& program, const std::string& arguments) {
  return run_command(mpirun_command(processes, program, arguments) + " 2>&1");
}

// The largest difference between two checkpoints' tensors (parameters, BN statistics, the
// optimiser's state), relative to 1 + the value.
double largest_difference(const std::string& a, const std::string& b) {
  const CheckpointContents in_a = read_checkpoint(a), in_b = read_checkpoint(b);
  REQUIRE(in_a.tensors.size() == in_b.tensors.size());
  double largest = 0;
  for (size_t i = 0; i < in_a.tensors.size(); i++) {
    const Tensor &x = in_a.tensors[i].second, &y = in_b.tensors[i].second;
    REQUIRE(in_a.tensors[i].first == in_b.tensors[i].first);
    REQUIRE(x.shape() == y.shape());
    for (int64_t j = 0; j < x.numel(); j++)
      largest =
          std::max(largest, std::abs(static_cast<double>(x.data()[j]) - y.data()[j]) / (1 + std::abs(x.data()[j])));
  }
  return largest;
}

// Two processes compute what one computes on the whole batch, up to the order of float sums: the
// gradients of 7 steps at fixed weights (--lr 0: SGD's momentum sums them; the BN statistics move),
// across an epoch's end, and one full step. Over more steps at a real rate the two runs part as any
// two orders of summation do: early training amplifies rounding (bench/rounding_growth shows it in
// one process; docs/RESULTS.md has its figures).
TEST_CASE("two processes under mpirun compute what one process computes on the whole batch", "[mpi]") {
  if (kMpirun.empty()) {
    SKIP_WITHOUT_PACKAGE("no MPI in this build (libopenmpi-dev, openmpi-bin): the data-parallel tests are skipped");
  }
  TempDir dir;
  for (const std::string& steps : {std::string("--max-steps 7 --lr 0"), std::string("--max-steps 1 --lr 0.1")}) {
    INFO(steps);
    const std::string flags = steps + " --threads 1 --save ";
    Outcome one = run("train_cifar", tiny_run("train_cifar", flags + dir / "one.ckpt"));
    INFO(one.output);
    REQUIRE(one.status == 0);
    Outcome two = run_mpi(2, "train_cifar", tiny_run("train_cifar", flags + dir / "two.ckpt"));
    INFO(two.output);
    REQUIRE(two.status == 0);
    const std::string final_line = "final test_acc=";  // only rank 0 prints
    CHECK(two.output.find(final_line) == two.output.rfind(final_line));
    CHECK(largest_difference(dir / "one.ckpt", dir / "two.ckpt") < 1e-6);

    Outcome own = run_mpi(2, "train_cifar", tiny_run("train_cifar", flags + dir / "own.ckpt" + " --per-process-bn"));
    INFO(own.output);
    REQUIRE(own.status == 0);
    CHECK(largest_difference(dir / "one.ckpt", dir / "own.ckpt") > 1e-3);  // BN over 4 images, not 8
  }
  // dropout (mnist_cnn's): each process keeps its rows of the whole batch's mask, so the gradients
  // (Adam's moments, at --lr 0) are one process's
  const std::string flags = "--max-steps 3 --lr 0 --threads 1 --save ";
  Outcome one = run("train_mnist", tiny_run("train_mnist", flags + dir / "mnist_one.ckpt"));
  INFO(one.output);
  REQUIRE(one.status == 0);
  Outcome two = run_mpi(2, "train_mnist", tiny_run("train_mnist", flags + dir / "mnist_two.ckpt"));
  INFO(two.output);
  REQUIRE(two.status == 0);
  CHECK(largest_difference(dir / "mnist_one.ckpt", dir / "mnist_two.ckpt") < 1e-6);
}

TEST_CASE("a data-parallel run resumes bitwise, and stops whole when a process dies", "[mpi][faults]") {
  if (kMpirun.empty()) return;
  TempDir dir;
  const std::string whole = dir / "whole.ckpt", part = dir / "part.ckpt";
  REQUIRE(run_mpi(2, "train_cifar", tiny_run("train_cifar", "--max-steps 6 --save " + whole)).status == 0);
  REQUIRE(run_mpi(2, "train_cifar", tiny_run("train_cifar", "--max-steps 3 --save " + part)).status == 0);
  Outcome resumed =
      run_mpi(2, "train_cifar", tiny_run("train_cifar", "--max-steps 6 --resume " + part + " --save " + part));
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(file_bytes(part) == file_bytes(whole));

  // kill rank 1 after the first checkpoint: mpirun ends the run with a failure, the checkpoint loads
  const std::string killed = dir / "killed.ckpt";
  pid_t launcher = fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    setpgid(0, 0);
    const std::string command =
        "exec " +
        mpirun_command(2, "train_cifar", tiny_run("train_cifar", "--epochs 50 --save-every 1 --save " + killed)) +
        " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(killed) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // the trainer processes mpirun started, found by their parent
  std::vector<pid_t> ranks;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string pid, name, state, parent;
    if (stat >> pid >> name >> state >> parent && std::to_string(launcher) == parent && name == "(train_cifar)")
      ranks.push_back(std::stoi(pid));
  }
  REQUIRE(ranks.size() == 2);
  kill(ranks.back(), SIGKILL);
  int status = 0;
  waitpid(launcher, &status, 0);
  CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK_NOTHROW(read_checkpoint_metadata(killed));  // whole: the previous or the next one
}

TEST_CASE("train_dasnet refuses to run under mpirun", "[mpi][cli]") {
  if (kMpirun.empty()) return;
  Outcome outcome = run_mpi(2, "train_dasnet", tiny_run("train_dasnet", "--max-steps 1"));
  CHECK(outcome.status != 0);
  CHECK_THAT(outcome.output, Contains("start train_dasnet without mpirun"));
}

TEST_CASE("an image folder the model cannot take is refused before training, naming the folder", "[cli]") {
  TempDir dir;
  // 48x48 images, and a folder of 11 classes of 32x32 ones
  auto write_folder = [](const std::string& root, int64_t side, int classes) {
    for (const char* split : {"train", "test"})
      for (int k = 0; k < classes; k++) {
        const fs::path folder = fs::path(root) / split / ("class" + std::to_string(10 + k));
        fs::create_directories(folder);
        Image image{.height = side, .width = side, .channels = 3, .pixels = {}};
        image.pixels.assign(static_cast<size_t>(side * side * 3), static_cast<uint8_t>(20 * k));
        write_png(image, (folder / "0.png").string());
      }
  };
  write_folder(dir / "large", 48, 2);
  write_folder(dir / "many", 32, 11);
  for (const std::string& trainer : {std::string("train_cifar"), std::string("train_dasnet")}) {
    Outcome large = run(trainer, tiny_run(trainer, "--max-steps 1") + " --data " + dir / "large");
    CHECK(large.status == 1);
    CHECK_THAT(large.output, Contains(dir / "large" + " holds images of 3x48x48;") && Contains("takes 3x32x32"));
    Outcome many = run(trainer, tiny_run(trainer, "--max-steps 1") + " --data " + dir / "many");
    CHECK(many.status == 1);
    CHECK_THAT(many.output, Contains(dir / "many" + " holds 11 classes;") && Contains("classifies 10"));
  }
}

TEST_CASE("two hosts (network namespaces) over TCP train what two processes on one host train", "[mpi]") {
  if (kMpirun.empty()) return;
  const std::string command =
      kMpiEnvironment + std::string(GLIMPSE_SOURCE_DIR) + "/scripts/mpi_two_hosts.sh " + kBinaryDir + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  INFO(output);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    WARN("this sandbox cannot make network namespaces: " << output);
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(output, Contains("two hosts over TCP wrote the checkpoint two processes on one host write"));
}

TEST_CASE("every program answers --version with its name, glimpse's version and the commit", "[cli]") {
  for (const std::string program :
       {"train_mnist", "train_cifar", "train_stn", "train_ram", "train_dasnet", "evaluate", "predict",
        "convert_weights", "plot_metrics", "convert_cifar10", "stn_pose_study"}) {
    INFO(program);
    Outcome outcome = run(program, "--version");
    CHECK(outcome.status == 0);
    CHECK_THAT(outcome.output, Contains(program + " (glimpse ") && Contains(", commit "));
  }
}

TEST_CASE("docs/ATTENTION.md is what make_page.py makes of the table's cells, with checked statistics", "[docs]") {
  // tests/attention_table_check.py: make_page's t quantiles and its paired and Welch comparisons
  // against worked values, then `make_page.py --check` against the page and the plot
  if (std::system("/usr/bin/python3 -c '' >/dev/null 2>&1") != 0)
    SKIP_WITHOUT_PACKAGE("Debian's python3 is not installed: the attention table's page is not checked");
  Outcome outcome =
      run_command("/usr/bin/python3 " + std::string(GLIMPSE_SOURCE_DIR) + "/tests/attention_table_check.py 2>&1");
  INFO(outcome.output);
  CHECK(outcome.status == 0);
}

TEST_CASE("the attention table's run.sh and carry_runs.sh keep, carry, resume and skip cells as they say",
          "[scripts]") {
  // tests/attention_table_scripts.sh: copies of the two scripts in a scratch tree, with a stand-in trainer
  Outcome outcome = run_command("bash " + std::string(GLIMPSE_SOURCE_DIR) + "/tests/attention_table_scripts.sh 2>&1");
  INFO(outcome.output);
  CHECK(outcome.status == 0);
}
