// Fuzz target: an encoded image file (PNG, JPEG, BMP, GIF, ... whatever stb_image recognises)
// through decode_image, as the image-folder loader reads every file. The number of channels
// asked for (1..4) follows the input's size, so all four conversions get exercised.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int64_t channels = 1 + static_cast<int64_t>(size % 4);
  try {
    glimpse::Image image = glimpse::decode_image(std::vector<uint8_t>(data, data + size), channels, "image");
    if (image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels)) __builtin_trap();
  } catch (const glimpse::Error&) {
  }
  return 0;
}
