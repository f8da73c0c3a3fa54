// gunzip: a gzip file (RFC 1952) is a header, one raw deflate stream (RFC 1951) and a trailer:
//
//   1f 8b | CM=8 | FLG | MTIME(4) | XFL | OS | [FEXTRA: XLEN(2) + XLEN bytes] |
//   [FNAME: text, 0] | [FCOMMENT: text, 0] | [FHCRC: 2 bytes] | deflate ... | CRC-32(4) | ISIZE(4)
//
// We walk the header ourselves, hand the deflate bytes to stb_image's inflater (the one it
// uses for PNG), then check the trailer: ISIZE = length of the output mod 2^32, CRC-32 of
// the output. The CRC catches corruption that still happens to inflate.
#include <array>
#include <climits>
#include <cstdlib>
#include <memory>

#include <stb/stb_image.h>

#include "engine/tensor.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

enum GzipFlag : uint8_t { FTEXT = 1, FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16 };

uint32_t read_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

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

// The offset just past the gzip header: where the deflate stream starts.
size_t skip_gzip_header(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto truncated = [&] { fail(what + ": gzip header is truncated (" + std::to_string(bytes.size()) + " bytes)"); };
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

}  // namespace

bool is_gzip(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& bytes, const std::string& what) {
  size_t start = skip_gzip_header(bytes, what);
  const size_t trailer = 8;  // CRC-32 and ISIZE
  if (bytes.size() < start + trailer)
    fail(what + ": gzip file is truncated (it ends before the deflate data and its 8-byte trailer)");
  // stb's inflater reads ahead up to 2 bytes beyond the last code and fails when the input
  // ends right after it, so it gets the trailer too: it stops at the deflate stream's final
  // block, and the trailer is still checked below.
  size_t deflate_length = bytes.size() - start;
  if (deflate_length > static_cast<size_t>(INT_MAX)) fail(what + ": gzip file larger than 2 GB");

  int out_length = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      stbi_zlib_decode_noheader_malloc(reinterpret_cast<const char*>(bytes.data() + start),
                                       static_cast<int>(deflate_length), &out_length),
      std::free);
  if (!out)
    fail(what + ": gzip data is corrupt or truncated (the deflate stream does not decode)");

  const uint8_t* data = reinterpret_cast<const uint8_t*>(out.get());
  uint32_t expected_crc = read_le32(&bytes[bytes.size() - 8]);
  uint32_t expected_size = read_le32(&bytes[bytes.size() - 4]);
  if (expected_size != static_cast<uint32_t>(out_length))
    fail(what + ": gzip data is corrupt or truncated (trailer says " + std::to_string(expected_size) +
         " bytes, inflated " + std::to_string(out_length) + "; a multi-member gzip is not supported)");
  if (crc32(data, out_length) != expected_crc)
    fail(what + ": gzip data is corrupt (CRC-32 of the inflated bytes does not match the trailer)");
  return std::vector<uint8_t>(data, data + out_length);
}

}  // namespace glimpse
