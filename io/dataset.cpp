// Subsets of a data set, and reading files whole, in binary, with errors that say which file
// and why.
#include "io/dataset.h"

#include <filesystem>
#include <fstream>

#include "engine/tensor.h"

namespace glimpse {

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

std::vector<uint8_t> read_binary_file(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(path, error))
    fail(what + ": no file '" + path + "' (scripts/download_data.sh fetches the official " +
         "MNIST and CIFAR-10 files; data/sample/ holds small subsets)");
  if (!fs::is_regular_file(path, error)) fail(what + ": '" + path + "' is not a regular file");

  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) fail(what + ": cannot open '" + path + "' for reading");
  std::streamoff size = file.tellg();
  if (size < 0) fail(what + ": cannot tell the size of '" + path + "'");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(bytes.data()), size);
  if (file.gcount() != size) fail(what + ": could not read all " + std::to_string(size) + " bytes of '" + path + "'");
  return bytes;
}

}  // namespace glimpse
