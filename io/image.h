// Decoding and writing single image files (PNG, JPEG, BMP, ...) through stb_image.
//
// stb_image / stb_image_write / stb_image_resize are compiled once, in stb_image_impl.cpp; only io/ includes
// them, so the rest of the project sees just these functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

// One decoded image with its pixels interleaved as files store them: (H, W, C), row-major.
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// The largest image decode_image accepts (4096 x 4096 pixels); larger headers are refused.
inline constexpr int64_t max_image_pixels = int64_t{1} << 24;
// The largest file it reads: stb counts the bytes of a file in an int (2^31 - 1).
inline constexpr int64_t max_image_file_bytes = 2147483647;

// Decodes an encoded image file's bytes to `channels` channels (1 grey, 2 grey+alpha, 3 RGB,
// 4 RGBA; stb converts). `what` names the file in the error raised for a bad or unknown format.
Image decode_image(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& what);

// Writes an image as a PNG file (for looking at data, glimpses, attention maps).
void write_png(const Image& image, const std::string& path);

// The image resampled to height x width (stb_image_resize: a Mitchell filter when shrinking, a
// Catmull-Rom one when enlarging, on the bytes as they are; the aspect ratio is not kept).
Image resize_image(const Image& image, int64_t height, int64_t width);

}  // namespace glimpse
