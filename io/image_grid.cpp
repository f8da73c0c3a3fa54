#include "io/image_grid.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/tensor.h"

namespace glimpse {

constexpr int64_t border = 2;  // grey, between tiles
constexpr int64_t gap = 4;     // white, between a label and what it names
constexpr int64_t line = 12;   // a line of text at scale 1
constexpr Rgb border_grey{128, 128, 128}, paper{255, 255, 255};

static uint8_t to_byte(float v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

// put_heat's colours: black -> red -> yellow -> white as v goes 0 -> 1/3 -> 2/3 -> 1
static void heat_colour(float v, uint8_t* rgb) {
  rgb[0] = to_byte(3 * v), rgb[1] = to_byte(3 * v - 1), rgb[2] = to_byte(3 * v - 2);
}

static std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// The title in large type if it fits across the tiles, else in small.
static int64_t title_scale(const std::string& title, int64_t grid_width) {
  return text_width(title, 2) + 2 * gap <= grid_width ? 2 : 1;
}

// The largest extent of the labels: their widths, or their heights.
static int64_t largest(const std::vector<std::string>& labels, bool widths) {
  int64_t most = 0;
  for (const std::string& label : labels) most = std::max(most, widths ? text_width(label, 1) : text_height(label, 1));
  return most;
}

ImageGrid::ImageGrid(int64_t rows, int64_t cols, int64_t tile_side, int64_t scale, const GridLabels& labels)
    : rows_(rows), cols_(cols), tile_(tile_side), scale_(scale), caption_lines_(labels.caption_lines) {
  if (rows <= 0 || cols <= 0 || tile_side <= 0 || scale <= 0 || caption_lines_ < 0)
    fail("ImageGrid: rows, columns, tile side and scale must be positive");
  if (!labels.columns.empty() && static_cast<int64_t>(labels.columns.size()) != cols)
    fail("ImageGrid: " + std::to_string(labels.columns.size()) + " column labels for " + std::to_string(cols) +
         " columns");
  if (!labels.rows.empty() && static_cast<int64_t>(labels.rows.size()) != rows)
    fail("ImageGrid: " + std::to_string(labels.rows.size()) + " row labels for " + std::to_string(rows) + " rows");
  // the bands around the tiles, from the top: title, columns' title, column labels; from the
  // left: rows' title, row labels; under them: the colour scale
  const int64_t grid_width = border + cols * (tile_side * scale + border);
  const int64_t title_size = title_scale(labels.title, grid_width);
  const int64_t title_band = labels.title.empty() ? 0 : text_height(labels.title, title_size) + 2 * gap;
  const int64_t columns_title_band = labels.columns_title.empty() ? 0 : text_height(labels.columns_title, 1) + gap;
  const int64_t column_band = labels.columns.empty() ? 0 : largest(labels.columns, labels.vertical_columns) + gap;
  const int64_t rows_title_band = labels.rows_title.empty() ? 0 : text_height(labels.rows_title, 1) + 2 * gap;
  const int64_t row_band = labels.rows.empty() ? 0 : largest(labels.rows, true) + 2 * gap;
  const bool heat_scale = !labels.heat_low.empty() || !labels.heat_high.empty();
  const int64_t heat_band = heat_scale ? 2 * gap + line + 2 + line : 0;  // the bar, then its ends' names
  grid_left_ = rows_title_band + row_band;
  grid_top_ = title_band + columns_title_band + column_band;
  const int64_t grid_height = tile_top(rows) - grid_top_;

  image_.channels = 3;
  image_.width = std::max(grid_left_ + grid_width, text_width(labels.title, title_size) + 2 * gap);
  image_.height = grid_top_ + grid_height + heat_band;
  image_.pixels.assign(static_cast<size_t>(image_.height * image_.width * 3), 255);
  fill_rect(image_, grid_left_, grid_top_, grid_width, grid_height, border_grey);
  const int64_t side = tile_ * scale_;
  for (int64_t r = 0; r < rows; r++)  // the caption under each tile
    for (int64_t c = 0; c < cols; c++)
      fill_rect(image_, tile_left(c), tile_top(r) + side, side, tile_top(r + 1) - border - tile_top(r) - side, paper);
  draw_labels(labels);
  if (heat_scale) draw_heat_scale(labels);
}

int64_t ImageGrid::tile_left(int64_t col) const { return grid_left_ + border + col * (tile_ * scale_ + border); }

int64_t ImageGrid::tile_top(int64_t row) const {
  const int64_t caption_band = caption_lines_ > 0 ? caption_lines_ * line + gap : 0;
  return grid_top_ + border + row * (tile_ * scale_ + caption_band + border);
}

void ImageGrid::draw_labels(const GridLabels& labels) {
  const int64_t side = tile_ * scale_, grid_width = tile_left(cols_) - grid_left_;
  const int64_t grid_height = tile_top(rows_) - grid_top_;
  const int64_t title_size = title_scale(labels.title, grid_width);
  draw_text(image_, (image_.width - text_width(labels.title, title_size)) / 2, gap, labels.title, title_size, ink);
  const int64_t column_band_bottom = grid_top_ - gap;
  if (!labels.columns_title.empty()) {
    const int64_t above = labels.columns.empty() ? 0 : largest(labels.columns, labels.vertical_columns) + gap;
    draw_text(image_, grid_left_ + (grid_width - text_width(labels.columns_title, 1)) / 2,
              column_band_bottom - above - text_height(labels.columns_title, 1), labels.columns_title, 1, ink);
  }
  for (size_t c = 0; c < labels.columns.size(); c++) {
    const int64_t left = tile_left(static_cast<int64_t>(c));
    const std::string& label = labels.columns[c];
    if (labels.vertical_columns) {  // its bottom against the grid, centred over the column
      draw_text(image_, left + (side - text_height(label, 1)) / 2, column_band_bottom - text_width(label, 1), label, 1,
                ink, true);
      continue;
    }
    const std::vector<std::string> lines = lines_of(label);  // each line centred over the column
    int64_t y = column_band_bottom - line * static_cast<int64_t>(lines.size());
    for (const std::string& l : lines) draw_text(image_, left + (side - text_width(l, 1)) / 2, y, l, 1, ink), y += line;
  }
  if (!labels.rows_title.empty())
    draw_text(image_, gap, grid_top_ + (grid_height - text_width(labels.rows_title, 1)) / 2, labels.rows_title, 1, ink,
              true);
  for (size_t r = 0; r < labels.rows.size(); r++) {  // right-aligned against the grid
    const std::string& label = labels.rows[r];
    draw_text(image_, grid_left_ - gap - text_width(label, 1),
              tile_top(static_cast<int64_t>(r)) + (side - text_height(label, 1)) / 2, label, 1, ink);
  }
}

void ImageGrid::draw_heat_scale(const GridLabels& labels) {
  const int64_t left = grid_left_ + border, width = tile_left(cols_) - border - left;
  const int64_t top = tile_top(rows_) + gap;
  for (int64_t x = 0; x < width; x++) {
    uint8_t rgb[3];
    heat_colour(width > 1 ? static_cast<float>(x) / static_cast<float>(width - 1) : 1.0f, rgb);
    fill_rect(image_, left + x, top, 1, line, Rgb{rgb[0], rgb[1], rgb[2]});
  }
  draw_text(image_, left, top + line + 2, labels.heat_low, 1, ink);
  draw_text(image_, left + width - text_width(labels.heat_high, 1), top + line + 2, labels.heat_high, 1, ink);
}

void ImageGrid::check_tile(int64_t row, int64_t col) const {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_)
    fail("ImageGrid: tile (" + std::to_string(row) + ", " + std::to_string(col) + ") is outside the grid of " +
         std::to_string(rows_) + "x" + std::to_string(cols_));
}

template <typename Colour>
void ImageGrid::paint(int64_t row, int64_t col, int64_t h, int64_t w, Colour colour) {
  check_tile(row, col);
  if (h <= 0 || w <= 0) fail("ImageGrid: a map of " + std::to_string(h) + "x" + std::to_string(w));
  const int64_t side = tile_ * scale_, top = tile_top(row), left = tile_left(col);
  for (int64_t y = 0; y < side; y++)
    for (int64_t x = 0; x < side; x++) {
      int64_t i = y * h / side, j = x * w / side;  // nearest source pixel
      uint8_t rgb[3];
      colour(i, j, rgb);
      uint8_t* out = image_.pixels.data() + ((top + y) * image_.width + left + x) * 3;
      out[0] = rgb[0], out[1] = rgb[1], out[2] = rgb[2];
    }
}

void ImageGrid::put_grey(int64_t row, int64_t col, const float* values, int64_t h, int64_t w) {
  paint(row, col, h, w,
        [&](int64_t i, int64_t j, uint8_t* rgb) { rgb[0] = rgb[1] = rgb[2] = to_byte(values[i * w + j]); });
}

void ImageGrid::put_heat(int64_t row, int64_t col, const float* values, int64_t h, int64_t w) {
  paint(row, col, h, w, [&](int64_t i, int64_t j, uint8_t* rgb) { heat_colour(values[i * w + j], rgb); });
}

void ImageGrid::put_rgb(int64_t row, int64_t col, const float* rgb_planes, int64_t h, int64_t w) {
  paint(row, col, h, w, [&](int64_t i, int64_t j, uint8_t* rgb) {
    for (int c = 0; c < 3; c++) rgb[c] = to_byte(rgb_planes[(c * h + i) * w + j]);
  });
}

void ImageGrid::mark(int64_t row, int64_t col, double top, double left, double bottom, double right, Rgb colour) {
  check_tile(row, col);
  const int64_t side = tile_ * scale_, y0 = tile_top(row), x0 = tile_left(col);
  auto pixel = [side](double f) { return std::lround(f * static_cast<double>(side)); };  // a fraction's edge
  auto first = [&](double f) { return std::clamp<int64_t>(pixel(f), 0, side - 1); };
  auto last = [&](double f) { return std::clamp<int64_t>(pixel(f) - 1, 0, side - 1); };
  const int64_t t = first(top), l = first(left), b = std::max(last(bottom), t), r = std::max(last(right), l);
  fill_rect(image_, x0 + l, y0 + t, r - l + 1, 1, colour);
  fill_rect(image_, x0 + l, y0 + b, r - l + 1, 1, colour);
  fill_rect(image_, x0 + l, y0 + t, 1, b - t + 1, colour);
  fill_rect(image_, x0 + r, y0 + t, 1, b - t + 1, colour);
}

void ImageGrid::fill(int64_t row, int64_t col, double top, double left, double bottom, double right, Rgb colour) {
  check_tile(row, col);
  const double side = static_cast<double>(tile_ * scale_);
  const int64_t y0 = std::clamp<int64_t>(std::lround(top * side), 0, tile_ * scale_);
  const int64_t x0 = std::clamp<int64_t>(std::lround(left * side), 0, tile_ * scale_);
  const int64_t y1 = std::clamp<int64_t>(std::lround(bottom * side), y0, tile_ * scale_);
  const int64_t x1 = std::clamp<int64_t>(std::lround(right * side), x0, tile_ * scale_);
  fill_rect(image_, tile_left(col) + x0, tile_top(row) + y0, x1 - x0, y1 - y0, colour);
}

void ImageGrid::annotate(int64_t row, int64_t col, double y, double x, const std::string& text, Rgb colour) {
  check_tile(row, col);
  const double side = static_cast<double>(tile_ * scale_);
  const int64_t width = text_width(text, 1), height = 9;  // a line's glyphs, without the space under them
  const int64_t left = tile_left(col) + std::lround(x * side) - width / 2;
  const int64_t top = tile_top(row) + std::lround(y * side) - height / 2;
  fill_rect(image_, left - 1, top - 1, width + 1, height + 1, paper);
  draw_text(image_, left, top, text, 1, colour);
}

void ImageGrid::caption(int64_t row, int64_t col, int64_t line_number, const std::string& text, Rgb colour) {
  check_tile(row, col);
  if (line_number < 0 || line_number >= caption_lines_)
    fail("ImageGrid: caption line " + std::to_string(line_number) + " of a grid with " +
         std::to_string(caption_lines_) + " caption lines");
  const int64_t side = tile_ * scale_;
  draw_text(image_, tile_left(col) + (side - text_width(text, 1)) / 2,
            tile_top(row) + side + gap / 2 + line_number * line, text, 1, colour);
}

void ImageGrid::caption_prediction(int64_t row, int64_t col, const std::string& truth, const std::string& predicted) {
  caption(row, col, 0, "true " + truth);
  caption(row, col, 1, "pred " + predicted, predicted == truth ? right_green : wrong_red);
}

void normalise_to_unit(float* values, int64_t n) {
  if (n <= 0) return;
  auto [lo, hi] = std::minmax_element(values, values + n);
  float low = *lo, range = *hi - *lo;
  for (int64_t i = 0; i < n; i++) values[i] = range > 0 ? (values[i] - low) / range : 0.5f;
}

}  // namespace glimpse
