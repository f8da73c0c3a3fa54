// Fuzz target: the distorted-MNIST generators on a data set of any size (io/distorted_mnist.h),
// as train_ram and train_stn call them on the digits they load: rts_mnist, translated_mnist and
// cluttered_mnist. Digits that are not 1x28x28 and sets too small for clutter must be refused
// with an Error; ASan sees any read past a digit.
//
// Input layout: channels (1 + byte % 3), side (1 + byte % 40), digits (byte % 6), generator
// (byte % 3), 8 bytes of seed, then the pixels (repeated to fill the set, zeros if none).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"
#include "io/distorted_mnist.h"

namespace {

glimpse::ImageDataset digits_of(const uint8_t* data, size_t size) {
  glimpse::ImageDataset digits{.channels = 1 + data[0] % 3,
                               .height = 1 + data[1] % 40,
                               .width = 1 + data[1] % 40,
                               .pixels = {},
                               .labels = {},
                               .class_names = {}};
  const int64_t count = data[2] % 6;
  for (int64_t i = 0; i < count; i++) digits.labels.push_back(i % 10);
  for (int c = 0; c < 10; c++) digits.class_names.push_back(std::to_string(c));
  digits.pixels.resize(static_cast<size_t>(count * digits.image_bytes()));
  const size_t header = 12;
  for (size_t p = 0; p < digits.pixels.size() && size > header; p++)
    digits.pixels[p] = data[header + p % (size - header)];
  return digits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 12) return 0;
  const glimpse::ImageDataset digits = digits_of(data, size);
  uint64_t seed = 0;
  for (int b = 0; b < 8; b++) seed |= uint64_t(data[4 + b]) << (8 * b);
  glimpse::Rng rng(seed);
  try {
    const int generator = data[3] % 3;
    glimpse::ImageDataset out = generator == 0   ? glimpse::translated_mnist(digits, rng, "digits")
                                : generator == 1 ? glimpse::cluttered_mnist(digits, rng, "digits")
                                                 : glimpse::rts_mnist(digits, rng, "digits");
    const int64_t side = generator == 2 ? glimpse::rts_side : glimpse::translated_side;
    if (out.size() != digits.size() || out.pixels.size() != static_cast<size_t>(out.size() * side * side))
      __builtin_trap();
  } catch (const glimpse::Error&) {
  }
  return 0;
}
