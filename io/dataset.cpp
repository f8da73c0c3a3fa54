// Subsets of a data set, and reading files whole, in binary, with errors that say which file
// and why.
#include "io/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>

#include "engine/tensor.h"
#include "engine/wording.h"

namespace glimpse {

std::string class_name(const std::vector<std::string>& names, int64_t k) {
  return k >= 0 && k < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(k)] : std::to_string(k);
}

ImageDataset subset(const ImageDataset& data, int64_t first, int64_t count) {
  if (first < 0 || count < 0 || first + count > data.size())
    fail("subset: images [" + std::to_string(first) + ", " + std::to_string(first + count) +
         ") are not all in a data set of " + std::to_string(data.size()));
  ImageDataset part;
  part.channels = data.channels;
  part.height = data.height;
  part.width = data.width;
  part.class_names = data.class_names;
  part.labels.assign(data.labels.begin() + first, data.labels.begin() + first + count);
  part.pixels.assign(data.image(first), data.image(first) + count * data.image_bytes());
  return part;
}

namespace {

// Opens a regular file for binary reading; `size` receives its size in bytes.
std::ifstream open_regular_file(const std::string& path, const std::string& what, uint64_t& size) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(path, error))
    fail(what + ": no file '" + path + "' (scripts/download_data.sh fetches the official " +
         "MNIST and CIFAR-10 files; data/sample/ holds small subsets)");
  if (!fs::is_regular_file(path, error)) fail(what + ": '" + path + "' is not a regular file");

  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) fail(what + ": cannot open '" + path + "' for reading");
  std::streamoff end = file.tellg();
  if (end < 0) fail(what + ": cannot tell the size of '" + path + "'");
  size = static_cast<uint64_t>(end);
  file.seekg(0);
  return file;
}

// Reads n bytes from the file's current position.
std::vector<uint8_t> read_bytes(std::ifstream& file, size_t n, const std::string& path, const std::string& what) {
  std::vector<uint8_t> bytes(n);
  file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
  if (file.gcount() != static_cast<std::streamsize>(n))
    fail(what + ": could not read " + count_of(static_cast<int64_t>(n), "byte") + " of '" + path + "'");
  return bytes;
}

}  // namespace

std::vector<uint8_t> read_binary_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  uint64_t size = 0;
  std::ifstream file = open_regular_file(path, what, size);
  if (size > max_bytes)
    fail(what + ": '" + path + "' is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
         " it may hold");
  if (size > std::numeric_limits<size_t>::max()) fail(what + ": '" + path + "' does not fit in memory");
  return read_bytes(file, static_cast<size_t>(size), path, what);
}

FileHead read_file_head(const std::string& path, const std::string& what, size_t n) {
  FileHead head;
  std::ifstream file = open_regular_file(path, what, head.size);
  head.bytes = read_bytes(file, static_cast<size_t>(std::min<uint64_t>(n, head.size)), path, what);
  return head;
}

}  // namespace glimpse
