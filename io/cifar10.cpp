// CIFAR-10 in the official binary format: records of 1 label byte + 3072 pixel bytes, the
// pixels already planar (1024 R, then 1024 G, then 1024 B, each 32 rows of 32), i.e. CHW.
#include <filesystem>
#include <fstream>

#include "engine/tensor.h"
#include "engine/wording.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

constexpr int64_t kSide = 32, kChannels = 3;
constexpr int64_t kImageBytes = kChannels * kSide * kSide;  // 3072
constexpr int64_t kRecordBytes = 1 + kImageBytes;           // 3073

namespace fs = std::filesystem;

// Class names from batches.meta.txt (one per line, as in the official release), when present.
std::vector<std::string> read_class_names(const fs::path& dir) {
  fs::path path = dir / "batches.meta.txt";
  if (!fs::exists(path)) return cifar10_class_names();
  // 256 names of a line each: anything near a megabyte is not such a list (and is not read)
  constexpr uintmax_t max_bytes = 1 << 20;
  if (const uintmax_t size = fs::file_size(path); size > max_bytes)
    fail("cifar10: '" + path.string() + "' is " + std::to_string(size) + " bytes, more than the " +
         std::to_string(max_bytes) + " a list of at most 256 class names takes");
  std::ifstream file(path);
  std::vector<std::string> names;
  for (std::string line; std::getline(file, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  if (names.empty() || names.size() > 256)
    fail("cifar10: '" + path.string() + "' should list 1 to 256 class names, one a line; it lists " +
         std::to_string(names.size()));
  return names;
}

// The folder that holds the binary batches: dir itself or dir/cifar-10-batches-bin (the name
// the official tarball extracts to). Empty when neither holds `first_file`.
fs::path find_batches_dir(const fs::path& dir, const std::string& first_file) {
  for (fs::path candidate : {dir, dir / "cifar-10-batches-bin"})
    if (fs::exists(candidate / first_file)) return candidate;
  return {};
}

// Refuses a file size that is not a whole number of records; checked before a file is read,
// so a huge file that is no batch is refused without reading it.
void check_record_file_size(uint64_t size, const std::string& path) {
  if (size == 0) fail("cifar10: '" + path + "' is empty");
  if (size % kRecordBytes != 0)
    fail("cifar10: '" + path + "' is " + count_of(static_cast<int64_t>(size), "byte") + ", not a whole number of " +
         "3073-byte records (1 label + 3072 pixels): truncated, or not a CIFAR-10 binary batch");
}

// Appends the records of one file's bytes to data; labels must index data.class_names.
void append_records(ImageDataset& data, const std::vector<uint8_t>& bytes, const std::string& path) {
  check_record_file_size(bytes.size(), path);
  int64_t records = static_cast<int64_t>(bytes.size()) / kRecordBytes;
  int64_t first = data.size();
  data.labels.resize(first + records);
  data.pixels.resize((first + records) * kImageBytes);
  for (int64_t r = 0; r < records; r++) {
    const uint8_t* record = bytes.data() + r * kRecordBytes;
    if (record[0] >= data.classes())
      fail("cifar10: '" + path + "': record " + std::to_string(r) + " has label " + std::to_string(record[0]) +
           ", outside 0.." + std::to_string(data.classes() - 1));
    data.labels[first + r] = record[0];
    std::copy(record + 1, record + kRecordBytes, data.pixels.begin() + (first + r) * kImageBytes);
  }
}

ImageDataset empty_cifar10(const std::vector<std::string>& class_names) {
  ImageDataset data;
  data.channels = kChannels;
  data.height = data.width = kSide;
  data.class_names = class_names;
  return data;
}

// Reads the records of every file in order; labels must index class_names.
ImageDataset load_records(const std::vector<std::string>& files, const std::vector<std::string>& class_names) {
  if (files.empty()) fail("cifar10: load_cifar10_binary needs at least one file");
  ImageDataset data = empty_cifar10(class_names);
  for (const std::string& path : files) {
    check_record_file_size(read_file_head(path, "cifar10", 0).size, path);
    append_records(data, read_binary_file(path, "cifar10"), path);
  }
  return data;
}

}  // namespace

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

ImageDataset load_cifar10_binary(const std::vector<std::string>& files) {
  return load_records(files, cifar10_class_names());
}

ImageDataset decode_cifar10_binary(const std::vector<uint8_t>& bytes, const std::string& path) {
  ImageDataset data = empty_cifar10(cifar10_class_names());
  append_records(data, bytes, path);
  return data;
}

ImageDataset load_cifar10_dir(const std::string& dir, bool train) {
  const std::string first_file = train ? "data_batch_1.bin" : "test_batch.bin";
  fs::path batches = find_batches_dir(dir, first_file);
  if (!batches.empty()) {
    std::vector<std::string> files = {(batches / first_file).string()};
    // data_batch_2.bin, 3, ... as many as follow without a gap (the official release has 5)
    for (int k = 2; train && fs::exists(batches / ("data_batch_" + std::to_string(k) + ".bin")); k++)
      files.push_back((batches / ("data_batch_" + std::to_string(k) + ".bin")).string());
    return load_records(files, read_class_names(batches));
  }
  const fs::path train_dir = fs::path(dir) / "train", test_dir = fs::path(dir) / "test";
  const fs::path folder = train ? train_dir : test_dir;
  if (fs::is_directory(folder)) {
    // train/ and test/ are read by two calls: each checks that both hold the same classes
    if (fs::is_directory(train_dir) && fs::is_directory(test_dir))
      check_same_classes(train_dir.string(), image_folder_classes(train_dir.string()), test_dir.string(),
                         image_folder_classes(test_dir.string()));
    return load_image_folder(folder.string(), kChannels);
  }
  fail("cifar10: found neither '" + first_file + "' in '" + dir + "' or '" +
       (fs::path(dir) / "cifar-10-batches-bin").string() + "', nor an image folder '" + folder.string() +
       "' (scripts/download_data.sh fetches the official files into " +
       "data/cifar10; data/sample/cifar10 holds a small image folder)");
}

void write_cifar10_binary(const ImageDataset& data, const std::string& path) {
  if (data.channels != kChannels || data.height != kSide || data.width != kSide)
    fail("write_cifar10_binary: the format holds 3x32x32 images, got " + std::to_string(data.channels) + "x" +
         std::to_string(data.height) + "x" + std::to_string(data.width) + " (for '" + path + "')");
  if (static_cast<int64_t>(data.pixels.size()) != data.size() * kImageBytes)
    fail("write_cifar10_binary: " + std::to_string(data.size()) + " labels but " + std::to_string(data.pixels.size()) +
         " pixel bytes");
  std::vector<uint8_t> bytes(data.size() * kRecordBytes);
  for (int64_t i = 0; i < data.size(); i++) {
    int64_t label = data.labels[i];
    if (label < 0 || label > 255)
      fail("write_cifar10_binary: label " + std::to_string(label) + " of image " + std::to_string(i) +
           " does not fit the format's one byte");
    uint8_t* record = bytes.data() + i * kRecordBytes;
    record[0] = static_cast<uint8_t>(label);
    std::copy(data.image(i), data.image(i) + kImageBytes, record + 1);
  }
  write_whole_file(path, bytes.data(), bytes.size(), "CIFAR-10 batch");  // an earlier file stays whole on failure
}

}  // namespace glimpse
