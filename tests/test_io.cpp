// Data sets and the DataLoader: the bundled samples load, formats round-trip, every kind of
// bad file gives an Error that says what is wrong, and batches are deterministic.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include <unistd.h>

#include "engine/parallel.h"
#include "io/data_loader.h"
#include "io/dataset.h"
#include "io/image.h"

using namespace glimpse;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kSampleDir = std::string(GLIMPSE_SOURCE_DIR) + "/data/sample";
const std::string kImageCorpusDir = std::string(GLIMPSE_SOURCE_DIR) + "/fuzz/corpus/image";

// A file of fuzz/corpus/image: the seeds of fuzz/fuzz_image.cpp and the inputs it failed on.
std::vector<uint8_t> read_corpus_image(const std::string& name) {
  return read_binary_file(kImageCorpusDir + "/" + name, name);
}

// A fresh folder under the system's temp dir, removed with everything in it at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path =
        fs::temp_directory_path() / ("glimpse_test_io_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void append_be32(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(value >> shift));
}

// An idx3 image file announcing `count` images of rows x cols, holding `stored` of them.
std::vector<uint8_t> idx_images(uint32_t count, uint32_t rows, uint32_t cols, uint32_t stored, uint32_t magic = 0x803) {
  std::vector<uint8_t> bytes;
  for (uint32_t value : {magic, count, rows, cols}) append_be32(bytes, value);
  for (uint32_t i = 0; i < stored * rows * cols; i++) bytes.push_back(static_cast<uint8_t>(i * 7));
  return bytes;
}

std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  append_be32(bytes, 0x801);
  append_be32(bytes, static_cast<uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// A small data set whose image i is full of values (i*13 + k) % 256, labelled i % classes.
ImageDataset make_dataset(int64_t n, int64_t C, int64_t H, int64_t W, int64_t classes = 3) {
  ImageDataset data;
  data.channels = C, data.height = H, data.width = W;
  for (int64_t k = 0; k < classes; k++) data.class_names.push_back("class" + std::to_string(k));
  for (int64_t i = 0; i < n; i++) {
    data.labels.push_back(i % classes);
    for (int64_t k = 0; k < C * H * W; k++) data.pixels.push_back(static_cast<uint8_t>((i * 13 + k) % 256));
  }
  return data;
}

// Every batch of one epoch, copied out.
struct EpochRecord {
  std::vector<std::vector<float>> images;
  std::vector<std::vector<int64_t>> labels;
  std::vector<Shape> shapes;
};

EpochRecord run_epoch(DataLoader& loader, int64_t epoch, int64_t skip = 0) {
  EpochRecord record;
  loader.start_epoch(epoch, skip);
  Batch batch;
  while (loader.next(batch)) {
    record.images.push_back(batch.images.to_vector());
    record.labels.push_back(batch.labels);
    record.shapes.push_back(batch.images.shape());
  }
  return record;
}

bool close(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::abs(a[i] - b[i]) > 1e-6f) return false;
  return true;
}

std::vector<int64_t> concat(const std::vector<std::vector<int64_t>>& parts) {
  std::vector<int64_t> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

}  // namespace

// ---- the bundled samples ----

TEST_CASE("mnist sample loads", "[data][mnist]") {
  ImageDataset train = load_mnist_dir(kSampleDir + "/mnist", true);
  ImageDataset test = load_mnist_dir(kSampleDir + "/mnist", false);
  REQUIRE(train.size() == 5000);
  REQUIRE(test.size() == 1000);
  for (const ImageDataset* data : {&train, &test}) {
    CHECK(data->channels == 1);
    CHECK(data->height == 28);
    CHECK(data->width == 28);
    CHECK(data->classes() == 10);
    CHECK(static_cast<int64_t>(data->pixels.size()) == data->size() * 28 * 28);
    CHECK(std::all_of(data->labels.begin(), data->labels.end(), [](int64_t l) { return l >= 0 && l < 10; }));
    CHECK(*std::max_element(data->pixels.begin(), data->pixels.end()) == 255);
  }
  CHECK(train.labels[0] == 5);  // the first digits of the official files
  CHECK(train.labels[1] == 0);
  CHECK(test.labels[0] == 7);
  CHECK(std::set<int64_t>(train.labels.begin(), train.labels.end()).size() == 10);
}

TEST_CASE("mnist raw and gzip files give the same data", "[data][mnist]") {
  TempDir tmp;
  for (const std::string name : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    std::string gz = kSampleDir + "/mnist/" + name + ".gz";
    write_file(tmp / name, gunzip(read_binary_file(gz, "test"), gz));
  }
  ImageDataset raw = load_mnist_dir(tmp.path.string(), false);
  ImageDataset gzipped = load_mnist_dir(kSampleDir + "/mnist", false);
  CHECK(raw.size() == 1000);
  CHECK(raw.pixels == gzipped.pixels);
  CHECK(raw.labels == gzipped.labels);
  CHECK(raw.class_names == gzipped.class_names);

  // gzip is recognised by its magic bytes, not its name
  fs::copy_file(kSampleDir + "/mnist/t10k-labels-idx1-ubyte.gz", tmp / "labels.bin");
  CHECK(load_mnist(tmp / "t10k-images-idx3-ubyte", tmp / "labels.bin").labels == raw.labels);
}

TEST_CASE("cifar10 sample loads as an image folder", "[data][cifar10]") {
  ImageDataset train = load_cifar10_dir(kSampleDir + "/cifar10", true);
  ImageDataset test = load_cifar10_dir(kSampleDir + "/cifar10", false);
  REQUIRE(train.size() == 2000);
  REQUIRE(test.size() == 500);
  for (const ImageDataset* data : {&train, &test}) {
    CHECK(data->channels == 3);
    CHECK(data->height == 32);
    CHECK(data->width == 32);
    CHECK(data->class_names == cifar10_class_names());  // sorted names = the official order
  }
  // classes in name order, files in name order: 200 airplanes, then 200 automobiles, ...
  for (int64_t i = 0; i < train.size(); i++) REQUIRE(train.labels[i] == i / 200);
  for (int64_t i = 0; i < test.size(); i++) REQUIRE(test.labels[i] == i / 50);
}

TEST_CASE("cifar10 binary format round trip", "[data][cifar10]") {
  TempDir tmp;
  ImageDataset test = load_image_folder(kSampleDir + "/cifar10/test", 3);
  write_cifar10_binary(test, tmp / "test_batch.bin");
  CHECK(fs::file_size(tmp / "test_batch.bin") == 500u * 3073u);
  ImageDataset back = load_cifar10_binary({tmp / "test_batch.bin"});
  CHECK(back.channels == 3);
  CHECK(back.height == 32);
  CHECK(back.width == 32);
  CHECK(back.pixels == test.pixels);
  CHECK(back.labels == test.labels);
  CHECK(back.class_names == cifar10_class_names());

  // a directory of batches: data_batch_1, data_batch_2 ... are read in order and concatenated
  fs::create_directories(tmp / "cifar-10-batches-bin");
  write_cifar10_binary(test, tmp / "cifar-10-batches-bin/data_batch_1.bin");
  write_cifar10_binary(test, tmp / "cifar-10-batches-bin/data_batch_2.bin");
  ImageDataset train = load_cifar10_dir(tmp.path.string(), true);
  REQUIRE(train.size() == 1000);
  CHECK(std::equal(test.pixels.begin(), test.pixels.end(), train.pixels.begin() + test.pixels.size()));

  CHECK_THROWS_WITH(write_cifar10_binary(make_dataset(2, 1, 28, 28), tmp / "x.bin"), Contains("3x32x32"));

  // subset: the images [first, first + count) with their labels
  ImageDataset part = subset(test, 50, 100);
  CHECK(part.size() == 100);
  CHECK(part.labels.front() == 1);
  CHECK(part.labels.back() == 2);
  CHECK(std::equal(part.pixels.begin(), part.pixels.end(), test.image(50)));
  CHECK_THROWS_WITH(subset(test, 450, 51), Contains("data set of 500"));
}

// hold_out: each image in one part, each part in the set's order, the same choice on every call,
// and spread over a set sorted by class (as an image folder reads).
TEST_CASE("hold_out holds out a fixed random choice of images", "[data]") {
  ImageDataset data = make_dataset(200, 1, 2, 2, 10);
  for (int64_t i = 0; i < 200; i++) data.labels[static_cast<size_t>(i)] = i / 20;  // sorted by class
  std::map<uint8_t, int64_t> index_of_first_byte;  // make_dataset's image i starts with i * 13 % 256
  for (int64_t i = 0; i < 200; i++) index_of_first_byte[data.image(i)[0]] = i;
  REQUIRE(index_of_first_byte.size() == 200);
  const HeldOutSplit split = hold_out(data, 50);
  REQUIRE(split.held_out.size() == 50);
  REQUIRE(split.kept.size() == 150);
  std::set<int64_t> seen, held_out_classes;
  for (const ImageDataset* part : {&split.kept, &split.held_out}) {
    CHECK(part->class_names == data.class_names);
    int64_t previous = -1;
    for (int64_t j = 0; j < part->size(); j++) {
      const int64_t i = index_of_first_byte.at(part->image(j)[0]);
      CHECK(i > previous);  // in the set's order
      previous = i;
      CHECK(std::equal(data.image(i), data.image(i) + data.image_bytes(), part->image(j)));
      CHECK(part->labels[static_cast<size_t>(j)] == data.labels[static_cast<size_t>(i)]);
      CHECK(seen.insert(i).second);  // in one part only
      if (part == &split.held_out) held_out_classes.insert(data.labels[static_cast<size_t>(i)]);
    }
  }
  CHECK(seen.size() == 200);
  CHECK(held_out_classes.size() >= 8);                                 // not the last 50 images: the last classes alone
  CHECK(hold_out(data, 50).held_out.pixels == split.held_out.pixels);  // the same choice again
  CHECK(hold_out(data, 0).kept.pixels == data.pixels);
  CHECK_THROWS_WITH(hold_out(data, 200), Contains("a data set of 200 must keep at least one"));
}

TEST_CASE("mnist idx writer round trip, any side", "[data][mnist]") {
  TempDir tmp;
  ImageDataset digits = make_dataset(5, 1, 42, 30, 10);
  write_mnist(digits, tmp / "images", tmp / "labels");
  CHECK(fs::file_size(tmp / "images") == 16u + 5u * 42u * 30u);
  CHECK(fs::file_size(tmp / "labels") == 8u + 5u);
  ImageDataset back = load_mnist(tmp / "images", tmp / "labels");
  CHECK(back.channels == 1);
  CHECK(back.height == 42);
  CHECK(back.width == 30);
  CHECK(back.pixels == digits.pixels);
  CHECK(back.labels == digits.labels);

  CHECK_THROWS_WITH(write_mnist(make_dataset(2, 3, 32, 32), tmp / "i", tmp / "l"), Contains("one channel"));
  ImageDataset label_ten = make_dataset(2, 1, 28, 28);
  label_ten.labels[1] = 10;
  CHECK_THROWS_WITH(write_mnist(label_ten, tmp / "i", tmp / "l"), Contains("label 10 of image 1 is outside 0..9"));
  CHECK_THROWS_WITH(write_mnist(digits, tmp / "no_such_folder/i", tmp / "l"), Contains("cannot create"));
}

// ---- bad files: each gives an Error that names the file and the problem ----

TEST_CASE("mnist loader rejects bad files", "[data][mnist]") {
  TempDir tmp;
  const std::string images = tmp / "images", labels = tmp / "labels";
  write_file(labels, idx_labels({1, 2, 3}));
  auto load = [&] { return load_mnist(images, labels); };

  SECTION("good") {
    write_file(images, idx_images(3, 4, 5, 3));
    ImageDataset data = load();
    CHECK(data.size() == 3);
    CHECK(data.height == 4);
    CHECK(data.width == 5);
  }
  SECTION("wrong magic") {
    write_file(images, idx_images(3, 4, 5, 3, 0x12345678));
    CHECK_THROWS_WITH(load(), Contains(images) && Contains("magic number 0x12345678"));
  }
  SECTION("a label file given as images") {
    write_file(images, idx_labels({1, 2, 3}));
    CHECK_THROWS_WITH(load(), Contains("magic") && Contains("this is a label file"));
  }
  SECTION("truncated header") {
    std::vector<uint8_t> bytes = idx_images(3, 4, 5, 3);
    bytes.resize(10);
    write_file(images, bytes);
    CHECK_THROWS_WITH(load(), Contains(images) && Contains("too short"));
  }
  SECTION("truncated data") {
    std::vector<uint8_t> bytes = idx_images(3, 4, 5, 3);
    bytes.pop_back();
    write_file(images, bytes);
    CHECK_THROWS_WITH(load(), Contains(images) && Contains("truncated"));
  }
  SECTION("count larger than the file") {
    write_file(images, idx_images(0xFFFFFFFF, 4, 5, 3));
    CHECK_THROWS_WITH(load(), Contains("truncated") && Contains("4294967295 images"));
  }
  SECTION("absurd image side") {
    write_file(images, idx_images(3, 100000, 5, 0));
    CHECK_THROWS_WITH(load(), Contains("image side 100000"));
  }
  SECTION("bytes after the data") {
    std::vector<uint8_t> bytes = idx_images(3, 4, 5, 3);
    bytes.push_back(0);
    write_file(images, bytes);
    CHECK_THROWS_WITH(load(), Contains("1 bytes after the 3 images"));
  }
  SECTION("label out of range") {
    write_file(images, idx_images(3, 4, 5, 3));
    write_file(labels, idx_labels({1, 11, 3}));
    CHECK_THROWS_WITH(load(), Contains(labels) && Contains("label 11 of item 1 is outside 0..9"));
  }
  SECTION("image and label counts differ") {
    write_file(images, idx_images(2, 4, 5, 2));
    CHECK_THROWS_WITH(load(), Contains("2 images") && Contains("3 labels"));
  }
  SECTION("empty file") {
    write_file(images, {});
    CHECK_THROWS_WITH(load(), Contains(images) && Contains("empty"));
  }
  SECTION("missing file") {
    CHECK_THROWS_WITH(load(), Contains(images) && Contains("scripts/download_data.sh"));
    CHECK_THROWS_WITH(load_mnist_dir(tmp / "nowhere", true),
                      Contains("train-images-idx3-ubyte.gz") && Contains("scripts/download_data.sh"));
  }
  SECTION("a folder instead of a file") {
    fs::create_directories(images);
    CHECK_THROWS_WITH(load(), Contains("not a regular file"));
  }
}

TEST_CASE("gunzip rejects corrupt and truncated gzip", "[data][gzip]") {
  TempDir tmp;
  const std::string gz = kSampleDir + "/mnist/t10k-labels-idx1-ubyte.gz";
  const std::vector<uint8_t> good = read_binary_file(gz, "test");
  const std::string images = kSampleDir + "/mnist/t10k-images-idx3-ubyte.gz";
  auto load_labels = [&](const std::vector<uint8_t>& bytes) {
    write_file(tmp / "labels.gz", bytes);
    return load_mnist(images, tmp / "labels.gz");
  };
  REQUIRE(gunzip(good, gz).size() == 8 + 1000);

  SECTION("corrupt deflate data") {
    for (size_t at : {size_t{20}, good.size() / 2, good.size() - 12}) {
      std::vector<uint8_t> bad = good;
      bad[at] ^= 0x5A;
      CHECK_THROWS_WITH(load_labels(bad), Contains(tmp / "labels.gz") && Contains("gzip data is corrupt"));
    }
  }
  SECTION("corrupt trailer") {
    std::vector<uint8_t> bad = good;
    bad[bad.size() - 6] ^= 1;  // a CRC byte
    CHECK_THROWS_WITH(load_labels(bad), Contains("CRC-32"));
  }
  SECTION("truncated") {
    for (size_t keep : {size_t{2}, size_t{9}, size_t{15}, good.size() / 2, good.size() - 1}) {
      std::vector<uint8_t> bad(good.begin(), good.begin() + keep);
      CHECK_THROWS_WITH(load_labels(bad), Contains("gzip") && Contains("truncated"));
    }
  }
  SECTION("bad header flags and method") {
    std::vector<uint8_t> bad = good;
    bad[3] = 0xE0;  // reserved flags
    CHECK_THROWS_WITH(gunzip(bad, "x.gz"), Contains("x.gz") && Contains("reserved flag"));
    bad = good;
    bad[2] = 7;
    CHECK_THROWS_WITH(gunzip(bad, "x.gz"), Contains("compression method 7"));
    bad = good;
    bad[3] = 0x08;  // FNAME, but the name never ends before the data does: a corrupt header
    bad.resize(40);
    std::fill(bad.begin() + 10, bad.end(), 'a');
    CHECK_THROWS_WITH(gunzip(bad, "x.gz"), Contains("truncated"));
  }
  SECTION("every single-byte corruption gives an Error or the right data") {
    for (size_t at = 0; at < good.size(); at += 7) {
      std::vector<uint8_t> bad = good;
      bad[at] ^= 0xFF;
      std::vector<uint8_t> out;
      try {
        out = gunzip(bad, "x.gz");
      } catch (const Error& error) {
        CHECK_THAT(error.what(), Contains("x.gz"));
        continue;
      }
      CHECK(out == gunzip(good, "x.gz"));  // only header bytes such as MTIME may change
    }
  }
}

// A gzip'd file of 2^31 bytes (2 GB of zeros: a ~2 MB .gz) made gunzip wrap the inflated length
// to a negative int and check the CRC of "that many" bytes, far past its buffer (SIGSEGV in every
// MNIST trainer). gunzip now decides on the trailer's ISIZE before inflating: 2^31 - 1 bytes is
// the most it holds, 2^31 is refused. Such a file is this one: its ISIZE says 2^31 and its deflate
// stream is long enough to hold that (a byte of deflate inflates to at most 1032); the stream
// itself is junk, inflated only where the size passes (and then refused as corrupt). Data longer
// than 2^32 (ISIZE wrapped) stops stb at 2^31 bytes and gets the same refusal.
TEST_CASE("gunzip refuses data of 2^31 bytes or more, naming the file", "[data][gzip]") {
  auto gzip_claiming = [](uint32_t isize) {
    const uint8_t header[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    const size_t deflate = (size_t{1} << 31) / 1032 + 1;
    std::vector<uint8_t> gz(sizeof header + deflate + 8, 0xFF);  // 0xFF: a final block of the invalid type 3
    std::copy(std::begin(header), std::end(header), gz.begin());
    uint8_t* trailer = gz.data() + sizeof header + deflate;
    for (int b = 0; b < 4; b++) trailer[b] = 0;  // CRC-32, never reached
    for (int b = 0; b < 4; b++) trailer[4 + b] = static_cast<uint8_t>(isize >> (8 * b));
    return gz;
  };
  REQUIRE(gunzip_max_bytes == 2147483647);
  CHECK_THROWS_WITH(gunzip(gzip_claiming(uint32_t{1} << 31), "big.gz"),
                    Contains("big.gz: gzip data inflates to 2147483648 bytes") && Contains("more than the 2147483647"));
  CHECK_THROWS_WITH(gunzip(gzip_claiming(0x80000001), "big.gz"), Contains("inflates to 2147483649 bytes"));
  CHECK_THROWS_WITH(gunzip(gzip_claiming((uint32_t{1} << 31) - 1), "big.gz"),
                    Contains("big.gz: gzip data is corrupt"));  // the size passes; the junk does not inflate

  // through the MNIST loader, the message names the file
  TempDir tmp;
  write_file(tmp / "train-labels-idx1-ubyte.gz", gzip_claiming(uint32_t{1} << 31));
  CHECK_THROWS_WITH(load_mnist(kSampleDir + "/mnist/t10k-images-idx3-ubyte.gz", tmp / "train-labels-idx1-ubyte.gz"),
                    Contains("mnist: '" + tmp / "train-labels-idx1-ubyte.gz" + "': gzip data inflates to 2147483648"));
}

// A file whose header or size is wrong is refused after reading its first bytes, not the whole of
// it: sparse files of 64 GiB (no disk, no memory) that a reader reading first would choke on.
TEST_CASE("loaders check a huge file's header against its size before reading it", "[data]") {
  TempDir tmp;
  const uintmax_t huge = uintmax_t{64} << 30;
  auto sparse_file = [&](const std::string& name, const std::vector<uint8_t>& head, uintmax_t size) {
    write_file(tmp / name, head);
    fs::resize_file(tmp / name, size);
    return tmp / name;
  };
  const std::string labels = kSampleDir + "/mnist/t10k-labels-idx1-ubyte.gz";
  // idx: a wrong magic, and a right one whose dimensions do not match the file's size
  std::string not_idx = sparse_file("not_idx", {1, 2, 3, 4}, huge);
  CHECK_THROWS_WITH(load_mnist(not_idx, labels), Contains(not_idx) && Contains("magic number 0x01020304"));
  std::string wrong_size = sparse_file("wrong_size", idx_images(10, 28, 28, 0), huge);
  CHECK_THROWS_WITH(load_mnist(wrong_size, labels),
                    Contains(wrong_size) && Contains("68719468880 bytes after the 10 images"));
  // a gzip file larger than gunzip reads
  std::string big_gz = sparse_file("big.gz", {0x1f, 0x8b, 8, 0}, uintmax_t{3} << 30);
  CHECK_THROWS_WITH(load_mnist(big_gz, labels), Contains(big_gz) && Contains("gzip file of 3221225472 bytes"));
  // CIFAR-10: not a whole number of records
  std::string batch = sparse_file("data_batch_1.bin", {}, huge);
  CHECK_THROWS_WITH(load_cifar10_binary({batch}),
                    Contains(batch) && Contains("not a whole number of 3073-byte records"));
  // CIFAR-10's list of class names
  fs::create_directories(tmp / "cifar");
  write_file(tmp / "cifar/data_batch_1.bin", std::vector<uint8_t>(3073, 0));
  std::string names = sparse_file("cifar/batches.meta.txt", {'c', 'a', 't', '\n'}, huge);
  CHECK_THROWS_WITH(load_cifar10_dir(tmp / "cifar", true), Contains(names) && Contains("is 68719476736 bytes"));
  // an image file larger than stb reads
  fs::create_directories(tmp / "folder/a_class");
  std::string image = sparse_file("folder/a_class/0.png", {0x89, 'P', 'N', 'G'}, uintmax_t{3} << 30);
  CHECK_THROWS_WITH(load_image_folder(tmp / "folder", 3),
                    Contains(image) && Contains("is 3221225472 bytes, more than"));
}

// A CIFAR-10 image folder whose test/ lacked a class read without a word, every test label after
// the missing class shifted by one (test accuracy 0.0000): the loader compares the class folders
// of train/ and test/ whichever it reads, and names the class and both folders.
TEST_CASE("cifar10 image folders: train/ and test/ must hold the same classes", "[data][cifar10]") {
  TempDir tmp;
  Image pixel{.height = 32, .width = 32, .channels = 3, .pixels = std::vector<uint8_t>(3072, 50)};
  for (const char* split : {"train", "test"})
    for (const char* name : {"bird", "cat", "dog"}) {
      fs::create_directories(tmp.path / split / name);
      write_png(pixel, (tmp.path / split / name / "0.png").string());
    }
  CHECK(load_cifar10_dir(tmp.path.string(), false).labels == std::vector<int64_t>{0, 1, 2});

  const std::string train = tmp / "train", test = tmp / "test";
  fs::remove_all(tmp.path / "test" / "cat");
  for (bool is_train : {true, false}) {
    INFO("train " << is_train);
    CHECK_THROWS_WITH(load_cifar10_dir(tmp.path.string(), is_train),
                      Contains("class folder 'cat' is in '" + train + "' but not in '" + test + "'"));
  }
  fs::create_directories(tmp.path / "test" / "cat");  // an empty class folder still counts
  fs::create_directories(tmp.path / "test" / "emu");
  CHECK_THROWS_WITH(load_cifar10_dir(tmp.path.string(), true),
                    Contains("class folder 'emu' is in '" + test + "' but not in '" + train + "'"));
  std::vector<std::string> a = {"cat", "dog"}, b = {"cat"};
  CHECK_THROWS_WITH(check_same_classes("x/train", a, "x/test", b),
                    Contains("'dog' is in 'x/train' but not in 'x/test'") && Contains("shift every label"));
  CHECK_NOTHROW(check_same_classes("x/train", a, "x/test", a));
}

TEST_CASE("cifar10 loader rejects bad files", "[data][cifar10]") {
  TempDir tmp;
  const std::string path = tmp / "data_batch_1.bin";
  std::vector<uint8_t> record(3073, 17);
  record[0] = 3;

  SECTION("empty file") {
    write_file(path, {});
    CHECK_THROWS_WITH(load_cifar10_binary({path}), Contains(path) && Contains("empty"));
  }
  SECTION("truncated record") {
    std::vector<uint8_t> bytes = record;
    bytes.insert(bytes.end(), record.begin(), record.end() - 1);
    write_file(path, bytes);
    CHECK_THROWS_WITH(load_cifar10_binary({path}), Contains(path) && Contains("6145 bytes") && Contains("truncated"));
  }
  SECTION("label out of range") {
    std::vector<uint8_t> bytes = record;
    bytes.insert(bytes.end(), record.begin(), record.end());
    bytes[3073] = 11;
    write_file(path, bytes);
    CHECK_THROWS_WITH(load_cifar10_binary({path}), Contains(path) && Contains("record 1 has label 11"));
  }
  SECTION("missing files") {
    CHECK_THROWS_WITH(load_cifar10_binary({path}), Contains(path) && Contains("scripts/download_data.sh"));
    CHECK_THROWS_WITH(load_cifar10_dir(tmp.path.string(), false),
                      Contains("test_batch.bin") && Contains("scripts/download_data.sh"));
  }
  SECTION("class names from batches.meta.txt decide the label range") {
    write_file(path, record);
    write_file(tmp / "batches.meta.txt", {'a', '\n', 'b', '\n', '\n'});
    CHECK_THROWS_WITH(load_cifar10_dir(tmp.path.string(), true), Contains("has label 3, outside 0..1"));
  }
}

TEST_CASE("image folder rejects non-images and mismatched sizes", "[data][image_folder]") {
  TempDir tmp;
  Image small{.height = 4, .width = 5, .channels = 3, .pixels = std::vector<uint8_t>(60, 200)};
  fs::create_directories(tmp / "a_class");
  fs::create_directories(tmp / "b_class");
  write_png(small, tmp / "b_class/1.png");
  write_png(small, tmp / "a_class/2.png");
  write_png(small, tmp / "a_class/1.png");
  write_file(tmp / "a_class/.hidden", {1, 2, 3});  // skipped

  SECTION("good: classes and files sorted by name") {
    ImageDataset data = load_image_folder(tmp.path.string(), 3);
    CHECK(data.class_names == std::vector<std::string>{"a_class", "b_class"});
    CHECK(data.labels == std::vector<int64_t>{0, 0, 1});
    CHECK(data.height == 4);
    CHECK(data.width == 5);
    CHECK(std::all_of(data.pixels.begin(), data.pixels.end(), [](uint8_t p) { return p == 200; }));
    ImageDataset grey = load_image_folder(tmp.path.string(), 1);  // converted to one channel
    CHECK(grey.channels == 1);
    CHECK(grey.pixels == std::vector<uint8_t>(3 * 4 * 5, 200));
  }
  SECTION("a file that is not an image") {
    write_file(tmp / "b_class/notes.txt", {'h', 'i'});
    CHECK_THROWS_WITH(load_image_folder(tmp.path.string(), 3),
                      Contains("b_class/notes.txt") && Contains("not an image"));
  }
  SECTION("an image that does not decode") {
    write_file(tmp / "b_class/broken.png", {0x89, 'P', 'N', 'G', 1, 2, 3});
    CHECK_THROWS_WITH(load_image_folder(tmp.path.string(), 3),
                      Contains("b_class/broken.png") && Contains("not a readable image"));
  }
  SECTION("an empty image file") {
    write_file(tmp / "a_class/0.jpg", {});
    CHECK_THROWS_WITH(load_image_folder(tmp.path.string(), 3), Contains("a_class/0.jpg") && Contains("empty"));
  }
  SECTION("mismatched sizes") {
    Image wide{.height = 4, .width = 6, .channels = 3, .pixels = std::vector<uint8_t>(72, 9)};
    write_png(wide, tmp / "b_class/2.png");
    CHECK_THROWS_WITH(load_image_folder(tmp.path.string(), 3),
                      Contains("b_class/2.png' is 6x4") && Contains("one size"));
  }
  SECTION("a file beside the class folders") {
    write_file(tmp / "README", {'x'});
    CHECK_THROWS_WITH(load_image_folder(tmp.path.string(), 3), Contains("README") &&
                                                                   Contains("is a file, not a directory") &&
                                                                   Contains("one folder of images per class"));
  }
  SECTION("no folder") {
    CHECK_THROWS_WITH(load_image_folder(tmp / "nowhere", 3), Contains("nowhere") && Contains("does not exist"));
    write_file(tmp / "a file", {'x'});
    CHECK_THROWS_WITH(load_image_folder(tmp / "a file", 3), Contains("is a file, not a directory"));
  }
}

TEST_CASE("loaders survive random corruption", "[data][fuzz]") {
  TempDir tmp;
  std::mt19937 rng(5);
  const std::vector<uint8_t> images = idx_images(4, 6, 5, 4), labels = idx_labels({1, 2, 3, 4});
  std::vector<uint8_t> png_bytes;
  {
    Image image{.height = 6, .width = 5, .channels = 3, .pixels = std::vector<uint8_t>(90, 77)};
    write_png(image, tmp / "image.png");
    png_bytes = read_binary_file(tmp / "image.png", "test");
  }
  const std::vector<uint8_t> gz = read_binary_file(kSampleDir + "/mnist/t10k-labels-idx1-ubyte.gz", "test");

  // a few random byte changes, or a random truncation
  auto corrupt = [&](std::vector<uint8_t> bytes) {
    if (rng() % 4 == 0) {
      bytes.resize(rng() % (bytes.size() + 1));
    } else {
      for (int k = 1 + rng() % 4; k > 0; k--) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    }
    return bytes;
  };
  // each attempt either succeeds or raises glimpse::Error: no crash, no other exception
  auto survives = [](auto&& load) {
    try {
      load();
    } catch (const Error&) {
    }
  };
  for (int trial = 0; trial < 100; trial++) {
    write_file(tmp / "images", corrupt(images));
    write_file(tmp / "labels", corrupt(labels));
    survives([&] { load_mnist(tmp / "images", tmp / "labels"); });
    write_file(tmp / "batch.bin", corrupt(std::vector<uint8_t>(2 * 3073, 1)));
    survives([&] { load_cifar10_binary({tmp / "batch.bin"}); });
    survives([&] { decode_image(corrupt(png_bytes), 3, "image"); });
    survives([&] { gunzip(corrupt(gz), "gz"); });
  }
}

// ---- DataLoader ----

TEST_CASE("data loader batch shapes, last partial batch and drop_last", "[data][loader]") {
  ImageDataset data = make_dataset(10, 2, 3, 4);
  DataLoader loader(data, {.batch_size = 4, .shuffle = false});
  CHECK(loader.batches_per_epoch() == 3);
  EpochRecord epoch = run_epoch(loader, 0);
  REQUIRE(epoch.shapes == std::vector<Shape>{{4, 2, 3, 4}, {4, 2, 3, 4}, {2, 2, 3, 4}});
  CHECK(concat(epoch.labels) == data.labels);  // no shuffle: the data set's order
  for (int64_t k = 0; k < 24; k++)             // bytes scaled to [0, 1]: image 5 is the second of batch 1
    CHECK(epoch.images[1][24 + k] == Approx(data.image(5)[k] / 255.0f));

  DataLoader dropping(data, {.batch_size = 4, .shuffle = false, .drop_last = true});
  CHECK(dropping.batches_per_epoch() == 2);
  CHECK(run_epoch(dropping, 0).shapes == std::vector<Shape>{{4, 2, 3, 4}, {4, 2, 3, 4}});

  Batch batch;
  DataLoader fresh(data, {});
  CHECK_THROWS_WITH(fresh.next(batch), Contains("start_epoch"));
  CHECK_THROWS_WITH(fresh.start_epoch(0, 2), Contains("skip_batches"));
  CHECK_THROWS_WITH(DataLoader(data, {.batch_size = 0}), Contains("batch_size"));
  CHECK_THROWS_WITH(DataLoader(data, {.mean = {0.5f}, .stddev = {0.5f}}), Contains("one value per channel"));
}

TEST_CASE("data loader order depends only on seed and epoch", "[data][loader]") {
  ImageDataset data = make_dataset(50, 1, 2, 2, 50);  // label = index
  DataLoader loader(data, {.batch_size = 8, .seed = 3});
  DataLoader twin(data, {.batch_size = 8, .seed = 3});
  DataLoader other_seed(data, {.batch_size = 8, .seed = 4});

  std::vector<int64_t> epoch0 = concat(run_epoch(loader, 0).labels);
  std::vector<int64_t> epoch1 = concat(run_epoch(loader, 1).labels);
  CHECK(concat(run_epoch(twin, 0).labels) == epoch0);
  CHECK(concat(run_epoch(loader, 0).labels) == epoch0);  // an epoch can be replayed
  CHECK(epoch1 != epoch0);
  CHECK(concat(run_epoch(other_seed, 0).labels) != epoch0);
  std::vector<int64_t> sorted = epoch1;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == data.labels);  // a permutation: every image exactly once
}

TEST_CASE("data loader skip_batches resumes mid-epoch", "[data][loader]") {
  ImageDataset data = make_dataset(30, 3, 4, 4);
  LoaderOptions options{.batch_size = 7, .seed = 11, .crop_padding = 1, .horizontal_flip = true};
  DataLoader loader(data, options);
  EpochRecord full = run_epoch(loader, 5);
  REQUIRE(full.labels.size() == 5);
  for (int64_t skip : {1, 3, 5}) {
    EpochRecord resumed = run_epoch(loader, 5, skip);
    REQUIRE(static_cast<int64_t>(resumed.labels.size()) == 5 - skip);
    for (size_t b = 0; b < resumed.labels.size(); b++) {
      CHECK(resumed.labels[b] == full.labels[b + skip]);
      CHECK(resumed.images[b] == full.images[b + skip]);  // augmentation too
    }
  }
}

TEST_CASE("data loader normalises per channel", "[data][loader]") {
  ImageDataset data = make_dataset(3, 2, 2, 2);
  const std::vector<float> mean = {0.5f, 0.25f}, stddev = {0.5f, 2.0f};
  DataLoader loader(data, {.batch_size = 3, .shuffle = false, .mean = mean, .stddev = stddev});
  std::vector<float> images = run_epoch(loader, 0).images[0];
  for (int64_t i = 0; i < 3; i++)
    for (int64_t c = 0; c < 2; c++)
      for (int64_t k = 0; k < 4; k++) {
        float byte = data.image(i)[c * 4 + k];
        CHECK(images[(i * 2 + c) * 4 + k] == Approx((byte / 255.0f - mean[c]) / stddev[c]).margin(1e-6));
      }
}

TEST_CASE("data loader crop and flip keep shapes and follow the seed", "[data][loader]") {
  const int64_t C = 2, H = 5, W = 6, pad = 2;
  ImageDataset data = make_dataset(20, C, H, W, 20);  // label = index
  LoaderOptions options{.batch_size = 6, .seed = 9, .crop_padding = pad, .horizontal_flip = true};
  DataLoader loader(data, options);
  EpochRecord epoch = run_epoch(loader, 2);
  for (const Shape& shape : epoch.shapes) CHECK((shape[1] == C && shape[2] == H && shape[3] == W));

  // each output is one of the (2*pad+1)^2 crops of the zero-padded image, maybe flipped
  auto augmented = [&](int64_t index, int64_t dy, int64_t dx, bool flip) {
    std::vector<float> out;
    for (int64_t c = 0; c < C; c++)
      for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
          int64_t sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
          bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
          out.push_back(inside ? data.image(index)[(c * H + sy) * W + sx] / 255.0f : 0.0f);
        }
    return out;
  };
  std::set<std::tuple<int64_t, int64_t, bool>> seen;
  for (size_t b = 0; b < epoch.labels.size(); b++)
    for (size_t i = 0; i < epoch.labels[b].size(); i++) {
      std::vector<float> image(epoch.images[b].begin() + i * C * H * W, epoch.images[b].begin() + (i + 1) * C * H * W);
      bool found = false;
      for (int64_t dy = -pad; dy <= pad; dy++)
        for (int64_t dx = -pad; dx <= pad; dx++)
          for (bool flip : {false, true})
            if (!found && close(image, augmented(epoch.labels[b][i], dy, dx, flip))) {
              found = true;
              seen.insert({dy, dx, flip});
            }
      CHECK(found);
    }
  CHECK(seen.size() > 5);  // the augmentation varies between images

  DataLoader twin(data, options);
  CHECK(run_epoch(twin, 2).images == epoch.images);
  options.seed = 10;
  DataLoader other(data, options);
  CHECK(run_epoch(other, 2).images != epoch.images);
}

TEST_CASE("data loader batches do not depend on the thread count", "[data][loader]") {
  ImageDataset data = make_dataset(200, 3, 8, 8);
  LoaderOptions options{.batch_size = 64,
                        .seed = 1,
                        .crop_padding = 2,
                        .horizontal_flip = true,
                        .mean = {0.4f, 0.5f, 0.6f},
                        .stddev = {0.2f, 0.25f, 0.3f}};
  int threads = num_threads();
  set_num_threads(1);
  DataLoader serial(data, options);
  EpochRecord one = run_epoch(serial, 0);
  set_num_threads(2);
  DataLoader parallel(data, options);
  EpochRecord two = run_epoch(parallel, 0);
  set_num_threads(threads);
  CHECK(one.images == two.images);
  CHECK(one.labels == two.labels);
}

TEST_CASE("data loader never overwrites a batch the caller still holds", "[data][loader]") {
  ImageDataset data = make_dataset(40, 1, 4, 4);
  DataLoader loader(data, {.batch_size = 8, .seed = 2});
  loader.start_epoch(0);
  Batch batch;
  std::vector<Tensor> kept;  // the trainer may keep tensors (or its graph may save them)
  std::vector<std::vector<float>> values;
  while (loader.next(batch)) {
    kept.push_back(batch.images);
    values.push_back(batch.images.to_vector());
  }
  for (size_t b = 0; b < kept.size(); b++) CHECK(kept[b].to_vector() == values[b]);
  for (size_t b = 1; b < kept.size(); b++) CHECK(!kept[b].same(kept[b - 1]));
}

TEST_CASE("a JPEG whose Huffman table has more than 256 codes is refused, not overflowed", "[data][image]") {
  // found by fuzz/fuzz_image.cpp: stb_image 2.27 wrote past its 257-entry size table
  // (the second file's table is cut off by the end of the file: stb reads the missing counts as 0; the
  // third starts FF FF D8: stb skips fill bytes before a marker)
  for (std::string name : {"regression_jpeg_huffman_overflow.jpg", "regression_jpeg_huffman_overflow_truncated.jpg",
                           "regression_jpeg_huffman_overflow_fill_bytes.jpg"}) {
    std::vector<uint8_t> bytes = read_corpus_image(name);
    REQUIRE(bytes.size() > 200);
    CHECK_THROWS_WITH(decode_image(bytes, 3, name), Contains(name) && Contains("Huffman table"));
  }
  // the valid JPEGs of the sample still decode
  std::ifstream good_file(kSampleDir + "/cifar10/train/airplane/0000.jpg", std::ios::binary);
  std::vector<uint8_t> good{std::istreambuf_iterator<char>(good_file), std::istreambuf_iterator<char>()};
  Image image = decode_image(good, 3, "0000.jpg");
  CHECK(image.height == 32);
  CHECK(image.width == 32);
}

TEST_CASE("a JPEG scan that uses a Huffman table the file never defines is refused", "[data][image]") {
  // found by fuzz/fuzz_image.cpp: the scan gives its second component AC table 3, which no DHT
  // segment defines; stb_image 2.27 decoded with whatever memory held and indexed past a table
  std::vector<uint8_t> bytes = read_corpus_image("regression_jpeg_undefined_huffman_table.jpg");
  REQUIRE(bytes.size() == 924);
  CHECK_THROWS_WITH(decode_image(bytes, 3, "scan.jpg"),
                    Contains("scan.jpg") && Contains("uses AC Huffman table 3, which the file does not define"));
}

TEST_CASE("a corrupt JPEG whose DC coefficient overflows int decodes without undefined behaviour", "[data][image]") {
  // found by fuzz/fuzz_image.cpp under UBSan: stb_image multiplies a block's DC coefficient by its
  // quantisation entry in int. This 211-byte JPEG (16x8 grey, two blocks) has a 16-bit quantisation
  // table of 65535s and a DC table whose one code means "+32767": the second block's coefficient
  // 65534 times 65535 overflows. io/stb_image_impl.cpp is compiled with -fwrapv, so the product
  // wraps (defined, garbage pixels of a corrupt file); test.sh --sanitize would stop here otherwise.
  // fuzz/make_jpeg_dc_overflow.py writes the file.
  std::vector<uint8_t> bytes = read_corpus_image("regression_jpeg_dc_overflow.jpg");
  REQUIRE(bytes.size() == 211);
  Image image = decode_image(bytes, 1, "dc.jpg");
  CHECK(image.height == 8);
  CHECK(image.width == 16);
}

TEST_CASE("a progressive JPEG decodes to the same pixels as its baseline twin", "[data][image]") {
  // cjpeg -quality 75 [-progressive] of one CIFAR-10 image: the same quantised coefficients, sent in
  // one scan or in ten (each with the Huffman tables it needs defined just before it), so the
  // check that a scan's tables exist must pass both and stb must decode both alike
  Image progressive = decode_image(read_corpus_image("progressive_32x32.jpg"), 3, "progressive_32x32.jpg");
  Image baseline =
      decode_image(read_corpus_image("progressive_32x32_baseline_twin.jpg"), 3, "progressive_32x32_baseline_twin.jpg");
  CHECK(progressive.height == 32);
  CHECK(progressive.width == 32);
  CHECK(progressive.pixels == baseline.pixels);
}

TEST_CASE("every image file fuzzing failed on is decoded or refused with a message, never a crash", "[data][image]") {
  // fuzz/corpus/image/regression_* keeps each input on which fuzz/fuzz_image.cpp found a fault;
  // under scripts/test.sh --sanitize this also checks that stb's code stays quiet on them
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kImageCorpusDir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("regression_", 0) != 0) continue;
    std::vector<uint8_t> bytes = read_corpus_image(name);
    for (int64_t channels = 1; channels <= 4; channels++) {
      INFO(name << " as " << channels << " channels");
      try {
        Image image = decode_image(bytes, channels, name);
        CHECK(image.pixels.size() == static_cast<size_t>(image.height * image.width * channels));
      } catch (const Error& error) {
        CHECK_THAT(error.what(), Contains(name));
      }
    }
    files++;
  }
  CHECK(files >= 9);
}

TEST_CASE("a PNG chunk that runs past the end of the file is refused before anything is allocated for it",
          "[data][image]") {
  // found by fuzz/fuzz_image.cpp: a 63-byte file whose IDAT claims ~1.5 GB made stb allocate that
  std::vector<uint8_t> bad = read_corpus_image("regression_png_huge_chunk.png");
  REQUIRE(bad.size() == 63);
  CHECK_THROWS_WITH(decode_image(bad, 1, "huge.png"), Contains("huge.png") && Contains("runs past the end"));
  Image good = decode_image(read_corpus_image("rgb_5x3.png"), 3, "rgb_5x3.png");  // a valid PNG still decodes
  CHECK(good.height == 3);
  CHECK(good.width == 5);
}

TEST_CASE("an image header stating more pixels than glimpse reads is refused before decoding", "[data][image]") {
  // found by fuzz/fuzz_image.cpp: a 96-byte BMP stating 15616 x 9532 pixels made stb allocate
  // 446 MB and fill it for seconds
  std::vector<uint8_t> bad = read_corpus_image("regression_bmp_huge_header");
  REQUIRE(bad.size() == 96);
  CHECK_THROWS_WITH(decode_image(bad, 3, "huge.bmp"), Contains("huge.bmp") && Contains("15616x9532"));
}
