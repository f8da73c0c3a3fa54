// Fuzz target: one CIFAR-10 binary batch file's bytes through decode_cifar10_binary, the code
// load_cifar10_binary runs on each file, and through load_cifar10_binary on the same bytes in a
// file, which checks the file's size before reading it: both must agree (the same data, or an
// error from both).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/tensor.h"
#include "file_on_disk.h"
#include "io/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  std::optional<glimpse::ImageDataset> decoded, loaded;
  try {
    decoded = glimpse::decode_cifar10_binary(bytes, "batch.bin");
    if (decoded->pixels.size() != static_cast<size_t>(decoded->size() * decoded->image_bytes())) __builtin_trap();
    for (int64_t label : decoded->labels)
      if (label < 0 || label >= decoded->classes()) __builtin_trap();
  } catch (const glimpse::Error&) {
  }
  try {
    loaded = glimpse::load_cifar10_binary({fuzz::write_temp_file("batch.bin", bytes)});
  } catch (const glimpse::Error&) {
  }
  if (decoded.has_value() != loaded.has_value()) __builtin_trap();
  if (decoded && (decoded->pixels != loaded->pixels || decoded->labels != loaded->labels)) __builtin_trap();
  return 0;
}
