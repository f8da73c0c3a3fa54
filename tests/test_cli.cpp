// The trainers as a user meets them: their command lines ([cli]) and what happens when a run
// goes wrong ([faults]): a kill at any moment leaves a checkpoint that loads, --resume after it
// ends bitwise where an uninterrupted run ends, and a non-finite loss stops the run with a
// message naming the step (and, with --detect-anomaly, the op).
//
// The binaries are the ones built next to this test (GLIMPSE_BINARY_DIR); every run uses the
// bundled sample, a few steps and small batches.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "io/dataset.h"

using namespace glimpse;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kBinaryDir = GLIMPSE_BINARY_DIR;
const std::string kSampleMnist = std::string(GLIMPSE_SOURCE_DIR) + "/data/sample/mnist";

struct Outcome {
  int status = -1;  // the exit status; -1 if the program did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs "<binary dir>/<program> <arguments>" through the shell, capturing its output.
Outcome run(const std::string& program, const std::string& arguments) {
  std::string command = kBinaryDir + "/" + program + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Outcome outcome;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) outcome.output.append(buffer, n);
  int status = pclose(pipe);
  if (WIFEXITED(status)) outcome.status = WEXITSTATUS(status);
  return outcome;
}

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("glimpse_test_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void append_be32(std::string& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(value >> shift));
}

// Writes the first `count` images of a data set as an idx pair (raw, not gzip).
void write_idx(const ImageDataset& data, int64_t count, const std::string& images_path, const std::string& labels_path) {
  std::string images, labels;
  for (uint32_t v : {0x803u, uint32_t(count), uint32_t(data.height), uint32_t(data.width)}) append_be32(images, v);
  images.append(reinterpret_cast<const char*>(data.pixels.data()), count * data.image_bytes());
  for (uint32_t v : {0x801u, uint32_t(count)}) append_be32(labels, v);
  for (int64_t i = 0; i < count; i++) labels.push_back(static_cast<char>(data.labels[i]));
  std::ofstream(images_path, std::ios::binary) << images;
  std::ofstream(labels_path, std::ios::binary) << labels;
}

// A small MNIST folder cut from the bundled sample (400 training, 100 test digits), so that
// the trainer runs below spend their time training rather than loading and evaluating.
const std::string& tiny_mnist_dir() {
  static TempDir dir;
  static bool written = false;
  if (!written) {
    write_idx(load_mnist_dir(kSampleMnist, true), 400, dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte");
    write_idx(load_mnist_dir(kSampleMnist, false), 100, dir / "t10k-images-idx3-ubyte", dir / "t10k-labels-idx1-ubyte");
    written = true;
  }
  static const std::string path = dir.path.string();
  return path;
}

// A short train_mnist run: batch 8, 2 threads, quiet.
std::string mnist_run(const std::string& extra) {
  return "--data " + tiny_mnist_dir() + " --batch 8 --threads 2 --seed 3 --quiet " + extra;
}

std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The help text of each flag: from its "  --name" line up to the next flag's.
std::string flag_help(const std::string& help, const std::string& name) {
  size_t at = help.find("\n  --" + name + " ");
  if (at == std::string::npos) at = help.find("\n  --" + name + "\n");
  if (at == std::string::npos) return "";
  size_t next = help.find("\n  --", at + 1);
  return help.substr(at, next == std::string::npos ? std::string::npos : next - at);
}

// Starts train_mnist with `arguments` (split at spaces) as a child process, output discarded.
pid_t start_mnist(const std::string& arguments) {
  std::vector<std::string> words = {kBinaryDir + "/train_mnist"};
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

}  // namespace

TEST_CASE("trainers refuse an unknown flag with status 2", "[cli]") {
  for (const char* trainer : {"train_mnist", "train_cifar"}) {
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
  for (Case c : {Case{"--epochs abc", "--epochs abc: not a whole number"},
                 Case{"--epochs 2.5", "--epochs 2.5: not a whole number"},
                 Case{"--epochs 0", "--epochs 0: must be from 1"},
                 Case{"--lr -1", "--lr -1: must be from 0"},
                 Case{"--lr nan", "--lr nan: not a finite number"},
                 Case{"--batch=", "--batch : not a whole number"},
                 Case{"--seed", "--seed needs a value"},
                 Case{"--quiet=yes", "--quiet takes no value"},
                 Case{"--threads 99999999999999999999", "not a whole number"}}) {
    INFO(c.arguments);
    Outcome outcome = run("train_mnist", c.arguments);
    CHECK(outcome.status == 2);
    CHECK_THAT(outcome.output, Contains(c.message));
  }
  Outcome sgd = run("train_mnist", "--optimizer adagrad");
  CHECK(sgd.status == 2);
  CHECK_THAT(sgd.output, Contains("choose one of: adam, sgd"));
}

TEST_CASE("trainer --help lists every flag with its default", "[cli]") {
  const std::vector<std::string> common = {"data", "epochs", "batch", "lr", "seed", "threads", "max-steps", "save",
                                           "save-every", "resume", "log", "plot", "quiet", "detect-anomaly"};
  struct Trainer {
    const char* name;
    std::vector<std::string> own_flags;
    std::vector<std::string> defaults;  // "--flag ... (default: value)" for a few of them
  };
  for (const Trainer& trainer :
       {Trainer{"train_mnist", {"optimizer"}, {"epochs:3", "batch:64", "lr:0.001", "optimizer:adam", "quiet:off"}},
        Trainer{"train_cifar",
                {"model", "width", "momentum", "weight-decay", "warmup-epochs", "visualize"},
                {"model:resnet20", "epochs:50", "batch:128", "lr:0.1", "momentum:0.9", "weight-decay:0.0005"}}}) {
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
    CHECK(count == flags.size() + 1);  // + --help
  }
}

TEST_CASE("a missing --data dir says where the data should be and how to get it", "[cli]") {
  for (const char* trainer : {"train_mnist", "train_cifar"}) {
    INFO(trainer);
    Outcome outcome = run(trainer, "--data /nonexistent/glimpse-data --epochs 1");
    CHECK(outcome.status != 0);
    CHECK_THAT(outcome.output, Contains("--data /nonexistent/glimpse-data: no such directory") &&
                                   Contains("scripts/download_data.sh"));
  }
  CHECK_THAT(run("train_mnist", "--data /nonexistent").output, Contains("train-images-idx3-ubyte"));
  CHECK_THAT(run("train_cifar", "--data /nonexistent").output, Contains("data_batch_1"));
  // a directory that exists but holds no data set
  TempDir empty;
  Outcome outcome = run("train_mnist", "--data " + empty.path.string());
  CHECK(outcome.status != 0);
  CHECK_THAT(outcome.output, Contains("no mnist data there") && Contains("scripts/download_data.sh"));
}

TEST_CASE("train_cifar with an unknown --model lists the known ones", "[cli]") {
  Outcome outcome = run("train_cifar", "--model resnet21");
  CHECK(outcome.status == 2);
  CHECK_THAT(outcome.output, Contains("--model resnet21: unknown value; choose one of:") && Contains("resnet20"));
}

TEST_CASE("a non-finite loss stops training and names the step", "[faults]") {
  Outcome outcome = run("train_mnist", mnist_run("--optimizer sgd --lr 1e6 --max-steps 30"));
  INFO(outcome.output);
  CHECK(outcome.status == 1);
  CHECK_THAT(outcome.output, Contains("training stopped: the ") && Contains(" at step ") && Contains("--detect-anomaly"));

  Outcome anomaly = run("train_mnist", mnist_run("--optimizer sgd --lr 1e6 --max-steps 30 --detect-anomaly"));
  INFO(anomaly.output);
  CHECK(anomaly.status == 1);
  // "training stopped at step 1 (epoch 1): conv2d: forward produced a non-finite value in ..."
  CHECK_THAT(anomaly.output, Contains("training stopped at step ") && Contains("(anomaly detection)"));
  CHECK_THAT(anomaly.output, Contains(": forward produced a non-finite value") ||
                                 Contains(" backward: produced a non-finite gradient"));
}

TEST_CASE("a run resumed from its checkpoint ends bitwise where an uninterrupted run ends", "[faults]") {
  TempDir dir;
  Outcome whole = run("train_mnist", mnist_run("--max-steps 20 --save " + dir / "whole.ckpt"));
  REQUIRE(whole.status == 0);
  Outcome first = run("train_mnist", mnist_run("--max-steps 10 --save " + dir / "split.ckpt"));
  REQUIRE(first.status == 0);
  CHECK(read_checkpoint_metadata(dir / "split.ckpt").at("step") == "10");
  Outcome second = run("train_mnist", mnist_run("--max-steps 20 --resume " + dir / "split.ckpt" + " --save " +
                                                dir / "split.ckpt"));
  INFO(second.output);
  REQUIRE(second.status == 0);
  // the same parameters, optimiser state and metadata: the very same bytes
  CHECK(read_checkpoint_metadata(dir / "split.ckpt").at("step") == "20");
  CHECK(file_bytes(dir / "split.ckpt") == file_bytes(dir / "whole.ckpt"));
}

TEST_CASE("a run killed at a random moment leaves a checkpoint that loads, and resumes bitwise", "[faults]") {
  TempDir dir;
  const std::string every = "--save-every 2 --max-steps 30 ";
  Outcome whole = run("train_mnist", mnist_run(every + "--save " + dir / "whole.ckpt"));
  REQUIRE(whole.status == 0);

  std::mt19937 random(std::random_device{}());
  const std::string path = dir / "killed.ckpt";
  int kills = 0;
  for (int attempt = 0; attempt < 6 && kills < 1; attempt++) {
    fs::remove(path);
    pid_t pid = start_mnist(mnist_run(every + "--save " + path));
    // wait for its first checkpoint, then kill it at a random moment of the steps that follow
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 150000)(random)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) continue;  // it finished first: try again
    kills++;

    Metadata metadata = read_checkpoint_metadata(path);  // checks the whole file: size, checksum, structure
    INFO("killed at step " << metadata.at("step") << " or after");
    CHECK(std::stoll(metadata.at("step")) % 2 == 0);
    Outcome resumed = run("train_mnist", mnist_run(every + "--resume " + path + " --save " + path));
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK(file_bytes(path) == file_bytes(dir / "whole.ckpt"));
  }
  CHECK(kills > 0);
}
