// ImageGrid: a canvas of equal tiles for pictures of data and attention (a row per example:
// the input, then what the model made of it), with the words that say what the picture shows
// (GridLabels: a title, a label per column or row, captions under the tiles, a colour scale),
// written as a PNG through io/image.h.
//
//   ImageGrid grid(rows, cols, tile_side, scale,      // every tile tile_side x tile_side, drawn scale x
//                  {.title = "what it shows", .columns = {"input", "map"}, .caption_lines = 2});
//   grid.put_grey(r, c, values, h, w);                // values (h, w) in [0, 1]
//   grid.put_heat(r, c, values, h, w);                // values (h, w) in [0, 1], black-red-yellow-white
//   grid.mark(r, c, top, left, bottom, right);        // a cyan box over a tile (a query position)
//   grid.caption_prediction(r, c, "cat", "dog");      // "true cat", "pred dog" under tile (r, c)
//   grid.write("maps.png");
// A map smaller than the tile is stretched to it by nearest neighbour (an 8x8 attention map
// covers a 32x32 image). Tiles are separated by a 2-pixel grey border; the labels are dark text
// on white around them. A grid without labels is the tiles and their borders alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/drawing.h"
#include "io/image.h"

namespace glimpse {

// Every part is optional; each one present adds its band around the tiles.
struct GridLabels {
  std::string title{};                  // across the top, in large type
  std::vector<std::string> columns{};   // above each column ("input", "stage 1\n32x32"); '\n' breaks a line
  std::string columns_title{};          // above the column labels ("predicted")
  bool vertical_columns = false;        // column labels read upwards (long names over narrow columns)
  std::vector<std::string> rows{};      // left of each row
  std::string rows_title{};             // left of the row labels, reading upwards ("true class")
  int64_t caption_lines = 0;            // lines of text under every tile, written by caption()
  std::string heat_low{}, heat_high{};  // non-empty: a bar of put_heat's colours under the grid, its ends named
};

inline constexpr Rgb ink{20, 20, 20};         // the labels' text
inline constexpr Rgb cyan{0, 255, 255};       // mark()'s boxes
inline constexpr Rgb right_green{0, 130, 0};  // a prediction that is right
inline constexpr Rgb wrong_red{210, 0, 0};    // a prediction that is wrong

class ImageGrid {
 public:
  ImageGrid(int64_t rows, int64_t cols, int64_t tile_side, int64_t scale, const GridLabels& labels = {});

  void put_grey(int64_t row, int64_t col, const float* values, int64_t h, int64_t w);
  void put_heat(int64_t row, int64_t col, const float* values, int64_t h, int64_t w);
  // rgb: (3, h, w) planes in [0, 1], as a CHW image tensor stores them.
  void put_rgb(int64_t row, int64_t col, const float* rgb, int64_t h, int64_t w);

  // Over tile (row, col), a box whose top, left, bottom and right are fractions of the tile's side
  // (a query cell (i, j) of an h x w map: i / h, j / w, (i + 1) / h, (j + 1) / w), clipped to the
  // tile: mark() outlines it, fill() paints it.
  void mark(int64_t row, int64_t col, double top, double left, double bottom, double right, Rgb colour = cyan);
  void fill(int64_t row, int64_t col, double top, double left, double bottom, double right, Rgb colour);
  // Short text on a small white patch over tile (row, col), its centre at fractions (y, x) of the tile.
  void annotate(int64_t row, int64_t col, double y, double x, const std::string& text, Rgb colour);
  // Line `line` (0 .. caption_lines - 1) of the caption under tile (row, col), centred under it.
  void caption(int64_t row, int64_t col, int64_t line, const std::string& text, Rgb colour = ink);
  // The two lines "true <truth>" and "pred <predicted>", the second green if they agree, else red.
  void caption_prediction(int64_t row, int64_t col, const std::string& truth, const std::string& predicted);

  void write(const std::string& path) const { write_png(image_, path); }
  const Image& image() const { return image_; }

 private:
  // Paints tile (row, col): colour(i, j, rgb) gives the colour of source pixel (i, j) of h x w.
  template <typename Colour>
  void paint(int64_t row, int64_t col, int64_t h, int64_t w, Colour colour);
  void check_tile(int64_t row, int64_t col) const;
  int64_t tile_left(int64_t col) const;  // the image column of the tile's first pixel
  int64_t tile_top(int64_t row) const;   // the image row of its first pixel
  void draw_labels(const GridLabels& labels);
  void draw_heat_scale(const GridLabels& labels);

  int64_t rows_, cols_, tile_, scale_, caption_lines_;
  int64_t grid_left_ = 0, grid_top_ = 0;  // the tiles' area (with its borders) starts here
  Image image_;
};

// Scales values in place to [0, 1] by their own minimum and maximum (a constant map becomes 0.5).
void normalise_to_unit(float* values, int64_t n);

}  // namespace glimpse
