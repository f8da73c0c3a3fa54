// Fuzz target: gunzip, which every gzip-compressed MNIST file goes through.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "io/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    glimpse::gunzip(std::vector<uint8_t>(data, data + size), "input.gz");
  } catch (const glimpse::Error&) {
  }
  return 0;
}
