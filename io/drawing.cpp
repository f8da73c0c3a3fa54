#include "io/drawing.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <stb/stb_easy_font.h>

#include "engine/tensor.h"

namespace glimpse {

void fill_rect(Image& image, int64_t x, int64_t y, int64_t width, int64_t height, Rgb colour) {
  if (image.channels != 3) fail("fill_rect: the image must be RGB");
  const int64_t x0 = std::max<int64_t>(x, 0), x1 = std::min(x + width, image.width);
  const int64_t y0 = std::max<int64_t>(y, 0), y1 = std::min(y + height, image.height);
  for (int64_t row = y0; row < y1; row++)
    for (int64_t col = x0; col < x1; col++) {
      uint8_t* p = image.pixels.data() + (row * image.width + col) * 3;
      p[0] = colour.r, p[1] = colour.g, p[2] = colour.b;
    }
}

// stb_easy_font indexes its tables by the character: only ' '..'~' (and '\n') may reach it.
static std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (c != '\n' && (c < ' ' || c > '~')) c = '?';
  return out;
}

int64_t text_width(const std::string& text, int64_t scale) {
  std::string s = printable(text);
  return stb_easy_font_width(s.data()) * scale;
}

int64_t text_height(const std::string& text, int64_t scale) {
  std::string s = printable(text);
  return stb_easy_font_height(s.data()) * scale;
}

void draw_text(Image& image, int64_t x, int64_t y, const std::string& text, int64_t scale, Rgb colour, bool vertical) {
  // stb_easy_font gives each stroke of each glyph as a quad: 4 vertices of (x, y, z floats, 4
  // colour bytes), 64 bytes; no glyph has more than 16 strokes.
  struct Vertex {
    float x, y, z;
    uint8_t colour[4];
  };
  std::string s = printable(text);
  std::vector<Vertex> quads(s.size() * 16 * 4 + 4);
  const int count = stb_easy_font_print(0, 0, s.data(), nullptr, quads.data(), static_cast<int>(quads.size() * 16));
  const int64_t length = stb_easy_font_width(s.data());  // font pixels along the text
  for (int q = 0; q < count; q++) {
    const Vertex* v = &quads[static_cast<size_t>(q) * 4];
    const int64_t u0 = std::lround(std::min(v[0].x, v[2].x)), u1 = std::lround(std::max(v[0].x, v[2].x));
    const int64_t w0 = std::lround(std::min(v[0].y, v[2].y)), w1 = std::lround(std::max(v[0].y, v[2].y));
    for (int64_t u = u0; u < u1; u++)  // font pixel (u, w): u along the text, w down its lines
      for (int64_t w = w0; w < w1; w++) {
        // a quarter turn left: along the text becomes up the image, down the lines becomes right
        const int64_t px = vertical ? x + w * scale : x + u * scale;
        const int64_t py = vertical ? y + (length - 1 - u) * scale : y + w * scale;
        fill_rect(image, px, py, scale, scale, colour);
      }
  }
}

}  // namespace glimpse
