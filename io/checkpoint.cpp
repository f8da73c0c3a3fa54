#include "io/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <set>

#include "io/dataset.h"

namespace glimpse {

namespace {

constexpr char magic[8] = {'G', 'L', 'I', 'M', 'P', 'S', 'E', 'C'};
constexpr uint32_t format_version = 1;
constexpr size_t header_bytes = 8 + 4 + 8;  // magic, version, file size
constexpr size_t checksum_bytes = 8;

// 64-bit FNV-1a: h = (h XOR byte) * prime for each byte, from the offset basis.
uint64_t fnv1a64(const uint8_t* bytes, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h;
}

[[noreturn]] void fail_file(const std::string& path, const std::string& problem) {
  fail("checkpoint '" + path + "': " + problem);
}

std::string system_error() { return std::strerror(errno); }

// Little-endian integers, byte by byte, so the file is the same on every host.
void store_u32(uint8_t* at, uint32_t v) {
  for (int b = 0; b < 4; b++) at[b] = static_cast<uint8_t>(v >> (8 * b));
}
void store_u64(uint8_t* at, uint64_t v) {
  for (int b = 0; b < 8; b++) at[b] = static_cast<uint8_t>(v >> (8 * b));
}
uint32_t load_u32(const uint8_t* at) {
  uint32_t v = 0;
  for (int b = 0; b < 4; b++) v |= static_cast<uint32_t>(at[b]) << (8 * b);
  return v;
}
uint64_t load_u64(const uint8_t* at) {
  uint64_t v = 0;
  for (int b = 0; b < 8; b++) v |= static_cast<uint64_t>(at[b]) << (8 * b);
  return v;
}

// A fixed-size byte buffer that is not zero-filled: every byte is written (by encode or by
// fread) before it is read, and zeroing tens of megabytes first would cost a whole extra pass.
class Bytes {
 public:
  explicit Bytes(size_t n) : data_(std::make_unique_for_overwrite<uint8_t[]>(n)), size_(n) {}
  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_;
};

// ---- writing: the whole file is assembled in memory, then written once ----

struct Writer {
  Bytes bytes;  // sized exactly by encoded_size()
  size_t used = 0;

  uint8_t* grow(size_t n) {  // the next n bytes
    if (n > bytes.size() - used) fail("save_checkpoint: internal error, the encoded size was miscounted");
    used += n;
    return bytes.data() + used - n;
  }
  void u32(uint32_t v) { store_u32(grow(4), v); }
  void u64(uint64_t v) { store_u64(grow(8), v); }
  void string(const std::string& s) {
    if (s.size() > std::numeric_limits<uint32_t>::max()) fail("save_checkpoint: a string is longer than 4 GiB");
    u32(static_cast<uint32_t>(s.size()));
    std::memcpy(grow(s.size()), s.data(), s.size());
  }
  void floats(const real* values, int64_t n) {
    uint8_t* at = grow(4 * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++) store_u32(at + 4 * i, std::bit_cast<uint32_t>(static_cast<float>(values[i])));
  }
};

// The exact size of the encoded file, so the buffer is allocated once.
size_t encoded_size(const std::vector<std::pair<std::string, Tensor>>& tensors, const Metadata& metadata) {
  size_t size = header_bytes + 4 + 4 + checksum_bytes;  // + metadata count, tensor count
  for (const auto& [key, value] : metadata) size += 4 + key.size() + 4 + value.size();
  for (const auto& [name, t] : tensors)
    size += 4 + name.size() + 4 + 8 * t.shape().size() + 4 * static_cast<size_t>(t.numel());
  return size;
}

Bytes encode(const std::vector<std::pair<std::string, Tensor>>& tensors, const Metadata& metadata) {
  Writer w{Bytes(encoded_size(tensors, metadata))};
  std::memcpy(w.grow(8), magic, 8);
  w.u32(format_version);
  w.u64(0);  // file size, filled in below
  w.u32(static_cast<uint32_t>(metadata.size()));
  for (const auto& [key, value] : metadata) {
    w.string(key);
    w.string(value);
  }
  w.u32(static_cast<uint32_t>(tensors.size()));
  for (const auto& [name, t] : tensors) {
    w.string(name);
    w.u32(static_cast<uint32_t>(t.dim()));
    for (int64_t d : t.shape()) w.u64(static_cast<uint64_t>(d));
    w.floats(t.data(), t.numel());
  }
  store_u64(w.bytes.data() + 12, w.bytes.size());
  w.u64(fnv1a64(w.bytes.data(), w.used));
  if (w.used != w.bytes.size()) fail("save_checkpoint: internal error, the encoded size was miscounted");
  return std::move(w.bytes);
}

void check_savable(const std::vector<std::pair<std::string, Tensor>>& tensors, const Metadata& metadata) {
  if (metadata.size() > std::numeric_limits<uint32_t>::max() || tensors.size() > std::numeric_limits<uint32_t>::max())
    fail("save_checkpoint: too many entries");
  std::map<std::string, int> seen;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) fail("save_checkpoint: tensor '" + name + "' is undefined");
    if (seen[name]++) fail("save_checkpoint: tensor name '" + name + "' appears twice");
  }
}

// ---- reading: the whole file is checked before anything is returned ----

struct Entry {
  std::string name;
  Shape shape;
  const uint8_t* data;  // numel little-endian float32, inside the file's bytes
};

struct Parsed {
  Metadata metadata;
  std::vector<Entry> entries;
};

// Bounds-checked reads from [at, end). Every length read from the file is checked against the
// bytes that remain before anything is allocated for it, so a corrupt count cannot ask for
// gigabytes.
struct Reader {
  const std::string& path;
  const uint8_t* at;
  const uint8_t* end;

  size_t remaining() const { return static_cast<size_t>(end - at); }
  const uint8_t* take(size_t n, const char* what) {
    if (n > remaining())
      fail_file(path, std::string("corrupt: ") + what + " needs " + std::to_string(n) + " bytes, only " +
                          std::to_string(remaining()) + " remain");
    const uint8_t* p = at;
    at += n;
    return p;
  }
  uint32_t u32(const char* what) { return load_u32(take(4, what)); }
  uint64_t u64(const char* what) { return load_u64(take(8, what)); }
  std::string string(const char* what) {
    uint32_t n = u32(what);
    const uint8_t* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
};

// Magic, version and the size the header states against the file's size: the checks that need
// only the header. `bytes` holds the file's first `available` bytes (at least the header when
// the file is that long), so a file can be checked before it is read whole.
void check_header(const std::string& path, const uint8_t* bytes, size_t available, uint64_t file_size) {
  if (file_size < 8 || available < 8)
    fail_file(path, "truncated: " + std::to_string(file_size) + " bytes, shorter than the 8-byte magic");
  if (std::memcmp(bytes, magic, 8) != 0) fail_file(path, "not a glimpse checkpoint (bad magic bytes)");
  if (file_size < header_bytes || available < header_bytes)
    fail_file(path, "truncated: " + std::to_string(file_size) + " bytes, shorter than the header");
  Reader header{path, bytes + 8, bytes + header_bytes};
  uint32_t version = header.u32("version");
  if (version != format_version)
    fail_file(path, "unknown format version " + std::to_string(version) + " (this build reads version " +
                        std::to_string(format_version) + ")");
  uint64_t stated = header.u64("file size");
  if (file_size < stated)
    fail_file(path, "truncated: " + std::to_string(file_size) + " bytes, the header says " + std::to_string(stated));
  if (file_size > stated)
    fail_file(path, "corrupt: " + std::to_string(file_size) + " bytes, the header says " + std::to_string(stated));
}

// A buffer for a whole file; a size no allocation can hold is an error naming the file.
Bytes allocate_for(const std::string& path, uint64_t size) {
  try {
    return Bytes(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    fail_file(path, std::to_string(size) + " bytes: more than this machine can hold in memory");
  }
}

// Reads the header first and checks it against the file's size, then the rest: a file that is
// no checkpoint, or whose size is not the one its header states, is refused without being read
// whole (a 100 GB file of anything else costs one small read).
Bytes read_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail_file(path, "cannot open: " + system_error());
  std::unique_ptr<FILE, int (*)(FILE*)> closer(f, std::fclose);
  struct stat info;
  if (::fstat(::fileno(f), &info) != 0 || !S_ISREG(info.st_mode)) fail_file(path, "not a regular file");
  const uint64_t size = static_cast<uint64_t>(info.st_size);  // the real size, never a header's claim

  uint8_t header[header_bytes];
  size_t got = std::fread(header, 1, static_cast<size_t>(std::min<uint64_t>(size, header_bytes)), f);
  check_header(path, header, got, size);

  Bytes bytes = allocate_for(path, size);
  std::memcpy(bytes.data(), header, header_bytes);
  got += std::fread(bytes.data() + header_bytes, 1, size - header_bytes, f);
  if (got != size) fail_file(path, "read error: got " + std::to_string(got) + " of " + std::to_string(size) + " bytes");
  return bytes;
}

// The header's checks and the checksum: the checks that need no parsing.
void check_envelope(const std::string& path, const uint8_t* bytes, size_t size) {
  check_header(path, bytes, size, size);
  if (size < header_bytes + checksum_bytes) fail_file(path, "corrupt: too short to hold a checksum");
  uint64_t stored = load_u64(bytes + size - checksum_bytes);
  if (stored != fnv1a64(bytes, size - checksum_bytes)) fail_file(path, "checksum mismatch: the file is corrupt");
}

Shape read_shape(Reader& r, const std::string& name) {
  uint32_t ndim = r.u32("ndim");
  if (ndim > r.remaining() / 8)
    fail_file(r.path, "corrupt: tensor '" + name + "' claims " + std::to_string(ndim) + " dimensions");
  Shape shape(ndim);
  for (int64_t& d : shape) {
    uint64_t v = r.u64("dimension");
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail_file(r.path, "corrupt: tensor '" + name + "' has an impossible dimension " + std::to_string(v));
    d = static_cast<int64_t>(v);
  }
  return shape;
}

// The number of values of shape, or limit + 1 if it exceeds limit (never overflows).
uint64_t numel_up_to(const Shape& shape, uint64_t limit) {
  for (int64_t d : shape)
    if (d == 0) return 0;
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (numel > limit / static_cast<uint64_t>(d)) return limit + 1;
    numel *= static_cast<uint64_t>(d);
  }
  return numel;
}

// Parses a whole file's bytes; the entries point into them.
Parsed parse(const std::string& path, const uint8_t* bytes, size_t size) {
  check_envelope(path, bytes, size);
  Reader r{path, bytes + header_bytes, bytes + size - checksum_bytes};
  Parsed parsed;

  uint32_t metadata_count = r.u32("metadata count");
  if (metadata_count > r.remaining() / 8)  // each entry takes at least its two 4-byte lengths
    fail_file(path, "corrupt: " + std::to_string(metadata_count) + " metadata entries cannot fit");
  for (uint32_t i = 0; i < metadata_count; i++) {
    std::string key = r.string("metadata key");
    std::string value = r.string("metadata value");
    if (!parsed.metadata.emplace(std::move(key), std::move(value)).second)
      fail_file(path, "corrupt: a metadata key appears twice");
  }

  uint32_t tensor_count = r.u32("tensor count");
  if (tensor_count > r.remaining() / 8)  // each tensor takes at least its name length and ndim
    fail_file(path, "corrupt: " + std::to_string(tensor_count) + " tensors cannot fit");
  parsed.entries.reserve(tensor_count);
  for (uint32_t i = 0; i < tensor_count; i++) {
    Entry entry;
    entry.name = r.string("tensor name");
    entry.shape = read_shape(r, entry.name);
    const uint64_t numel = numel_up_to(entry.shape, r.remaining() / 4);
    if (numel > r.remaining() / 4)
      fail_file(path, "corrupt: tensor '" + entry.name + "' of shape " + shape_str(entry.shape) + " overruns the file");
    entry.data = r.take(4 * numel, "tensor data");
    parsed.entries.push_back(std::move(entry));
  }
  if (r.remaining() != 0)
    fail_file(path, "corrupt: " + std::to_string(r.remaining()) + " unexplained bytes before the checksum");
  return parsed;
}

// Checks that a parsed file holds exactly the wanted tensors, then fills them.
Metadata load_parsed(const std::string& path, Parsed parsed,
                     const std::vector<std::pair<std::string, Tensor>>& tensors) {
  // Match names and shapes both ways before touching any tensor.
  std::map<std::string, const Entry*> in_file;
  for (const Entry& entry : parsed.entries)
    if (!in_file.emplace(entry.name, &entry).second)
      fail_file(path, "corrupt: tensor '" + entry.name + "' appears twice");
  std::map<std::string, const Tensor*> wanted;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) fail("load_checkpoint: destination tensor '" + name + "' is undefined");
    if (!wanted.emplace(name, &t).second) fail("load_checkpoint: tensor name '" + name + "' is given twice");
    auto found = in_file.find(name);
    if (found == in_file.end()) fail_file(path, "tensor '" + name + "' is missing from the file");
    if (found->second->shape != t.shape())
      fail_file(path, "tensor '" + name + "' has shape " + shape_str(found->second->shape) + " in the file, expected " +
                          shape_str(t.shape()));
  }
  for (const Entry& entry : parsed.entries)
    if (!wanted.count(entry.name))
      fail_file(path, "unexpected tensor '" + entry.name + "' in the file (not among the " +
                          std::to_string(tensors.size()) + " tensors to load)");

  // The file is valid: copy the numbers.
  for (const auto& [name, t] : tensors) {
    const uint8_t* src = in_file.at(name)->data;
    real* dst = t.data();
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; i++) dst[i] = static_cast<real>(std::bit_cast<float>(load_u32(src + 4 * i)));
  }
  return std::move(parsed.metadata);
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                     const Metadata& metadata) {
  check_savable(tensors, metadata);
  const Bytes bytes = encode(tensors, metadata);
  write_file_atomically(path, bytes.data(), bytes.size(), "checkpoint");
}

Metadata load_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  Bytes bytes = read_file(path);
  return load_parsed(path, parse(path, bytes.data(), bytes.size()), tensors);
}

Metadata load_checkpoint_from_bytes(const std::vector<uint8_t>& bytes, const std::string& path,
                                    const std::vector<std::pair<std::string, Tensor>>& tensors) {
  return load_parsed(path, parse(path, bytes.data(), bytes.size()), tensors);
}

Metadata read_checkpoint_metadata(const std::string& path) {
  Bytes bytes = read_file(path);
  return std::move(parse(path, bytes.data(), bytes.size()).metadata);
}

CheckpointContents read_checkpoint(const std::string& path) {
  Bytes bytes = read_file(path);
  Parsed parsed = parse(path, bytes.data(), bytes.size());
  CheckpointContents contents{.metadata = std::move(parsed.metadata), .tensors = {}};
  std::set<std::string> seen;
  for (const Entry& entry : parsed.entries) {
    if (!seen.insert(entry.name).second) fail_file(path, "corrupt: tensor '" + entry.name + "' appears twice");
    Tensor t = Tensor::empty(entry.shape);
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; i++) t.data()[i] = static_cast<real>(std::bit_cast<float>(load_u32(entry.data + 4 * i)));
    contents.tensors.emplace_back(entry.name, t);
  }
  return contents;
}

const std::string& metadata_text(const Metadata& metadata, const std::string& key, const std::string& path) {
  auto it = metadata.find(key);
  if (it == metadata.end())
    fail_file(path, "no metadata entry '" + key + "' (every checkpoint a trainer writes has one)");
  return it->second;
}

int64_t metadata_int(const Metadata& metadata, const std::string& key, const std::string& path, int64_t min_value,
                     int64_t max_value) {
  const std::string& text = metadata_text(metadata, key, path);
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  // the whole text, digits only (strtoll would skip leading spaces and stop at a stray character)
  bool whole_number = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-') &&
                      end == text.c_str() + text.size() && errno != ERANGE;
  if (!whole_number || value < min_value || value > max_value)
    fail_file(path, "metadata '" + key + "' is '" + (text.size() > 40 ? text.substr(0, 40) + "..." : text) +
                        "', expected a whole number from " + std::to_string(min_value) + " to " +
                        std::to_string(max_value));
  return value;
}

double metadata_real(const Metadata& metadata, const std::string& key, const std::string& path, double min_value,
                     double max_value) {
  const std::string& text = metadata_text(metadata, key, path);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const bool whole_text =
      !text.empty() && !std::isspace(static_cast<unsigned char>(text[0])) && end == text.c_str() + text.size();
  if (!whole_text || !(value >= min_value && value <= max_value))  // NaN fails too
    fail_file(path, "metadata '" + key + "' is '" + (text.size() > 40 ? text.substr(0, 40) + "..." : text) +
                        "', expected a number from " + real_text(min_value) + " to " + real_text(max_value));
  return value;
}

std::string real_text(double value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

std::string real_text(float value) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, value).ptr);
}

}  // namespace glimpse
