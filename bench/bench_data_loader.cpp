// bench_data_loader [--cifar DIR] [--mnist DIR]
//
// How fast the data sets load and how fast the DataLoader assembles CIFAR-style batches
// (batch 128, random crop with padding 4, flip, per-channel normalisation), and how long the
// trainer waits in next() when it computes between batches (the prefetch should hide the
// assembly). Defaults: the bundled samples in data/sample/.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "engine/parallel.h"
#include "io/data_loader.h"
#include "io/dataset.h"
#include "train/flags.h"

using namespace glimpse;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// One epoch; `work_ms` of busy computation per batch stands in for the trainer's step.
void run_epoch(DataLoader& loader, double work_ms) {
  loader.start_epoch(0);
  Batch batch;
  double waited = 0, checksum = 0;
  int64_t batches = 0;
  auto start = Clock::now();
  for (;;) {
    auto before = Clock::now();
    if (!loader.next(batch)) break;
    waited += seconds_since(before);
    batches++;
    checksum += batch.images.data()[0];
    auto busy_until = Clock::now() + std::chrono::duration<double, std::milli>(work_ms);
    while (Clock::now() < busy_until) {
    }
  }
  double total = seconds_since(start);
  std::printf(
      "  %lld batches, %.1f ms of work each: epoch %.2f s, %.0f images/s, waited in next() "
      "%.3f s (%.2f ms/batch)%s\n",
      (long long)batches, work_ms, total, loader.data().size() / total, waited, 1000 * waited / batches,
      checksum == 12345 ? "!" : "");
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags("bench_data_loader", "Times loading MNIST and CIFAR-10, and assembling augmented CIFAR batches.");
  const std::string& cifar_dir =
      flags.add_string("cifar", "data/sample/cifar10", "CIFAR-10: binary files or an image folder");
  const std::string& mnist_dir = flags.add_string("mnist", "data/sample/mnist", "MNIST's idx files");
  flags.parse(argc, argv);
  std::printf("threads: %d\n", num_threads());
  try {
    auto start = Clock::now();
    ImageDataset mnist = load_mnist_dir(mnist_dir, true);
    std::printf("load_mnist_dir(%s): %lld images in %.2f s\n", mnist_dir.c_str(), (long long)mnist.size(),
                seconds_since(start));
    start = Clock::now();
    ImageDataset cifar = load_cifar10_dir(cifar_dir, true);
    std::printf("load_cifar10_dir(%s): %lld images in %.2f s\n", cifar_dir.c_str(), (long long)cifar.size(),
                seconds_since(start));

    DataLoader loader(cifar, {.batch_size = 128,
                              .seed = 1,
                              .crop_padding = 4,
                              .horizontal_flip = true,
                              .mean = cifar10_mean,
                              .stddev = cifar10_stddev});
    std::printf("CIFAR batches of 128, crop 4 + flip + normalise:\n");
    for (double work_ms : {0.0, 5.0}) run_epoch(loader, work_ms);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  return 0;
}
