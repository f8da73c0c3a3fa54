#include "io/npz.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "io/dataset.h"

namespace glimpse {

namespace {

// ---- little-endian integers ----

void put_u16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  put_u16(out, v & 0xFFFF);
  put_u16(out, v >> 16);
}
uint64_t get_le(const uint8_t* at, int bytes) {
  uint64_t v = 0;
  for (int b = 0; b < bytes; b++) v |= static_cast<uint64_t>(at[b]) << (8 * b);
  return v;
}

constexpr uint32_t local_header_signature = 0x04034b50, central_header_signature = 0x02014b50,
                   end_record_signature = 0x06054b50;
constexpr size_t local_header_bytes = 30, central_header_bytes = 46, end_record_bytes = 22;
constexpr uint32_t zip_version = 20;      // 2.0: what a stored entry needs
constexpr uint32_t dos_date_1980 = 0x21;  // 1 January 1980: no time is recorded, so two writes give the same bytes
const char npy_magic[] = "\x93NUMPY";
constexpr size_t npy_magic_bytes = 6;

// ---- writing ----

// "(16, 3, 3, 3)", "(10,)" for one dimension, "()" for a scalar: Python's tuple syntax.
std::string python_tuple(const Shape& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); i++) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

std::vector<uint8_t> npy_file(const Tensor& t) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + python_tuple(t.shape()) + ", }";
  const size_t preamble = npy_magic_bytes + 2 + 2;  // magic, version, header length
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<uint8_t> out(npy_magic, npy_magic + npy_magic_bytes);
  out.push_back(1);  // version 1.0
  out.push_back(0);
  put_u16(out, static_cast<uint32_t>(header.size()));
  out.insert(out.end(), header.begin(), header.end());
  for (int64_t i = 0; i < t.numel(); i++) put_u32(out, std::bit_cast<uint32_t>(static_cast<float>(t.data()[i])));
  return out;
}

// The fields a local header and a central directory entry share, from "version needed" to the
// name's length.
void put_entry_fields(std::vector<uint8_t>& out, uint32_t crc, size_t size, size_t name_size) {
  put_u16(out, zip_version);
  put_u16(out, 0);  // flags
  put_u16(out, 0);  // method: stored
  put_u16(out, 0);  // time
  put_u16(out, dos_date_1980);
  put_u32(out, crc);
  put_u32(out, static_cast<uint32_t>(size));  // compressed size
  put_u32(out, static_cast<uint32_t>(size));  // size
  put_u16(out, static_cast<uint32_t>(name_size));
  put_u16(out, 0);  // extra field length
}

// ---- reading ----

// Bounds-checked reads from a file's bytes; every problem names the file.
struct Bytes {
  const std::vector<uint8_t>& bytes;
  const std::string& path;

  [[noreturn]] void fail_here(const std::string& problem) const { fail("npz '" + path + "': " + problem); }
  const uint8_t* at(uint64_t offset, uint64_t n, const char* what) const {
    if (offset > bytes.size() || n > bytes.size() - offset)
      fail_here(std::string("corrupt or cut: ") + what + " lies past the end of the file");
    return bytes.data() + offset;
  }
};

struct ZipEntry {
  std::string name = {};
  uint32_t method = 0, crc = 0;
  uint64_t compressed_size = 0, size = 0, local_header = 0;
};

std::vector<ZipEntry> read_central_directory(const Bytes& file) {
  const std::vector<uint8_t>& bytes = file.bytes;
  if (bytes.size() < end_record_bytes) file.fail_here("not a zip archive (too short for its end record)");
  // The end record is the last 22 bytes, unless an archive comment (at most 65535 bytes) follows it.
  size_t end = bytes.size() - end_record_bytes;
  const size_t lowest = end > 65535 ? end - 65535 : 0;
  while (get_le(bytes.data() + end, 4) != end_record_signature) {
    if (end == lowest) file.fail_here("not a zip archive (no end record): write it with numpy.savez");
    end--;
  }
  const uint8_t* record = bytes.data() + end;
  const uint64_t count = get_le(record + 10, 2), directory_size = get_le(record + 12, 4),
                 directory_offset = get_le(record + 16, 4);
  if (count == 0xFFFF || directory_offset == 0xFFFFFFFF)
    file.fail_here("a zip64 archive (over 4 GB or 65535 arrays), which glimpse does not read");
  const uint8_t* directory = file.at(directory_offset, directory_size, "the central directory");

  std::vector<ZipEntry> entries;
  uint64_t offset = 0;
  for (uint64_t i = 0; i < count; i++) {
    if (directory_size - offset < central_header_bytes || get_le(directory + offset, 4) != central_header_signature)
      file.fail_here("corrupt: central directory entry " + std::to_string(i) + " is not where its directory says");
    const uint8_t* h = directory + offset;
    ZipEntry e{.method = static_cast<uint32_t>(get_le(h + 10, 2)),
               .crc = static_cast<uint32_t>(get_le(h + 16, 4)),
               .compressed_size = get_le(h + 20, 4),
               .size = get_le(h + 24, 4),
               .local_header = get_le(h + 42, 4)};
    const uint64_t name_size = get_le(h + 28, 2), variable = name_size + get_le(h + 30, 2) + get_le(h + 32, 2);
    if (directory_size - offset - central_header_bytes < variable)
      file.fail_here("corrupt: central directory entry " + std::to_string(i) + " overruns its directory");
    e.name.assign(reinterpret_cast<const char*>(h + central_header_bytes), name_size);
    if (e.compressed_size == 0xFFFFFFFF || e.size == 0xFFFFFFFF || e.local_header == 0xFFFFFFFF)
      file.fail_here("'" + e.name + "' is a zip64 entry (over 4 GB), which glimpse does not read");
    entries.push_back(std::move(e));
    offset += central_header_bytes + variable;
  }
  return entries;
}

// An entry's bytes: after its local header, whose name and extra field may differ in length
// from the central directory's (Python's zipfile puts a zip64 field in the local one only).
const uint8_t* entry_data(const Bytes& file, const ZipEntry& e) {
  const uint8_t* local = file.at(e.local_header, local_header_bytes, "a local header");
  if (get_le(local, 4) != local_header_signature)
    file.fail_here("corrupt: no local header where the directory puts '" + e.name + "'");
  if (e.method != 0)
    file.fail_here("'" + e.name + "' is compressed (numpy.savez_compressed); glimpse reads numpy.savez's files");
  if (e.compressed_size != e.size) file.fail_here("corrupt: '" + e.name + "' is stored with two different sizes");
  const uint64_t name_size = get_le(local + 26, 2);
  const uint8_t* name = file.at(e.local_header + local_header_bytes, name_size, "a local header's name");
  if (std::string_view(reinterpret_cast<const char*>(name), name_size) != e.name)
    file.fail_here("corrupt: the central directory names '" + e.name + "' where its local header names '" +
                   std::string(reinterpret_cast<const char*>(name), name_size) + "'");
  const uint64_t start = e.local_header + local_header_bytes + name_size + get_le(local + 28, 2);
  const uint8_t* data = file.at(start, e.size, ("the bytes of '" + e.name + "'").c_str());
  if (crc32(data, e.size) != e.crc) file.fail_here("corrupt: the CRC-32 of '" + e.name + "' does not match");
  return data;
}

// What an .npy header says: the element type, the order and the shape.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// The text after `key` in a Python dict literal: "'descr': '<f4', ..." -> "'<f4', ...".
std::string_view after_key(std::string_view header, const std::string& key, const Bytes& file,
                           const std::string& array) {
  const size_t at = header.find("'" + key + "':");
  if (at == std::string_view::npos) file.fail_here("array '" + array + "': its header has no '" + key + "'");
  std::string_view rest = header.substr(at + key.size() + 3);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return rest;
}

NpyHeader parse_npy_header(std::string_view header, const Bytes& file, const std::string& array) {
  NpyHeader h;
  std::string_view descr = after_key(header, "descr", file, array);
  const size_t close = descr.find('\'', 1);
  if (descr.empty() || descr.front() != '\'' || close == std::string_view::npos)
    file.fail_here("array '" + array + "': its header's 'descr' is not a quoted type");
  h.descr = descr.substr(1, close - 1);
  h.fortran_order = after_key(header, "fortran_order", file, array).starts_with("True");
  std::string_view shape = after_key(header, "shape", file, array);
  const size_t end = shape.find(')');
  if (shape.empty() || shape.front() != '(' || end == std::string_view::npos)
    file.fail_here("array '" + array + "': its header's 'shape' is not a tuple");
  std::string dims(shape.substr(1, end - 1));
  for (char* at = dims.data(); *at;) {
    char* next = nullptr;
    const long long d = std::strtoll(at, &next, 10);
    if (next == at) break;  // "" or the "," of (10,)
    if (d < 0 || d > (int64_t{1} << 40)) file.fail_here("array '" + array + "': a dimension of " + std::to_string(d));
    h.shape.push_back(d);
    at = next;
    while (*at == ',' || *at == ' ') at++;
  }
  return h;
}

// The numbers of an .npy file as float32; `descr` says how they are stored.
Tensor npy_numbers(const uint8_t* data, uint64_t bytes, const NpyHeader& h, const Bytes& file,
                   const std::string& array) {
  const bool supported = h.descr == "<f4" || h.descr == "<f8" || h.descr == "<i8" || h.descr == "<i4" ||
                         h.descr == "|u1" || h.descr == "|b1";
  if (!supported)
    file.fail_here("array '" + array + "' holds '" + h.descr +
                   "'; glimpse reads little-endian float32, float64 and integers");
  if (h.fortran_order) file.fail_here("array '" + array + "' is in Fortran order; save it C-contiguous");
  uint64_t numel = 1;
  for (int64_t d : h.shape)
    numel = d == 0 ? 0 : numel <= UINT64_MAX / static_cast<uint64_t>(d) ? numel * d : UINT64_MAX;
  const int item = h.descr[1] == 'f' || h.descr[1] == 'i' ? h.descr[2] - '0' : 1;
  if (numel == UINT64_MAX || numel * item != bytes)
    file.fail_here("array '" + array + "': shape " + shape_str(h.shape) + " of '" + h.descr + "' needs " +
                   (numel == UINT64_MAX ? std::string("more") : std::to_string(numel * item)) +
                   " bytes, the file holds " + std::to_string(bytes));
  Tensor t = Tensor::empty(h.shape);
  for (uint64_t i = 0; i < numel; i++) {
    const uint8_t* at = data + i * item;
    double v = 0;
    if (h.descr == "<f4") v = std::bit_cast<float>(static_cast<uint32_t>(get_le(at, 4)));
    if (h.descr == "<f8") v = std::bit_cast<double>(get_le(at, 8));
    if (h.descr == "<i8") v = static_cast<double>(std::bit_cast<int64_t>(get_le(at, 8)));
    if (h.descr == "<i4") v = static_cast<double>(std::bit_cast<int32_t>(static_cast<uint32_t>(get_le(at, 4))));
    if (h.descr == "|u1" || h.descr == "|b1") v = *at;
    const bool integer = h.descr[1] != 'f';
    if ((integer && std::fabs(v) > (1 << 24)) || (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max()))
      file.fail_here("array '" + array + "' holds " + std::to_string(v) + ", which float32 cannot hold exactly");
    t.data()[i] = static_cast<real>(v);
  }
  return t;
}

Tensor read_npy(const uint8_t* data, uint64_t size, const Bytes& file, const std::string& array) {
  if (size < npy_magic_bytes + 4 || std::memcmp(data, npy_magic, npy_magic_bytes) != 0)
    file.fail_here("'" + array + ".npy' is not an .npy file");
  const int major = data[6];
  const size_t length_bytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3) file.fail_here("'" + array + ".npy' is of .npy version " + std::to_string(major));
  const uint64_t header_size = get_le(data + 8, static_cast<int>(length_bytes)), start = 8 + length_bytes;
  if (header_size > size - start) file.fail_here("'" + array + ".npy': its header overruns it");
  const std::string_view header(reinterpret_cast<const char*>(data + start), header_size);
  return npy_numbers(data + start + header_size, size - start - header_size, parse_npy_header(header, file, array),
                     file, array);
}

}  // namespace

void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays) {
  std::vector<uint8_t> archive, directory;
  std::set<std::string> names;
  for (const auto& [name, t] : arrays) {
    if (!names.insert(name).second) fail("write_npz: the name '" + name + "' is given twice");
    const std::string file_name = name + ".npy";
    const std::vector<uint8_t> npy = npy_file(t);
    const uint32_t crc = crc32(npy.data(), npy.size());
    const size_t offset = archive.size();
    if (offset + npy.size() + file_name.size() + local_header_bytes > 0xFFFFFFFEu || name.size() > 0xFFFF)
      fail("write_npz " + path + ": over 4 GB, which needs zip64; glimpse writes smaller archives");

    put_u32(archive, local_header_signature);
    put_entry_fields(archive, crc, npy.size(), file_name.size());
    archive.insert(archive.end(), file_name.begin(), file_name.end());
    archive.insert(archive.end(), npy.begin(), npy.end());

    put_u32(directory, central_header_signature);
    put_u16(directory, zip_version);  // made by
    put_entry_fields(directory, crc, npy.size(), file_name.size());
    put_u16(directory, 0);  // comment length
    put_u16(directory, 0);  // disk
    put_u16(directory, 0);  // internal attributes
    put_u32(directory, 0);  // external attributes
    put_u32(directory, static_cast<uint32_t>(offset));
    directory.insert(directory.end(), file_name.begin(), file_name.end());
  }
  if (arrays.size() >= 0xFFFF) fail("write_npz " + path + ": 65535 arrays or more need zip64");
  const size_t directory_offset = archive.size();
  archive.insert(archive.end(), directory.begin(), directory.end());
  put_u32(archive, end_record_signature);
  put_u16(archive, 0);  // this disk
  put_u16(archive, 0);  // the directory's disk
  put_u16(archive, static_cast<uint32_t>(arrays.size()));
  put_u16(archive, static_cast<uint32_t>(arrays.size()));
  put_u32(archive, static_cast<uint32_t>(directory.size()));
  put_u32(archive, static_cast<uint32_t>(directory_offset));
  put_u16(archive, 0);  // comment length
  write_file_atomically(path, archive.data(), archive.size(), "npz");
}

std::vector<std::pair<std::string, Tensor>> read_npz_from_bytes(const std::vector<uint8_t>& bytes,
                                                                const std::string& path) {
  const Bytes file{bytes, path};
  std::vector<std::pair<std::string, Tensor>> arrays;
  std::set<std::string> names;
  for (const ZipEntry& e : read_central_directory(file)) {
    if (!e.name.ends_with(".npy")) file.fail_here("'" + e.name + "' is not an .npy file");
    std::string name = e.name.substr(0, e.name.size() - 4);
    if (!names.insert(name).second) file.fail_here("corrupt: the array '" + name + "' appears twice");
    arrays.emplace_back(name, read_npy(entry_data(file, e), e.size, file, name));
  }
  return arrays;
}

std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path) {
  return read_npz_from_bytes(read_binary_file(path, "npz"), path);
}

}  // namespace glimpse
