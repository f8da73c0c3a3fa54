#include "train/data_paths.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "engine/tensor.h"
#include "engine/wording.h"

namespace fs = std::filesystem;

namespace glimpse {

std::string repository_root() { return GLIMPSE_SOURCE_DIR; }

static bool holds_mnist(const fs::path& dir) {
  return fs::exists(dir / "train-images-idx3-ubyte.gz") || fs::exists(dir / "train-images-idx3-ubyte");
}

static bool holds_cifar10(const fs::path& dir) {
  return fs::exists(dir / "data_batch_1.bin") || fs::exists(dir / "cifar-10-batches-bin" / "data_batch_1.bin") ||
         fs::is_directory(dir / "train");
}

static bool holds(const fs::path& dir, const std::string& set) {
  return set == "mnist" ? holds_mnist(dir) : holds_cifar10(dir);
}

static std::string expected_files(const std::string& set) {
  return set == "mnist" ? "the MNIST idx files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                          "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])"
                        : "CIFAR-10 in its binary format (data_batch_1..5.bin, test_batch.bin, possibly inside "
                          "cifar-10-batches-bin/) or as an image folder (train/<class>/*.png|jpg, test/<class>/...)";
}

DataLocation find_data(const std::string& data_flag, const std::string& set, bool quiet) {
  if (set != "mnist" && set != "cifar10") fail("find_data: unknown data set '" + set + "'");
  if (!data_flag.empty()) {
    if (!fs::is_directory(data_flag))
      fail("--data " + data_flag + (fs::exists(data_flag) ? ": is a file, not a directory" : ": no such directory") +
           ". It should hold " + expected_files(set) + "; scripts/download_data.sh fetches them into data/" + set +
           ".");
    if (!holds(data_flag, set))
      fail("--data " + data_flag + ": no " + set + " data there. Expected " + expected_files(set) +
           "; scripts/download_data.sh fetches them into data/" + set + ".");
    return {data_flag, false};
  }
  fs::path full = fs::path(repository_root()) / "data" / set;
  if (holds(full, set)) return {full.string(), false};
  fs::path sample = fs::path(repository_root()) / "data" / "sample" / set;
  if (!holds(sample, set))
    fail("no " + set + " data: neither " + full.string() + " nor the bundled sample " + sample.string() +
         " holds it. Run scripts/download_data.sh, or pass --data DIR.");
  if (!quiet)
    std::printf(
        "No full %s found at %s: training on the bundled sample in %s "
        "(run scripts/download_data.sh or pass --data DIR for the full set).\n",
        set.c_str(), full.string().c_str(), sample.string().c_str());
  return {sample.string(), true};
}

void require_images(const ImageDataset& set, const std::string& dir, int64_t channels, int64_t side, int64_t classes,
                    const std::string& model) {
  auto shape = [](int64_t c, int64_t h, int64_t w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  };
  if (set.channels != channels || set.height != side || set.width != side)
    fail(dir + " holds images of " + shape(set.channels, set.height, set.width) + "; " + model + " takes " +
         shape(channels, side, side) + " (resize the images first)");
  int64_t largest = -1;
  for (int64_t label : set.labels) largest = std::max(largest, label);
  if (largest >= classes)
    fail(dir + " holds " + std::to_string(largest + 1) + " classes; " + model + " classifies " +
         std::to_string(classes));
}

TrainAndTest load_cifar10_for(const std::string& model, const std::string& data_flag, bool quiet, int64_t holdout) {
  TrainAndTest data;
  data.location = find_data(data_flag, "cifar10", quiet);
  data.train = load_cifar10_dir(data.location.dir, true);
  data.test = load_cifar10_dir(data.location.dir, false);
  for (const ImageDataset* set : {&data.train, &data.test}) require_images(*set, data.location.dir, 3, 32, 10, model);
  if (holdout > 0) {
    if (holdout >= data.train.size())
      fail("--holdout " + std::to_string(holdout) + ": " + data.location.dir + " has " +
           count_of(data.train.size(), "training image") + "; hold out fewer, so that some are left to train on");
    HeldOutSplit split = hold_out(data.train, holdout);
    data.train = std::move(split.kept);
    data.held_out = std::move(split.held_out);
  }
  return data;
}

}  // namespace glimpse
