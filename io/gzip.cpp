// gunzip: a gzip file (RFC 1952) is a header, one raw deflate stream (RFC 1951) and a trailer:
//
//   1f 8b | CM=8 | FLG | MTIME(4) | XFL | OS | [FEXTRA: XLEN(2) + XLEN bytes] |
//   [FNAME: text, 0] | [FCOMMENT: text, 0] | [FHCRC: 2 bytes] | deflate ... | CRC-32(4) | ISIZE(4)
//
// We walk the header ourselves, hand the deflate bytes to stb_image's inflater (the one it
// uses for PNG), then check the trailer: ISIZE = length of the output mod 2^32, CRC-32 of
// the output. The CRC catches corruption that still happens to inflate. stb counts the output in
// an int, so gunzip holds at most gunzip_max_bytes (2^31 - 1): more is refused, never wrapped.
#include <array>
#include <cstdlib>
#include <memory>

#include <stb/stb_image.h>

#include "engine/tensor.h"
#include "engine/wording.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

enum GzipFlag : uint8_t { FTEXT = 1, FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16 };

uint32_t read_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// The offset just past the gzip header: where the deflate stream starts.
size_t skip_gzip_header(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto truncated = [&] {
    fail(what + ": gzip header is truncated (" + count_of(static_cast<int64_t>(bytes.size()), "byte") + ")");
  };
  if (bytes.size() < 10) truncated();
  if (!is_gzip(bytes)) fail(what + ": not a gzip file (it does not start with 1f 8b)");
  if (bytes[2] != 8) fail(what + ": gzip compression method " + std::to_string(bytes[2]) + ", only 8 (deflate) exists");
  uint8_t flags = bytes[3];
  if (flags & 0xE0) fail(what + ": gzip header has reserved flag bits set; the file is corrupt");

  size_t pos = 10;
  if (flags & FEXTRA) {
    if (bytes.size() < pos + 2) truncated();
    size_t extra_length = bytes[pos] | size_t(bytes[pos + 1]) << 8;
    pos += 2 + extra_length;
  }
  for (GzipFlag text_field : {FNAME, FCOMMENT}) {  // zero-terminated strings
    if (!(flags & text_field)) continue;
    while (pos < bytes.size() && bytes[pos] != 0) pos++;
    pos++;  // the terminating zero
  }
  if (flags & FHCRC) pos += 2;
  if (pos > bytes.size()) truncated();
  return pos;
}

// The error for data that inflates to more than gunzip holds; `size` says how much.
[[noreturn]] void fail_too_large(const std::string& what, const std::string& size) {
  fail(what + ": gzip data inflates to " + size + ", more than the " + std::to_string(gunzip_max_bytes) +
       " bytes (2 GB - 1) gunzip holds (stb's inflater counts bytes in an int)");
}

}  // namespace

// CRC-32 (polynomial 0xEDB88320, reflected), one table lookup per byte.
uint32_t crc32(const uint8_t* data, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

bool is_gzip(const std::vector<uint8_t>& bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& bytes, const std::string& what) {
  size_t start = skip_gzip_header(bytes, what);
  const size_t trailer = 8;  // CRC-32 and ISIZE
  if (bytes.size() < start + trailer)
    fail(what + ": gzip file is truncated (it ends before the deflate data and its 8-byte trailer)");
  // stb's inflater reads ahead up to 2 bytes beyond the last code and fails when the input
  // ends right after it, so it gets the trailer too: it stops at the deflate stream's final
  // block, and the trailer is still checked below.
  size_t deflate_length = bytes.size() - start;
  if (deflate_length > static_cast<size_t>(gunzip_max_bytes))
    fail(what + ": gzip file of " + std::to_string(bytes.size()) + " bytes, more than the " +
         std::to_string(gunzip_max_bytes) + " gunzip reads");
  uint32_t expected_crc = read_le32(&bytes[bytes.size() - 8]);
  uint32_t expected_size = read_le32(&bytes[bytes.size() - 4]);
  // ISIZE is the length mod 2^32: data of 2^31 .. 2^32 - 1 bytes says so before a byte is
  // inflated, if the stream is long enough to hold that much (deflate's densest code is a
  // 258-byte match in 2 bits: 1032 bytes per input byte); a shorter one has a corrupt or cut
  // trailer, which the checks below report. Longer data (its ISIZE wrapped) makes stb give up
  // at 2^31 bytes, below.
  const uint64_t most_inflatable = 1032 * static_cast<uint64_t>(deflate_length);
  if (expected_size > static_cast<uint64_t>(gunzip_max_bytes) && expected_size <= most_inflatable)
    fail_too_large(what, std::to_string(expected_size) + " bytes (its trailer says)");

  int stb_length = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      stbi_zlib_decode_noheader_malloc(reinterpret_cast<const char*>(bytes.data() + start),
                                       static_cast<int>(deflate_length), &stb_length),
      std::free);
  if (!out) {
    const std::string reason = stbi_failure_reason() ? stbi_failure_reason() : "";
    if (reason == "Out of memory")  // stb's buffer stops doubling at 2^31 bytes
      fail_too_large(what, "2^31 bytes or more (or memory ran out)");
    fail(what + ": gzip data is corrupt or truncated (the deflate stream does not decode)");
  }
  // stb returns the length as an int: 2^31 bytes come back negative.
  if (stb_length < 0) fail_too_large(what, "2^31 bytes");
  const size_t length = static_cast<size_t>(stb_length);

  const uint8_t* data = reinterpret_cast<const uint8_t*>(out.get());
  if (expected_size != length)
    fail(what + ": gzip data is corrupt or truncated (trailer says " + std::to_string(expected_size) +
         " bytes, inflated " + std::to_string(length) + "; a multi-member gzip is not supported)");
  if (crc32(data, length) != expected_crc)
    fail(what + ": gzip data is corrupt (CRC-32 of the inflated bytes does not match the trailer)");
  return std::vector<uint8_t>(data, data + length);
}

}  // namespace glimpse
