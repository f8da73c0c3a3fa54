// Fuzz target: read_npz, which convert_weights hands a user's .npz file to. Whatever it returns
// must be readable again after write_npz: the same names, shapes and numbers.
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using Arrays = std::vector<std::pair<std::string, glimpse::Tensor>>;
  Arrays arrays;
  try {
    arrays = glimpse::read_npz_from_bytes(std::vector<uint8_t>(data, data + size), "input.npz");
  } catch (const glimpse::Error&) {
    return 0;
  }
  const std::string path = "/tmp/fuzz_npz_" + std::to_string(::getpid()) + ".npz";
  glimpse::write_npz(path, arrays);
  Arrays again = glimpse::read_npz(path);
  std::remove(path.c_str());
  if (again.size() != arrays.size()) __builtin_trap();
  for (size_t i = 0; i < arrays.size(); i++) {
    const glimpse::Tensor &a = arrays[i].second, &b = again[i].second;
    if (arrays[i].first != again[i].first || a.shape() != b.shape() ||
        std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) != 0)
      __builtin_trap();
  }
  return 0;
}
