// Fuzz target: a checkpoint file's bytes through load_checkpoint_from_bytes, the code
// load_checkpoint runs on the file it reads.
//
// A mutated file almost never passes the size and checksum checks, so the parser behind them
// would see little of the fuzzer's work. Each input is therefore tried twice: as it is, and
// "resealed": with the size field and the FNV-1a checksum rewritten to match, so that the
// structure parser (counts, names, shapes, tensor data) gets the mutated bytes.
// The destination tensors match the seed corpus's checkpoint: "w" of shape (2, 3), "b" of (3).
//
// The bytes also go through load_checkpoint from a file, which reads and checks the header before
// the rest: it must agree with load_checkpoint_from_bytes (the same metadata and numbers, or an
// error from both). And every metadata entry of a file that loads is read as the trainers read
// one (metadata_text, metadata_int): a value that is no number is an Error, never "stoll".
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "file_on_disk.h"
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

using NamedTensors = std::vector<std::pair<std::string, glimpse::Tensor>>;

NamedTensors destination() { return {{"w", glimpse::Tensor::zeros({2, 3})}, {"b", glimpse::Tensor::zeros({3})}}; }

// The metadata and the numbers loaded, or nothing when the file is refused.
std::optional<std::pair<glimpse::Metadata, std::vector<float>>> load(const std::vector<uint8_t>& bytes,
                                                                     bool from_file) {
  NamedTensors tensors = destination();
  try {
    glimpse::Metadata metadata = from_file
                                     ? glimpse::load_checkpoint(fuzz::write_temp_file("fuzz.ckpt", bytes), tensors)
                                     : glimpse::load_checkpoint_from_bytes(bytes, "fuzz.ckpt", tensors);
    std::vector<float> numbers;
    for (auto& [name, t] : tensors)
      for (float v : t.to_vector()) numbers.push_back(v);
    return std::pair{metadata, numbers};
  } catch (const glimpse::Error&) {
    return std::nullopt;
  }
}

void read_every_entry(const glimpse::Metadata& metadata) {
  for (const auto& [key, value] : metadata) {
    try {
      if (glimpse::metadata_text(metadata, key, "fuzz.ckpt") != value) __builtin_trap();
      glimpse::metadata_int(metadata, key, "fuzz.ckpt");
    } catch (const glimpse::Error&) {
    }
  }
}

void try_load(const std::vector<uint8_t>& bytes) {
  auto from_bytes = load(bytes, false), from_file = load(bytes, true);
  if (from_bytes.has_value() != from_file.has_value()) __builtin_trap();
  if (!from_bytes) return;
  if (from_bytes->first != from_file->first) __builtin_trap();
  if (std::memcmp(from_bytes->second.data(), from_file->second.data(), 4 * from_bytes->second.size()) != 0)
    __builtin_trap();
  read_every_entry(from_bytes->first);
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
