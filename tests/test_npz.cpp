// NumPy's .npz files (io/npz.h): a bitwise round trip, the bytes NumPy expects, what NumPy itself
// writes, and every kind of bad file refused with a message that names it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <tuple>

#include "engine/random.h"
#include "io/dataset.h"
#include "io/npz.h"
#include "tests/optional_packages.h"

using namespace glimpse;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using Arrays = std::vector<std::pair<std::string, Tensor>>;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "glimpse_npz_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Tensor random_tensor(const Shape& shape, Rng& rng) { return Tensor::normal(shape, 0, 1, rng); }

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(real) * static_cast<size_t>(a.numel())) == 0;
}

// A file's bytes with one changed by `edit`, written back.
void edit_file(const std::string& path, const std::function<void(std::vector<uint8_t>&)>& edit) {
  std::vector<uint8_t> bytes = read_binary_file(path, "test");
  edit(bytes);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

size_t find(const std::vector<uint8_t>& bytes, const std::string& text) {
  const std::vector<uint8_t> wanted(text.begin(), text.end());  // "\x93" as the byte 0x93, not a negative char
  auto at = std::search(bytes.begin(), bytes.end(), wanted.begin(), wanted.end());
  REQUIRE(at != bytes.end());
  return static_cast<size_t>(at - bytes.begin());
}

// Runs a Python snippet with Debian's python3 and NumPy; false if they are not installed.
bool numpy_available() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }
int python(const std::string& code) { return std::system(("/usr/bin/python3 -c \"" + code + "\"").c_str()); }

}  // namespace

TEST_CASE("npz: every array comes back bit for bit, names and shapes included", "[npz]") {
  TempDir dir;
  Rng rng(1);
  Tensor special = Tensor::empty({5});
  const real values[] = {-0.0f, std::numeric_limits<real>::denorm_min(), std::numeric_limits<real>::max(),
                         std::numeric_limits<real>::infinity(), std::numeric_limits<real>::quiet_NaN()};
  std::copy(std::begin(values), std::end(values), special.data());
  Arrays arrays = {{"conv1.weight", random_tensor({16, 3, 3, 3}, rng)},
                   {"fc.bias", random_tensor({10}, rng)},
                   {"scalar", random_tensor({}, rng)},
                   {"empty", Tensor::empty({0, 4})},
                   {"layer1.0.bn1.running_var", special}};
  write_npz(dir.file("w.npz"), arrays);
  Arrays back = read_npz(dir.file("w.npz"));
  REQUIRE(back.size() == arrays.size());
  for (size_t i = 0; i < arrays.size(); i++) {
    CHECK(back[i].first == arrays[i].first);
    CHECK(same_bits(back[i].second, arrays[i].second));
  }
}

TEST_CASE("npz: the bytes are a zip of .npy files as NumPy writes them", "[npz]") {
  TempDir dir;
  Rng rng(2);
  write_npz(dir.file("w.npz"), {{"fc.weight", random_tensor({10, 64}, rng)}});
  std::vector<uint8_t> bytes = read_binary_file(dir.file("w.npz"), "test");
  CHECK(std::string(bytes.begin(), bytes.begin() + 4) == "PK\x03\x04");  // a zip's local header
  const size_t npy = find(bytes, "\x93NUMPY");
  CHECK(std::string(bytes.begin() + 30, bytes.begin() + 30 + 13) == "fc.weight.npy");
  const size_t header = find(bytes, "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 64), }");
  CHECK(header == npy + 10);
  const size_t header_length = bytes[npy + 8] | bytes[npy + 9] << 8;
  CHECK((10 + header_length) % 64 == 0);  // the numbers start aligned
  CHECK(bytes[npy + 10 + header_length - 1] == '\n');
}

TEST_CASE("npz: NumPy reads what glimpse writes, and glimpse what NumPy writes", "[npz]") {
  if (!numpy_available()) {
    SKIP_WITHOUT_PACKAGE("Debian's python3-numpy is not installed: the exchange with NumPy is not tested");
  }
  TempDir dir;
  Tensor w = Tensor::empty({2, 3});
  for (int64_t i = 0; i < 6; i++) w.data()[i] = 0.5f * static_cast<real>(i) - 1;
  write_npz(dir.file("glimpse.npz"), {{"w", w}, {"s", Tensor::full({}, 2.5f)}});
  CHECK(python("import numpy as np; a = np.load('" + dir.file("glimpse.npz") +
               "'); assert a['w'].dtype == np.float32 and a['w'].shape == (2, 3); "
               "assert (a['w'] == np.arange(6).reshape(2, 3) * 0.5 - 1).all() and a['s'] == 2.5") == 0);

  REQUIRE(python("import numpy as np; np.savez('" + dir.file("numpy.npz") +
                 "', f32=np.arange(6, dtype=np.float32).reshape(3, 2), f64=np.array([0.25, -1e30]), "
                 "count=np.array(7, dtype=np.int64), flag=np.array([True, False]))") == 0);
  Arrays read = read_npz(dir.file("numpy.npz"));
  REQUIRE(read.size() == 4);
  CHECK(read[0].first == "f32");
  CHECK(read[0].second.shape() == Shape{3, 2});
  CHECK(read[0].second.data()[5] == 5);
  CHECK(read[1].second.data()[1] == -1e30f);
  CHECK(read[2].second.shape() == Shape{});
  CHECK(read[2].second.data()[0] == 7);
  CHECK(read[3].second.data()[0] == 1);

  REQUIRE(python("import numpy as np; np.savez_compressed('" + dir.file("compressed.npz") +
                 "', w=np.zeros(3, np.float32))") == 0);
  CHECK_THROWS_WITH(read_npz(dir.file("compressed.npz")), Contains("compressed (numpy.savez_compressed)"));
}

TEST_CASE("npz: damaged and unsupported files are refused, naming the file and the array", "[npz]") {
  TempDir dir;
  Rng rng(3);
  const std::string path = dir.file("w.npz");
  auto fresh = [&] { write_npz(path, {{"fc.weight", random_tensor({4, 4}, rng)}}); };
  auto refused = [&](const std::string& message) {
    CHECK_THROWS_WITH(read_npz(path), Contains("npz '" + path + "'") && Contains(message));
  };

  fresh();
  edit_file(path, [](std::vector<uint8_t>& b) { b[30 + 13 + 128 + 5] ^= 1; });  // a number of the array
  refused("the CRC-32 of 'fc.weight.npy' does not match");
  fresh();
  edit_file(path, [](std::vector<uint8_t>& b) { b[b.size() - 30] ^= 1; });  // the name, in the central directory
  refused("where its local header names 'fc.weight.npy'");
  fresh();
  edit_file(path, [](std::vector<uint8_t>& b) { b.resize(b.size() - 5); });
  refused("no end record");
  fresh();
  edit_file(path, [](std::vector<uint8_t>& b) { b.erase(b.begin() + 200, b.begin() + 210); });
  refused("corrupt");
  for (auto [from, to, message] :
       {std::tuple{"'<f4'", "'>f4'", "holds '>f4'"}, std::tuple{"False", "True ", "Fortran order"},
        std::tuple{"(4, 4)", "(4, 5)", "needs 80 bytes, the file holds 64"}}) {
    {
      write_npz(path, {{"fc.weight", random_tensor({4, 4}, rng)}});
      std::vector<uint8_t> bytes = read_binary_file(path, "test");
      const size_t at = find(bytes, from);
      std::memcpy(bytes.data() + at, to, std::strlen(to));
      // recompute the entry's CRC-32 (local header at 14, central directory entry at 16 after its signature)
      const size_t data = 30 + 13, size = bytes[18] | bytes[19] << 8;
      const uint32_t crc = crc32(bytes.data() + data, size);
      const size_t central = find(bytes, "PK\x01\x02");
      for (size_t field : {size_t{14}, central + 16})
        for (int b = 0; b < 4; b++) bytes[field + b] = static_cast<uint8_t>(crc >> (8 * b));
      std::ofstream(path, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    INFO(message);
    refused(message);
  }
  CHECK_THROWS_WITH(read_npz(dir.file("missing.npz")), Contains("missing.npz"));
  CHECK_THROWS_WITH(write_npz(path, {{"a", Tensor::empty({1})}, {"a", Tensor::empty({1})}}),
                    Contains("'a' is given twice"));
}
