// Fuzz target: an MNIST idx pair (images + labels), each raw or gzip, through decode_mnist,
// the code load_mnist runs on the two files' bytes.
//
// Input layout: u32 little-endian n, then n bytes of the images file, then the labels file
// (n is clipped to what the input holds, so every input means something).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "io/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  size_t images_length = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
  images_length = std::min(images_length, size - 4);
  std::vector<uint8_t> images(data + 4, data + 4 + images_length);
  std::vector<uint8_t> labels(data + 4 + images_length, data + size);
  try {
    glimpse::ImageDataset set = glimpse::decode_mnist(std::move(images), std::move(labels), "images", "labels");
    // what the DataLoader relies on: one image of bytes per label, labels in range
    if (set.pixels.size() != static_cast<size_t>(set.size() * set.image_bytes())) __builtin_trap();
    for (int64_t label : set.labels)
      if (label < 0 || label >= set.classes()) __builtin_trap();
  } catch (const glimpse::Error&) {
  }
  return 0;
}
