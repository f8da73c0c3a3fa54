// Fuzz target: gunzip, which every gzip-compressed MNIST file goes through. What it returns must
// be what the trailer announces (ISIZE, the length mod 2^32) and no more than gunzip_max_bytes;
// the seeds include trailers announcing 2^31 - 1, 2^31 and 2^32 - 1 bytes, the sizes where the
// length once wrapped to a negative int.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "io/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    std::vector<uint8_t> out = glimpse::gunzip(std::vector<uint8_t>(data, data + size), "input.gz");
    const uint32_t isize = uint32_t(data[size - 4]) | uint32_t(data[size - 3]) << 8 | uint32_t(data[size - 2]) << 16 |
                           uint32_t(data[size - 1]) << 24;  // gunzip returned: the input holds a trailer
    if (out.size() != isize || out.size() > static_cast<size_t>(glimpse::gunzip_max_bytes)) __builtin_trap();
  } catch (const glimpse::Error&) {
  }
  return 0;
}
