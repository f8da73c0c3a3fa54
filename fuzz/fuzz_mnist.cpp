// Fuzz target: an MNIST idx pair (images + labels), each raw or gzip, through decode_mnist,
// the code load_mnist runs on the two files' bytes, and through load_mnist itself on the same
// bytes written to files: it checks each file's header against its size before reading the whole
// (read_file_head), and must agree with decode_mnist (the same data, or an error from both).
//
// Input layout: u32 little-endian n, then n bytes of the images file, then the labels file
// (n is clipped to what the input holds, so every input means something). The seeds include
// headers at the size boundaries: 2^32 - 1 images, sides 4096 and 4097.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/tensor.h"
#include "file_on_disk.h"
#include "io/dataset.h"

namespace {

// What the DataLoader relies on: one image of bytes per label, labels in range.
void check_dataset(const glimpse::ImageDataset& set) {
  if (set.pixels.size() != static_cast<size_t>(set.size() * set.image_bytes())) __builtin_trap();
  for (int64_t label : set.labels)
    if (label < 0 || label >= set.classes()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t images_length = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
  images_length = std::min(images_length, size - 4);
  std::vector<uint8_t> images(data + 4, data + 4 + images_length);
  std::vector<uint8_t> labels(data + 4 + images_length, data + size);

  std::optional<glimpse::ImageDataset> decoded, loaded;
  try {
    decoded = glimpse::decode_mnist(images, labels, "images", "labels");
    check_dataset(*decoded);
  } catch (const glimpse::Error&) {
  }
  try {
    loaded = glimpse::load_mnist(fuzz::write_temp_file("images", images), fuzz::write_temp_file("labels", labels));
  } catch (const glimpse::Error&) {
  }
  if (decoded.has_value() != loaded.has_value())
    __builtin_trap();  // the check before reading refused a good pair, or passed a bad one
  if (decoded && (decoded->pixels != loaded->pixels || decoded->labels != loaded->labels)) __builtin_trap();
  return 0;
}
