// Drawing on an Image: filled rectangles and text. The text is stb_easy_font's (public domain, by
// Sean Barrett; Debian package libstb-dev): a bitmap font built of rectangles, ASCII only, a
// line 12 pixels high at scale 1. Every picture's text goes through draw_text.
//
//   draw_text(image, x, y, "true cat", 1, dark);          // top-left corner at (x, y)
//   draw_text(image, x, y, "predicted", 1, dark, true);   // turned a quarter left: reads upwards
#pragma once

#include <cstdint>
#include <string>

#include "io/image.h"

namespace glimpse {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// The rectangle [x, x + width) x [y, y + height) of an RGB image, clipped to it.
void fill_rect(Image& image, int64_t x, int64_t y, int64_t width, int64_t height, Rgb colour);

// The text's size drawn at `scale` (each font pixel a scale x scale square), lines split at '\n';
// a vertical text's width is text_height and its height text_width.
int64_t text_width(const std::string& text, int64_t scale);
int64_t text_height(const std::string& text, int64_t scale);

// Draws `text` with its box's top-left corner at (x, y), clipped to the image. A character outside
// printable ASCII is drawn as '?'. `vertical`: turned a quarter turn to the left, so that it reads
// from the bottom up (a column label or an axis title on the left).
void draw_text(Image& image, int64_t x, int64_t y, const std::string& text, int64_t scale, Rgb colour,
               bool vertical = false);

}  // namespace glimpse
