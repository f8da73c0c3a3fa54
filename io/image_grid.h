// ImageGrid: a canvas of equal tiles for pictures of data and attention (a row per example:
// the input, then what the model made of it), written as a PNG through io/image.h.
//
//   ImageGrid grid(rows, cols, tile_side, scale);   // every tile tile_side x tile_side, drawn scale x
//   grid.put_grey(r, c, values, h, w);              // values (h, w) in [0, 1]
//   grid.put_heat(r, c, values, h, w);              // values (h, w) in [0, 1], black-red-yellow-white
//   grid.mark(r, c, top, left, bottom, right);      // a cyan box over a tile (a query position)
//   grid.write("maps.png");
// A map smaller than the tile is stretched to it by nearest neighbour (an 8x8 attention map
// covers a 32x32 image). Tiles are separated by a 2-pixel grey border.
#pragma once

#include <cstdint>
#include <string>

#include "io/image.h"

namespace glimpse {

class ImageGrid {
 public:
  ImageGrid(int64_t rows, int64_t cols, int64_t tile_side, int64_t scale);

  void put_grey(int64_t row, int64_t col, const float* values, int64_t h, int64_t w);
  void put_heat(int64_t row, int64_t col, const float* values, int64_t h, int64_t w);
  // rgb: (3, h, w) planes in [0, 1], as a CHW image tensor stores them.
  void put_rgb(int64_t row, int64_t col, const float* rgb, int64_t h, int64_t w);
  // Outlines a box in cyan over tile (row, col); top, left, bottom, right are fractions of the tile's
  // side (a query cell (i, j) of an h x w map: i / h, j / w, (i + 1) / h, (j + 1) / w).
  void mark(int64_t row, int64_t col, double top, double left, double bottom, double right);
  void write(const std::string& path) const { write_png(image_, path); }

  const Image& image() const { return image_; }

 private:
  // Paints tile (row, col): colour(i, j, rgb) gives the colour of source pixel (i, j) of h x w.
  template <typename Colour>
  void paint(int64_t row, int64_t col, int64_t h, int64_t w, Colour colour);

  int64_t rows_, cols_, tile_, scale_;
  Image image_;
};

// Scales values in place to [0, 1] by their own minimum and maximum (a constant map becomes 0.5).
void normalise_to_unit(float* values, int64_t n);

}  // namespace glimpse
