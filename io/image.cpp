#include "io/image.h"

#include <climits>
#include <memory>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "engine/tensor.h"

namespace glimpse {

Image decode_image(const std::vector<uint8_t>& bytes, int64_t channels, const std::string& what) {
  if (channels < 1 || channels > 4)
    fail("decode_image: channels must be 1, 2, 3 or 4, got " + std::to_string(channels));
  if (bytes.empty()) fail(what + ": empty file, not an image");
  if (bytes.size() > static_cast<size_t>(INT_MAX)) fail(what + ": file too large for an image");

  int width = 0, height = 0, channels_in_file = 0;
  // stb converts whatever the file holds (grey, RGB, palette, 16-bit) to `channels` bytes/pixel
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &width, &height,
                            &channels_in_file, static_cast<int>(channels)),
      stbi_image_free);
  if (!decoded)
    fail(what + ": not a readable image (" + stbi_failure_reason() +
         "); expected a PNG, JPEG or BMP file");

  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.assign(decoded.get(), decoded.get() + int64_t{height} * width * channels);
  return image;
}

void write_png(const Image& image, const std::string& path) {
  if (image.channels < 1 || image.channels > 4 || image.height < 1 || image.width < 1 ||
      static_cast<int64_t>(image.pixels.size()) != image.height * image.width * image.channels)
    fail("write_png: an image of " + std::to_string(image.height) + "x" +
         std::to_string(image.width) + "x" + std::to_string(image.channels) + " needs that many " +
         "bytes, got " + std::to_string(image.pixels.size()));
  int row_bytes = static_cast<int>(image.width * image.channels);
  if (!stbi_write_png(path.c_str(), static_cast<int>(image.width), static_cast<int>(image.height),
                      static_cast<int>(image.channels), image.pixels.data(), row_bytes))
    fail("write_png: cannot write '" + path + "'");
}

}  // namespace glimpse
