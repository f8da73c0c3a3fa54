// Digits for the tests of the distorted-MNIST generators (test_distorted_mnist.cpp) and of the RTS
// study's geometry (test_stn_pose.cpp): a synthetic digit, four of random bytes, and hashes that
// pin what a generator makes of them.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/random.h"
#include "io/dataset.h"
#include "io/distorted_mnist.h"

namespace glimpse::testing {

using Image = std::vector<uint8_t>;

// A ring of radius 4..7 around the centre with a stem down its right side, in rows/columns 4..23,
// inside the central 20x20 box like a real MNIST digit.
inline Image synthetic_digit() {
  Image digit(mnist_side * mnist_side, 0);
  for (int64_t i = 0; i < mnist_side; i++) {
    for (int64_t j = 0; j < mnist_side; j++) {
      double r = std::hypot(i - 11.0, j - 13.5);
      bool ring = r >= 4 && r <= 7, stem = j >= 18 && j <= 20 && i >= 11 && i <= 23;
      if (ring || stem) digit[i * mnist_side + j] = 255;
    }
  }
  return digit;
}

// 64-bit FNV-1a over bytes, continued from h.
inline uint64_t fnv1a(const uint8_t* bytes, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h;
}

inline uint64_t hash_placement(const DigitPlacement& p, uint64_t h) {
  for (double v : {p.angle_degrees, p.scale, p.centre_x, p.centre_y})
    h = fnv1a(reinterpret_cast<const uint8_t*>(&v), 8, h);
  for (int64_t v : {p.left, p.top}) h = fnv1a(reinterpret_cast<const uint8_t*>(&v), 8, h);
  return h;
}

// The synthetic digit and four of random bytes (of the Rng's raw output, which no generator change touches).
inline std::vector<Image> pinned_digits() {
  std::vector<Image> digits{synthetic_digit()};
  Rng rng(99);
  for (int k = 0; k < 4; k++) {
    Image digit(mnist_side * mnist_side);
    for (uint8_t& v : digit) v = static_cast<uint8_t>(rng.next_u64() >> 56);
    digits.push_back(digit);
  }
  return digits;
}

// The five pinned digits as a data set, labelled 3 1 4 1 5.
inline ImageDataset pinned_set() {
  ImageDataset digits{.channels = 1,
                      .height = mnist_side,
                      .width = mnist_side,
                      .pixels = {},
                      .labels = {3, 1, 4, 1, 5},
                      .class_names = {}};
  for (const Image& digit : pinned_digits()) digits.pixels.insert(digits.pixels.end(), digit.begin(), digit.end());
  for (int c = 0; c < 10; c++) digits.class_names.push_back(std::to_string(c));
  return digits;
}

}  // namespace glimpse::testing
