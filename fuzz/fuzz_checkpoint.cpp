// Fuzz target: a checkpoint file's bytes through load_checkpoint_from_bytes, the code
// load_checkpoint runs on the file it reads.
//
// A mutated file almost never passes the size and checksum checks, so the parser behind them
// would see little of the fuzzer's work. Each input is therefore tried twice: as it is, and
// "resealed": with the size field and the FNV-1a checksum rewritten to match, so that the
// structure parser (counts, names, shapes, tensor data) gets the mutated bytes.
// The destination tensors match the seed corpus's checkpoint: "w" of shape (2, 3), "b" of (3).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "io/checkpoint.h"

namespace {

constexpr size_t kHeaderBytes = 8 + 4 + 8, kChecksumBytes = 8;

uint64_t fnv1a64(const uint8_t* bytes, size_t n) {  // as io/checkpoint.cpp
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h;
}

void store_u64(uint8_t* at, uint64_t v) {
  for (int b = 0; b < 8; b++) at[b] = static_cast<uint8_t>(v >> (8 * b));
}

void try_load(const std::vector<uint8_t>& bytes) {
  static const std::vector<std::pair<std::string, glimpse::Tensor>> tensors = {
      {"w", glimpse::Tensor::zeros({2, 3})}, {"b", glimpse::Tensor::zeros({3})}};
  try {
    glimpse::load_checkpoint_from_bytes(bytes, "fuzz.ckpt", tensors);
  } catch (const glimpse::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  try_load(bytes);
  if (size >= kHeaderBytes + kChecksumBytes) {
    store_u64(bytes.data() + 12, size);
    store_u64(bytes.data() + size - kChecksumBytes, fnv1a64(bytes.data(), size - kChecksumBytes));
    try_load(bytes);
  }
  return 0;
}
