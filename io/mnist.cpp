// MNIST in its official idx format, raw or gzip-compressed (see dataset.h for the layout).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/tensor.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // idx3: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // idx1: unsigned bytes, 1 dimension
constexpr int64_t kMaxSide = 4096;             // any larger side means a corrupt header

uint32_t read_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// The bytes, inflated when they start with the gzip magic (whatever the file's name says).
std::vector<uint8_t> maybe_gunzip(std::vector<uint8_t> bytes, const std::string& path) {
  if (is_gzip(bytes)) return gunzip(bytes, "mnist: '" + path + "'");
  return bytes;
}

// Checks an idx header: its magic, its size, its dimensions, and that the file holds exactly
// header + payload bytes. `bytes` holds the file's first `available` bytes (at least the header,
// when the file is that long) and the file is `file_size` bytes long, so the header can be
// checked before a file that may be huge is read. Returns the dimensions it announces.
std::vector<int64_t> read_idx_header(const uint8_t* bytes, size_t available, uint64_t file_size,
                                     const std::string& path, uint32_t magic, int dims, const std::string& kind) {
  const std::string where = "mnist: '" + path + "'";
  if (file_size == 0) fail(where + " is empty (expected an idx " + kind + " file)");
  if (file_size < 4) fail(where + " is too short (" + std::to_string(file_size) + " bytes) for an idx file");
  uint32_t found = read_be32(bytes);
  if (found != magic) {
    std::string hint = found == kImagesMagic   ? " (this is an image file)"
                       : found == kLabelsMagic ? " (this is a label file)"
                                               : "";
    fail(where + " is not an idx " + kind + " file: magic number " + hex32(found) + ", expected " + hex32(magic) +
         hint);
  }
  size_t header = 4 + 4 * static_cast<size_t>(dims);
  if (file_size < header || available < header)
    fail(where + " is too short for an idx " + kind + " header (" + std::to_string(header) + " bytes), it has " +
         std::to_string(file_size) + " bytes");
  std::vector<int64_t> shape;
  // count < 2^32 and sides <= 4096 = 2^12, so the payload stays below 2^56 bytes: the product
  // and header + payload fit in 64 bits, and a size_t holds any payload a file can match.
  uint64_t payload = 1;
  for (int d = 0; d < dims; d++) {
    int64_t extent = read_be32(bytes + 4 + 4 * d);
    if (d > 0 && (extent < 1 || extent > kMaxSide))
      fail(where + ": image side " + std::to_string(extent) + " in the header is not in 1.." +
           std::to_string(kMaxSide));
    shape.push_back(extent);
    payload *= static_cast<uint64_t>(extent);
  }
  uint64_t expected = header + payload;
  if (file_size < expected)
    fail(where + " is truncated: its header announces " + std::to_string(shape[0]) + " " + kind + " (" +
         std::to_string(expected) + " bytes) but the file holds " + std::to_string(file_size) + " bytes");
  if (file_size > expected)
    fail(where + " has " + std::to_string(file_size - expected) + " bytes after the " + std::to_string(shape[0]) + " " +
         kind + " its header announces");
  return shape;
}

std::vector<int64_t> read_idx_header(const std::vector<uint8_t>& bytes, const std::string& path, uint32_t magic,
                                     int dims, const std::string& kind) {
  return read_idx_header(bytes.data(), bytes.size(), bytes.size(), path, magic, dims, kind);
}

// Checks a file before it is read whole: a raw idx file's header against the file's size, a
// gzip file's size against what gunzip reads (its idx header is checked once inflated). So a
// huge file that is not what it should be is refused without reading it.
void check_idx_file(const std::string& path, uint32_t magic, int dims, const std::string& kind) {
  FileHead head = read_file_head(path, "mnist", 4 + 4 * static_cast<size_t>(dims));
  if (!is_gzip(head.bytes)) {
    read_idx_header(head.bytes.data(), head.bytes.size(), head.size, path, magic, dims, kind);
  } else if (head.size > static_cast<uint64_t>(gunzip_max_bytes)) {
    fail("mnist: '" + path + "' is a gzip file of " + std::to_string(head.size) + " bytes, more than the " +
         std::to_string(gunzip_max_bytes) + " gunzip reads");
  }
}

}  // namespace

ImageDataset load_mnist(const std::string& images_path, const std::string& labels_path) {
  check_idx_file(images_path, kImagesMagic, 3, "images");
  check_idx_file(labels_path, kLabelsMagic, 1, "labels");
  return decode_mnist(read_binary_file(images_path, "mnist"), read_binary_file(labels_path, "mnist"), images_path,
                      labels_path);
}

ImageDataset decode_mnist(std::vector<uint8_t> image_file, std::vector<uint8_t> label_file,
                          const std::string& images_path, const std::string& labels_path) {
  std::vector<uint8_t> images = maybe_gunzip(std::move(image_file), images_path);
  std::vector<uint8_t> labels = maybe_gunzip(std::move(label_file), labels_path);
  std::vector<int64_t> image_shape = read_idx_header(images, images_path, kImagesMagic, 3, "images");
  std::vector<int64_t> label_shape = read_idx_header(labels, labels_path, kLabelsMagic, 1, "labels");
  int64_t count = image_shape[0];
  if (label_shape[0] != count)
    fail("mnist: '" + images_path + "' holds " + std::to_string(count) + " images but '" + labels_path + "' holds " +
         std::to_string(label_shape[0]) + " labels");

  ImageDataset data;
  data.channels = 1;
  data.height = image_shape[1];
  data.width = image_shape[2];
  for (int digit = 0; digit < 10; digit++) data.class_names.push_back(std::to_string(digit));
  data.labels.resize(count);
  for (int64_t i = 0; i < count; i++) {
    int64_t label = labels[8 + i];
    if (label > 9)
      fail("mnist: '" + labels_path + "': label " + std::to_string(label) + " of item " + std::to_string(i) +
           " is outside 0..9");
    data.labels[i] = label;
  }
  images.erase(images.begin(), images.begin() + 16);  // drop the header: the rest is N*H*W bytes
  data.pixels = std::move(images);
  return data;
}

ImageDataset load_mnist_dir(const std::string& dir, bool train) {
  namespace fs = std::filesystem;
  const std::string prefix = train ? "train" : "t10k";
  // the official name, else the same without .gz; the gzip check does not trust the name
  auto find = [&](const std::string& name) {
    fs::path path = fs::path(dir) / name;
    for (const std::string& candidate : {path.string() + ".gz", path.string()})
      if (fs::exists(candidate)) return candidate;
    fail("mnist: neither '" + path.string() + ".gz' nor '" + path.string() + "' exists " +
         "(scripts/download_data.sh fetches the official MNIST files into data/mnist; " +
         "data/sample/mnist holds a small subset)");
  };
  std::string images = find(prefix + "-images-idx3-ubyte");
  std::string labels = find(prefix + "-labels-idx1-ubyte");
  return load_mnist(images, labels);
}

// Big-endian, as idx stores every integer.
static void append_be32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

static void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary);
  if (!file) fail("write_mnist: cannot create '" + path + "'");
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!file) fail("write_mnist: writing '" + path + "' failed (disk full?)");
}

void write_mnist(const ImageDataset& data, const std::string& images_path, const std::string& labels_path) {
  if (data.channels != 1 || data.height < 1 || data.height > kMaxSide || data.width < 1 || data.width > kMaxSide)
    fail("write_mnist: idx images have one channel and sides 1.." + std::to_string(kMaxSide) + ", got " +
         std::to_string(data.channels) + "x" + std::to_string(data.height) + "x" + std::to_string(data.width));
  if (data.size() > int64_t{UINT32_MAX})  // the header's count is a u32
    fail("write_mnist: idx holds at most " + std::to_string(UINT32_MAX) + " images, got " +
         std::to_string(data.size()));
  if (static_cast<int64_t>(data.pixels.size()) != data.size() * data.image_bytes())
    fail("write_mnist: " + std::to_string(data.size()) + " labels but " + std::to_string(data.pixels.size()) +
         " pixel bytes");
  std::vector<uint8_t> images, labels;
  append_be32(images, kImagesMagic);
  for (int64_t n : {data.size(), data.height, data.width}) append_be32(images, static_cast<uint32_t>(n));
  images.insert(images.end(), data.pixels.begin(), data.pixels.end());
  append_be32(labels, kLabelsMagic);
  append_be32(labels, static_cast<uint32_t>(data.size()));
  for (int64_t i = 0; i < data.size(); i++) {
    if (data.labels[i] < 0 || data.labels[i] > 9)
      fail("write_mnist: label " + std::to_string(data.labels[i]) + " of image " + std::to_string(i) +
           " is outside 0..9, which load_mnist refuses");
    labels.push_back(static_cast<uint8_t>(data.labels[i]));
  }
  write_file(images_path, images);
  write_file(labels_path, labels);
}

}  // namespace glimpse
