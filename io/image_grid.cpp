#include "io/image_grid.h"

#include <algorithm>
#include <cmath>

#include "engine/tensor.h"

namespace glimpse {

constexpr int64_t border = 2;
constexpr uint8_t border_grey = 128;

static uint8_t to_byte(float v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); }

ImageGrid::ImageGrid(int64_t rows, int64_t cols, int64_t tile_side, int64_t scale)
    : rows_(rows), cols_(cols), tile_(tile_side), scale_(scale) {
  if (rows <= 0 || cols <= 0 || tile_side <= 0 || scale <= 0)
    fail("ImageGrid: rows, columns, tile side and scale must be positive");
  image_.channels = 3;
  image_.height = border + rows * (tile_ * scale_ + border);
  image_.width = border + cols * (tile_ * scale_ + border);
  image_.pixels.assign(static_cast<size_t>(image_.height * image_.width * 3), border_grey);
}

template <typename Colour>
void ImageGrid::paint(int64_t row, int64_t col, int64_t h, int64_t w, Colour colour) {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_ || h <= 0 || w <= 0)
    fail("ImageGrid: tile (" + std::to_string(row) + ", " + std::to_string(col) + ") of a " + std::to_string(h) + "x" +
         std::to_string(w) + " map is outside the grid");
  const int64_t side = tile_ * scale_;
  const int64_t top = border + row * (side + border), left = border + col * (side + border);
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
  // black -> red -> yellow -> white as v goes 0 -> 1/3 -> 2/3 -> 1
  paint(row, col, h, w, [&](int64_t i, int64_t j, uint8_t* rgb) {
    float v = values[i * w + j];
    rgb[0] = to_byte(3 * v), rgb[1] = to_byte(3 * v - 1), rgb[2] = to_byte(3 * v - 2);
  });
}

void ImageGrid::put_rgb(int64_t row, int64_t col, const float* rgb_planes, int64_t h, int64_t w) {
  paint(row, col, h, w, [&](int64_t i, int64_t j, uint8_t* rgb) {
    for (int c = 0; c < 3; c++) rgb[c] = to_byte(rgb_planes[(c * h + i) * w + j]);
  });
}

void ImageGrid::mark(int64_t row, int64_t col, double top, double left, double bottom, double right) {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_)
    fail("ImageGrid: tile (" + std::to_string(row) + ", " + std::to_string(col) + ") is outside the grid");
  const int64_t side = tile_ * scale_;
  const int64_t y0 = border + row * (side + border), x0 = border + col * (side + border);
  auto pixel = [side](double f) { return std::lround(f * static_cast<double>(side)); };  // a fraction's edge
  auto first = [&](double f) { return std::clamp<int64_t>(pixel(f), 0, side - 1); };
  auto last = [&](double f) { return std::clamp<int64_t>(pixel(f) - 1, 0, side - 1); };
  const int64_t t = first(top), l = first(left), b = std::max(last(bottom), t), r = std::max(last(right), l);
  auto put = [&](int64_t y, int64_t x) {
    uint8_t* out = image_.pixels.data() + ((y0 + y) * image_.width + x0 + x) * 3;
    out[0] = 0, out[1] = 255, out[2] = 255;
  };
  for (int64_t x = l; x <= r; x++) put(t, x), put(b, x);
  for (int64_t y = t; y <= b; y++) put(y, l), put(y, r);
}

void normalise_to_unit(float* values, int64_t n) {
  if (n <= 0) return;
  auto [lo, hi] = std::minmax_element(values, values + n);
  float low = *lo, range = *hi - *lo;
  for (int64_t i = 0; i < n; i++) values[i] = range > 0 ? (values[i] - low) / range : 0.5f;
}

}  // namespace glimpse
