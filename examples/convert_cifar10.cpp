// convert_cifar10 IMAGE_FOLDER OUT_DIR
//
// Writes CIFAR-10 in the official binary format from an image folder with train/<class>/*.jpg
// and test/<class>/*.jpg (such as the JPEG rendering of CIFAR-10):
//
//   OUT_DIR/data_batch_1.bin ...   the training images in order, 10,000 records a file
//                                  (50,000 images -> data_batch_1..5.bin, as the official release)
//   OUT_DIR/test_batch.bin         every test image
//   OUT_DIR/batches.meta.txt       the class names, one a line (label 0 first)
//
// A record is 1 label byte + 1024 R + 1024 G + 1024 B bytes, so the images must be 32x32.
// The converter reads the files back with load_cifar10_dir(OUT_DIR, train) and checks that they
// hold exactly the decoded images and labels.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/tensor.h"
#include "engine/wording.h"
#include "io/dataset.h"
#include "train/flags.h"

using namespace glimpse;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kRecordsPerBatch = 10000;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void convert(const fs::path& folder, const fs::path& out_dir) {
  auto start = std::chrono::steady_clock::now();
  ImageDataset train = load_image_folder((folder / "train").string(), 3);
  ImageDataset test = load_image_folder((folder / "test").string(), 3);
  check_same_classes((folder / "train").string(), train.class_names, (folder / "test").string(), test.class_names);
  if (train.classes() > 256) fail("convert_cifar10: the format's label is one byte: at most 256 classes");
  std::printf("read %s and %s of %lldx%lld, %s in %.2f s\n", count_of(train.size(), "training image").c_str(),
              count_of(test.size(), "test image").c_str(), (long long)train.height, (long long)train.width,
              count_of(train.classes(), "class", "classes").c_str(), seconds_since(start));

  start = std::chrono::steady_clock::now();
  fs::create_directories(out_dir);
  int64_t batches = 0;
  for (int64_t first = 0; first < train.size(); first += kRecordsPerBatch) {
    int64_t count = std::min(kRecordsPerBatch, train.size() - first);
    fs::path path = out_dir / ("data_batch_" + std::to_string(++batches) + ".bin");
    write_cifar10_binary(subset(train, first, count), path.string());
    std::printf("wrote %s (%s)\n", path.c_str(), count_of(count, "record").c_str());
  }
  // a data_batch_K.bin left from an earlier, larger conversion would be read as part of this one
  for (int64_t k = batches + 1; fs::exists(out_dir / ("data_batch_" + std::to_string(k) + ".bin")); k++) {
    fs::remove(out_dir / ("data_batch_" + std::to_string(k) + ".bin"));
    std::printf("removed the stale data_batch_%lld.bin\n", (long long)k);
  }
  write_cifar10_binary(test, (out_dir / "test_batch.bin").string());
  std::printf("wrote %s (%s)\n", (out_dir / "test_batch.bin").c_str(), count_of(test.size(), "record").c_str());

  std::string meta;
  for (const std::string& name : train.class_names) meta += name + "\n";
  write_whole_file((out_dir / "batches.meta.txt").string(), reinterpret_cast<const uint8_t*>(meta.data()), meta.size(),
                   "class names");
  std::printf("wrote %s; writing took %.2f s\n", (out_dir / "batches.meta.txt").c_str(), seconds_since(start));

  // read the result back through the binary loader: it must hold exactly the decoded images
  start = std::chrono::steady_clock::now();
  for (bool is_train : {true, false}) {
    const ImageDataset& written = is_train ? train : test;
    ImageDataset read = load_cifar10_dir(out_dir.string(), is_train);
    if (read.pixels != written.pixels || read.labels != written.labels || read.class_names != written.class_names)
      fail("convert_cifar10: reading " + out_dir.string() + " back does not give the images written");
  }
  std::printf("checked: the binary files read back pixel for pixel, label for label (%.2f s)\n", seconds_since(start));
}

}  // namespace

constexpr const char* kUsage =
    "usage: convert_cifar10 IMAGE_FOLDER OUT_DIR\n"
    "  IMAGE_FOLDER holds train/<class>/*.jpg and test/<class>/*.jpg (32x32 images); OUT_DIR gets\n"
    "  data_batch_1.bin ..., test_batch.bin and batches.meta.txt, the official binary format\n";

int main(int argc, char** argv) {
  // --help prints the usage (status 0); any other flag, or a wrong count of arguments, is a
  // usage error (status 2) rather than a folder of that name
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("%s\n", version_line("convert_cifar10").c_str());
      return 0;
    }
    if (arg.starts_with("--")) {
      std::fprintf(stderr, "convert_cifar10: unknown flag '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (argc != 3) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    convert(argv[1], argv[2]);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  return 0;
}
