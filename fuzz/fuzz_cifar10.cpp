// Fuzz target: one CIFAR-10 binary batch file's bytes through decode_cifar10_binary, the code
// load_cifar10_binary runs on each file.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "io/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    glimpse::ImageDataset set = glimpse::decode_cifar10_binary(std::vector<uint8_t>(data, data + size), "batch.bin");
    if (set.pixels.size() != static_cast<size_t>(set.size() * set.image_bytes())) __builtin_trap();
    for (int64_t label : set.labels)
      if (label < 0 || label >= set.classes()) __builtin_trap();
  } catch (const glimpse::Error&) {
  }
  return 0;
}
