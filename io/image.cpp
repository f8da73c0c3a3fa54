#include "io/image.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

#include "engine/tensor.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

// Which Huffman tables a JPEG has defined so far: [0 = DC, 1 = AC][table id 0..3].
using HuffmanTablesDefined = std::array<std::array<bool, 4>, 2>;

// A scan header (SOS payload): n, then n x (component id, DC table << 4 | AC table), then the
// spectral start Ss, the spectral end and Ah << 4 | Al. A baseline scan decodes with both tables of
// each component; a progressive scan with the DC table in its first DC scan (Ss = 0, Ah = 0), with
// none in a DC refinement, with the AC table in an AC scan (Ss > 0). Returns the first table it
// uses that is not defined, or "". Table ids over 3, and a cut header, are stb's to refuse.
std::string undefined_scan_table(const uint8_t* payload, size_t available, bool progressive,
                                 const HuffmanTablesDefined& defined) {
  if (available < 1) return "";
  const size_t components = payload[0];
  if (available < 1 + 2 * components + 3) return "";
  const uint8_t spectral_start = payload[1 + 2 * components];
  const uint8_t approximation_high = payload[3 + 2 * components] >> 4;
  const bool uses_dc = !progressive || (spectral_start == 0 && approximation_high == 0);
  const bool uses_ac = !progressive || spectral_start > 0;
  for (size_t c = 0; c < components; c++) {
    const int dc_table = payload[2 + 2 * c] >> 4, ac_table = payload[2 + 2 * c] & 15;
    if (uses_dc && dc_table <= 3 && !defined[0][dc_table])
      return "a scan uses DC Huffman table " + std::to_string(dc_table) + ", which the file does not define";
    if (uses_ac && ac_table <= 3 && !defined[1][ac_table])
      return "a scan uses AC Huffman table " + std::to_string(ac_table) + ", which the file does not define";
  }
  return "";
}

// stb_image 2.27 (Debian 12) trusts a JPEG's Huffman tables more than a corrupt file deserves
// (found by fuzz/fuzz_image.cpp; later stb releases check both):
//  - it builds a table without checking that its 16 code counts add up to at most 256, the size
//    of its symbol arrays: a corrupt DHT segment makes it write past them;
//  - it decodes a scan with whatever table ids the scan names, defined or not: a table the file
//    never defined is memory stb never filled (io/stb_image_impl.cpp zeroes it; still garbage).
// So we walk the JPEG's segments the way stb does and name such a table before stb sees it:
//   FF D8 (start) | FF xx, 2-byte length, payload | ... | FF DA scan header, then entropy-coded
//   bytes in which FF 00 is a literal FF and FF D0..D7 a restart, until the next marker.
// A DHT payload holds tables: 1 byte class/id, 16 counts, then sum(counts) symbol bytes.
// Returns what is wrong, or "" for a JPEG stb may decode (and for a file that is not a JPEG).
std::string jpeg_huffman_problem(const std::vector<uint8_t>& bytes) {
  const size_t size = bytes.size();
  // stb reads a marker as FF, any number of fill FFs, then the code: the start is FF.. D8
  size_t pos = 0;
  while (pos < size && bytes[pos] == 0xFF) pos++;
  if (pos == 0 || pos >= size || bytes[pos] != 0xD8) return "";  // not a JPEG
  pos++;
  HuffmanTablesDefined defined{};
  bool progressive = false;
  while (pos + 1 < size) {
    if (bytes[pos] != 0xFF) {  // entropy-coded data: look for the next marker
      pos++;
      continue;
    }
    uint8_t marker = bytes[pos + 1];
    if (marker == 0xFF) {  // fill byte before a marker
      pos++;
      continue;
    }
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD9)) {  // no length
      pos += 2;
      continue;
    }
    if (pos + 4 > size) break;
    size_t length = size_t(bytes[pos + 2]) << 8 | bytes[pos + 3];  // includes its own 2 bytes
    if (length < 2) break;                                         // stb skips to the end of the file
    if (marker == 0xC2) progressive = true;                        // SOF2: a progressive frame
    if (marker == 0xC4) {                                          // DHT: stb reads tables while the length lasts
      size_t at = pos + 4;
      int64_t left = static_cast<int64_t>(length) - 2;
      while (left > 0 && at < size) {
        const int table_class = bytes[at] >> 4, table_id = bytes[at] & 15;
        size_t symbols = 0;  // stb reads a count cut off by the end of the file as 0
        for (size_t i = at + 1; i <= at + 16 && i < size; i++) symbols += bytes[i];
        if (symbols > 256) return "a Huffman table has more than 256 codes";
        if (table_class <= 1 && table_id <= 3) defined[table_class][table_id] = true;
        at += 17 + symbols;
        left -= 17 + static_cast<int64_t>(symbols);
      }
    }
    if (marker == 0xDA) {  // SOS: the tables this scan decodes with must exist by now
      std::string problem = undefined_scan_table(bytes.data() + pos + 4, size - pos - 4, progressive, defined);
      if (!problem.empty()) return problem;
    }
    pos += 2 + length;
  }
  return "";
}

// stb_image grows its buffer to a PNG IDAT chunk's stated length before it reads the chunk,
// so a 60-byte file that claims a 1.5 GB chunk costs a 1.5 GB allocation (found by fuzzing).
// A chunk (4-byte length, 4-byte type, data, 4-byte CRC) that runs past the end of the file
// would fail to read anyway: refuse it first. Chunks after IEND are never read.
bool png_chunks_fit(const std::vector<uint8_t>& bytes) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  const size_t size = bytes.size();
  if (size < 8 || !std::equal(signature, signature + 8, bytes.begin())) return true;  // not a PNG
  for (size_t pos = 8; pos + 8 <= size;) {
    size_t length =
        size_t(bytes[pos]) << 24 | size_t(bytes[pos + 1]) << 16 | size_t(bytes[pos + 2]) << 8 | bytes[pos + 3];
    if (length > size - pos - 8) return false;  // data (the CRC may be cut: stb does not read it for IEND)
    if (std::equal(bytes.begin() + pos + 4, bytes.begin() + pos + 8, "IEND")) break;
    pos += 12 + length;
  }
  return true;
}

}  // namespace

Image decode_image(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& what) {
  if (channels < 1 || channels > 4)
    fail("decode_image: channels must be 1, 2, 3 or 4, got " + std::to_string(channels));
  if (bytes.empty()) fail(what + ": empty file, not an image");
  if (bytes.size() > static_cast<size_t>(max_image_file_bytes)) fail(what + ": file too large for an image");

  if (std::string problem = jpeg_huffman_problem(bytes); !problem.empty())
    fail(what + ": not a readable image (Corrupt JPEG: " + problem + ")");

  if (!png_chunks_fit(bytes))
    fail(what + ": not a readable image (Corrupt PNG: a chunk runs past the end of the file)");

  // stb allocates for the size a header states and fills what the file lacks: a 96-byte BMP that
  // claims 15616 x 9532 pixels costs 446 MB and seconds (found by fuzzing). The image folders
  // hold training images, so a header stating more than max_image_pixels is refused first.
  int width = 0, height = 0, channels_in_file = 0;
  if (stbi_info_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height, &channels_in_file) &&
      int64_t{width} * height > max_image_pixels)
    fail(what + ": the header states a " + std::to_string(width) + "x" + std::to_string(height) +
         " image, more than the " + std::to_string(max_image_pixels) + " pixels glimpse reads");
  // stb converts whatever the file holds (grey, RGB, palette, 16-bit) to `channels` bytes/pixel
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height, &channels_in_file,
                            static_cast<int>(channels)),
      stbi_image_free);
  if (!decoded) fail(what + ": not a readable image (" + stbi_failure_reason() + "); expected a PNG, JPEG or BMP file");

  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.assign(decoded.get(), decoded.get() + int64_t{height} * width * channels);
  return image;
}

// stb's encoder hands the PNG over in pieces; they are collected and written in one checked go,
// so that a full disk or a lost file system is an Error, not a cut picture.
static void append_bytes(void* context, void* data, int size) {
  auto* bytes = static_cast<std::vector<unsigned char>*>(context);
  const auto* begin = static_cast<const unsigned char*>(data);
  bytes->insert(bytes->end(), begin, begin + size);
}

void write_png(const Image& image, const std::string& path) {
  if (image.channels < 1 || image.channels > 4 || image.height < 1 || image.width < 1 ||
      static_cast<int64_t>(image.pixels.size()) != image.height * image.width * image.channels)
    fail("write_png: an image of " + std::to_string(image.height) + "x" + std::to_string(image.width) + "x" +
         std::to_string(image.channels) + " needs that many " + "bytes, got " + std::to_string(image.pixels.size()));
  if (image.height > INT_MAX / 4 || image.width * image.channels > INT_MAX / 4)
    fail("write_png: an image of " + std::to_string(image.height) + "x" + std::to_string(image.width) +
         " is larger than a PNG written here may be");
  std::vector<unsigned char> png;
  const int row_bytes = static_cast<int>(image.width * image.channels);
  if (!stbi_write_png_to_func(append_bytes, &png, static_cast<int>(image.width), static_cast<int>(image.height),
                              static_cast<int>(image.channels), image.pixels.data(), row_bytes))
    fail("write_png: cannot encode the picture for '" + path + "'");
  write_whole_file(path, png.data(), png.size(), "PNG");  // a full disk leaves an earlier picture whole
}

Image resize_image(const Image& image, int64_t height, int64_t width) {
  if (image.channels < 1 || image.channels > 4 || image.height < 1 || image.width < 1 ||
      static_cast<int64_t>(image.pixels.size()) != image.height * image.width * image.channels)
    fail("resize_image: an image of " + std::to_string(image.height) + "x" + std::to_string(image.width) + "x" +
         std::to_string(image.channels) + " needs that many bytes, got " + std::to_string(image.pixels.size()));
  if (height < 1 || width < 1 || height * width > max_image_pixels || image.height * image.width > max_image_pixels)
    fail("resize_image: from " + std::to_string(image.height) + "x" + std::to_string(image.width) + " to " +
         std::to_string(height) + "x" + std::to_string(width) + ": sizes from 1 to " +
         std::to_string(max_image_pixels) + " pixels");
  Image out{.height = height, .width = width, .channels = image.channels, .pixels = {}};
  out.pixels.resize(static_cast<size_t>(height * width * image.channels));
  if (!stbir_resize_uint8(image.pixels.data(), static_cast<int>(image.width), static_cast<int>(image.height), 0,
                          out.pixels.data(), static_cast<int>(width), static_cast<int>(height), 0,
                          static_cast<int>(image.channels)))
    fail("resize_image: stb_image_resize failed");
  return out;
}

}  // namespace glimpse
