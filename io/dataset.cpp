// Subsets and validation splits of a data set, and reading files whole, in binary, with errors that say which file
// and why.
#include "io/dataset.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include "engine/random.h"
#include "engine/tensor.h"
#include "engine/wording.h"
#include "io/temporary_file.h"

namespace glimpse {

std::string class_name(const std::vector<std::string>& names, int64_t k) {
  return k >= 0 && k < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(k)] : std::to_string(k);
}

ImageDataset subset(const ImageDataset& data, int64_t first, int64_t count) {
  if (first < 0 || count < 0 || first + count > data.size())
    fail("subset: images [" + std::to_string(first) + ", " + std::to_string(first + count) +
         ") are not all in a data set of " + std::to_string(data.size()));
  ImageDataset part;
  part.channels = data.channels;
  part.height = data.height;
  part.width = data.width;
  part.class_names = data.class_names;
  part.labels.assign(data.labels.begin() + first, data.labels.begin() + first + count);
  part.pixels.assign(data.image(first), data.image(first) + count * data.image_bytes());
  return part;
}

// hold_out's fixed choice: a constant, so that every program holding out N images of a data set
// holds out the same ones (a network trained without them, then another step tuned on them).
constexpr uint64_t held_out_seed = 0x5EED0F5A11D;

HeldOutSplit hold_out(const ImageDataset& data, int64_t count) {
  if (count < 0 || count >= data.size())
    fail("hold out " + std::to_string(count) + " images: a data set of " + std::to_string(data.size()) +
         " must keep at least one for training");
  std::vector<int64_t> order(static_cast<size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(held_out_seed);
  for (int64_t i = 0; i < count; i++)  // the first `count` steps of a Fisher-Yates shuffle
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(i + rng.randint(data.size() - i))]);
  std::vector<bool> is_held_out(order.size(), false);
  for (int64_t i = 0; i < count; i++) is_held_out[static_cast<size_t>(order[static_cast<size_t>(i)])] = true;
  HeldOutSplit split{.kept = subset(data, 0, 0), .held_out = subset(data, 0, 0)};  // no images, data's shape
  for (int64_t i = 0; i < data.size(); i++) {
    ImageDataset& part = is_held_out[static_cast<size_t>(i)] ? split.held_out : split.kept;
    part.labels.push_back(data.labels[static_cast<size_t>(i)]);
    part.pixels.insert(part.pixels.end(), data.image(i), data.image(i) + data.image_bytes());
  }
  return split;
}

namespace {

// Opens a regular file for binary reading; `size` receives its size in bytes.
std::ifstream open_regular_file(const std::string& path, const std::string& what, uint64_t& size) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(path, error))
    fail(what + ": no file '" + path + "' (scripts/download_data.sh fetches the official " +
         "MNIST and CIFAR-10 files; data/sample/ holds small subsets)");
  if (!fs::is_regular_file(path, error)) fail(what + ": '" + path + "' is not a regular file");

  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) fail(what + ": cannot open '" + path + "' for reading");
  std::streamoff end = file.tellg();
  if (end < 0) fail(what + ": cannot tell the size of '" + path + "'");
  size = static_cast<uint64_t>(end);
  file.seekg(0);
  return file;
}

// Reads n bytes from the file's current position.
std::vector<uint8_t> read_bytes(std::ifstream& file, size_t n, const std::string& path, const std::string& what) {
  std::vector<uint8_t> bytes(n);
  file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
  if (file.gcount() != static_cast<std::streamsize>(n))
    fail(what + ": could not read " + count_of(static_cast<int64_t>(n), "byte") + " of '" + path + "'");
  return bytes;
}

}  // namespace

std::vector<uint8_t> read_binary_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  uint64_t size = 0;
  std::ifstream file = open_regular_file(path, what, size);
  if (size > max_bytes)
    fail(what + ": '" + path + "' is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
         " it may hold");
  if (size > std::numeric_limits<size_t>::max()) fail(what + ": '" + path + "' does not fit in memory");
  return read_bytes(file, static_cast<size_t>(size), path, what);
}

FileHead read_file_head(const std::string& path, const std::string& what, size_t n) {
  FileHead head;
  std::ifstream file = open_regular_file(path, what, head.size);
  head.bytes = read_bytes(file, static_cast<size_t>(std::min<uint64_t>(n, head.size)), path, what);
  return head;
}

// Writes n bytes into the file `path` (created or truncated), flushed, and with `sync` on disk
// (fsync); "" when it worked, else what went wrong ("write failed: No space left on device").
static std::string write_bytes(const std::string& path, const uint8_t* bytes, size_t n, bool sync) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return std::string("cannot open for writing: ") + std::strerror(errno);
  bool ok = std::fwrite(bytes, 1, n, f) == n && std::fflush(f) == 0 && (!sync || ::fsync(::fileno(f)) == 0);
  int error = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    error = errno;
  }
  return ok ? "" : std::string("write failed: ") + std::strerror(error);
}

std::string file_write_problem(const std::string& path, bool renamed_into_place) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (fs::is_directory(status)) return "is a directory, not a file";
  if (renamed_into_place && fs::exists(status) && !fs::is_regular_file(status))
    return "is not a regular file (a device, a pipe or a socket), which the rename would replace";
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, error))
    return "the directory " + parent.string() + " does not exist";
  const std::string directory = parent.empty() ? "." : parent.string();
  if (!fs::exists(status) || renamed_into_place) {  // a file made there (the new one, or the temporary)
    if (::access(directory.c_str(), W_OK) != 0)
      return "the directory " + directory + " cannot be written to (" + std::strerror(errno) + ")";
    const long longest = ::pathconf(directory.c_str(), _PC_NAME_MAX);
    const size_t name = fs::path(path).filename().string().size() + (renamed_into_place ? 16 : 0);  // ".tmp.<pid>"
    if (longest > 0 && name > static_cast<size_t>(longest))
      return "the file name is too long for its file system (" + std::to_string(longest) + " bytes at most" +
             (renamed_into_place ? ", with room for the temporary name's \".tmp.<process id>\")" : ")");
  }
  return "";
}

bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path first = fs::weakly_canonical(fs::absolute(a, error), error);
  const fs::path second = fs::weakly_canonical(fs::absolute(b, error), error);
  return first == second;
}

void write_whole_file(const std::string& path, const uint8_t* bytes, size_t n, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (!fs::exists(status) || fs::is_regular_file(status)) return write_file_atomically(path, bytes, n, what);
  if (fs::is_directory(status)) fail(what + " '" + path + "': is a directory, not a file");
  if (const std::string problem = write_bytes(path, bytes, n, false); !problem.empty())
    fail(what + " '" + path + "': " + problem);
}

// The process id keeps two runs that save to one path from writing into each other's bytes.
void write_file_atomically(const std::string& path, const uint8_t* bytes, size_t n, const std::string& what) {
  auto fail_file = [&what](const std::string& file, const std::string& problem) {
    fail(what + " '" + file + "': " + problem);
  };
  if (const std::string problem = file_write_problem(path, true); !problem.empty()) fail_file(path, problem);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    // until the rename, a signal that would end the program removes tmp first
    RemovedOnSignal guard(tmp);
    // synced: the bytes are on disk before the rename makes them visible
    if (const std::string problem = write_bytes(tmp, bytes, n, true); !problem.empty()) {
      std::remove(tmp.c_str());
      fail_file(tmp, problem);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      const int error = errno;
      std::remove(tmp.c_str());
      fail_file(path, "cannot rename " + tmp + " over it: " + std::strerror(error));
    }
  }
  // The rename lives in the directory: sync it too, or a power cut may forget it.
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) fail_file(path, std::string("cannot open its directory to sync it: ") + std::strerror(errno));
  const int synced = ::fsync(fd), error = errno;
  ::close(fd);
  if (synced != 0) fail_file(path, std::string("cannot sync its directory: ") + std::strerror(error));
}

}  // namespace glimpse
