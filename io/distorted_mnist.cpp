// Distorted MNIST generators (distorted_mnist.h).
//
// Rotation and scaling are drawn backwards, as grid_sample does: for each output pixel centre p,
// find the source point q it came from and interpolate the digit there,
//     q = R(-angle) (p - c_out) / scale + c_digit,     c = (side - 1) / 2, the centre of the pixels,
// so every output pixel gets a value and none is written twice.
#include "io/distorted_mnist.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "engine/tensor.h"

namespace glimpse {

double sample_bilinear(const uint8_t* image, int64_t side, double x, double y) {
  double fx = std::floor(x), fy = std::floor(y);
  if (!(fx >= -1 && fx < side && fy >= -1 && fy < side)) return 0;
  int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  double wx = x - fx, wy = y - fy;
  auto at = [&](int64_t row, int64_t col) -> double {
    return (row >= 0 && row < side && col >= 0 && col < side) ? image[row * side + col] : 0.0;
  };
  return (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) +
         wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1));
}

uint8_t to_byte(double value) { return static_cast<uint8_t>(std::clamp(std::lround(value), 0L, 255L)); }

namespace {  // helpers of this file only

// Draws the digit rotated by angle and scaled about its centre onto the centre of a side x side canvas.
void draw_transformed(const uint8_t* digit, double angle_degrees, double scale, uint8_t* out, int64_t side) {
  double a = angle_degrees * std::numbers::pi / 180, cos_a = std::cos(a), sin_a = std::sin(a);
  double c_out = (side - 1) / 2.0, c_digit = (mnist_side - 1) / 2.0;
  for (int64_t i = 0; i < side; i++) {
    for (int64_t j = 0; j < side; j++) {
      double dx = j - c_out, dy = i - c_out;  // the inverse rotation of (dx, dy), then the inverse scale
      double x = (cos_a * dx + sin_a * dy) / scale + c_digit;
      double y = (-sin_a * dx + cos_a * dy) / scale + c_digit;
      out[i * side + j] = to_byte(sample_bilinear(digit, mnist_side, x, y));
    }
  }
}

void check_side(int64_t side, const char* op) {
  if (side < mnist_side) fail(std::string(op) + ": the canvas side must be at least 28, got " + std::to_string(side));
}

}  // namespace

DigitPlacement rts_digit(const uint8_t* digit, Rng& rng, uint8_t* out) {
  DigitPlacement drawn;
  drawn.angle_degrees = rng.uniform(-45, 45);
  drawn.scale = rng.uniform(0.7f, 1.2f);

  // 1. rotate and scale onto a canvas large enough for the whole 28x28 square:
  //    28 * 1.2 * sqrt 2 = 47.5, plus a pixel of interpolation on each side
  constexpr int64_t work_side = 50;
  std::vector<uint8_t> work(work_side * work_side);
  draw_transformed(digit, drawn.angle_degrees, drawn.scale, work.data(), work_side);

  // 2. the box around the ink: rows r0..r1, columns c0..c1 (the whole canvas if there is none)
  int64_t r0 = work_side, r1 = -1, c0 = work_side, c1 = -1;
  for (int64_t i = 0; i < work_side; i++)
    for (int64_t j = 0; j < work_side; j++)
      if (work[i * work_side + j] > 0) {
        r0 = std::min(r0, i), r1 = std::max(r1, i);
        c0 = std::min(c0, j), c1 = std::max(c1, j);
      }
  if (r1 < 0) r0 = c0 = 0, r1 = c1 = work_side - 1;

  // 3. a random place for the box with all of it inside the 42x42 canvas (centred if it cannot fit)
  int64_t box_h = r1 - r0 + 1, box_w = c1 - c0 + 1;
  drawn.top = box_h <= rts_side ? rng.randint(rts_side - box_h + 1) : (rts_side - box_h) / 2;
  drawn.left = box_w <= rts_side ? rng.randint(rts_side - box_w + 1) : (rts_side - box_w) / 2;
  drawn.centre_x = (work_side - 1) / 2.0 - c0 + drawn.left;  // the work canvas's centre, moved with the box
  drawn.centre_y = (work_side - 1) / 2.0 - r0 + drawn.top;
  std::fill(out, out + rts_side * rts_side, uint8_t{0});
  for (int64_t i = 0; i < rts_side; i++) {
    for (int64_t j = 0; j < rts_side; j++) {
      int64_t wi = i - drawn.top + r0, wj = j - drawn.left + c0;  // canvas pixel -> work pixel
      if (wi >= 0 && wi < work_side && wj >= 0 && wj < work_side) out[i * rts_side + j] = work[wi * work_side + wj];
    }
  }
  return drawn;
}

DigitPlacement translated_digit(const uint8_t* digit, Rng& rng, uint8_t* out, int64_t side) {
  check_side(side, "translated_digit");
  DigitPlacement drawn;
  drawn.left = rng.randint(side - mnist_side + 1);
  drawn.top = rng.randint(side - mnist_side + 1);
  std::fill(out, out + side * side, uint8_t{0});
  for (int64_t i = 0; i < mnist_side; i++)
    std::copy(digit + i * mnist_side, digit + (i + 1) * mnist_side, out + (drawn.top + i) * side + drawn.left);
  return drawn;
}

DigitPlacement cluttered_digit(const uint8_t* digit, const std::vector<const uint8_t*>& others, Rng& rng, uint8_t* out,
                               int64_t fragments, int64_t side) {
  check_side(side, "cluttered_digit");
  if (fragments < 0) fail("cluttered_digit: fragments must be >= 0, got " + std::to_string(fragments));
  if (fragments > 0 && others.empty()) fail("cluttered_digit: clutter needs other digits to cut it from, got none");
  DigitPlacement drawn = translated_digit(digit, rng, out, side);
  constexpr int64_t f = clutter_fragment_side;
  for (int64_t t = 0; t < fragments; t++) {
    const uint8_t* source = others[rng.randint(static_cast<int64_t>(others.size()))];
    int64_t src_top = rng.randint(mnist_side - f + 1), src_left = rng.randint(mnist_side - f + 1);
    int64_t top = rng.randint(side - f + 1), left = rng.randint(side - f + 1);
    for (int64_t i = 0; i < f; i++) {
      for (int64_t j = 0; j < f; j++) {
        uint8_t& pixel = out[(top + i) * side + left + j];
        pixel = std::max(pixel, source[(src_top + i) * mnist_side + src_left + j]);
      }
    }
  }
  return drawn;
}

// ---- whole data sets ----

void check_mnist_digits(const ImageDataset& digits, const std::string& what) {
  if (digits.channels != 1 || digits.height != mnist_side || digits.width != mnist_side)
    fail(what + ": the digits are " + std::to_string(digits.channels) + "x" + std::to_string(digits.height) + "x" +
         std::to_string(digits.width) + " (channels x height x width); the distorted-MNIST generators take " +
         "1x28x28 MNIST digits");
}

namespace {

// The 60x60 canvases of a set of digits, labels and class names kept.
ImageDataset empty_canvases(const ImageDataset& digits) {
  ImageDataset out{.channels = 1,
                   .height = translated_side,
                   .width = translated_side,
                   .pixels = {},
                   .labels = digits.labels,
                   .class_names = digits.class_names};
  out.pixels.resize(static_cast<size_t>(digits.size() * translated_side * translated_side));
  return out;
}

}  // namespace

ImageDataset rts_mnist(const ImageDataset& digits, Rng& rng, const std::string& what) {
  check_mnist_digits(digits, what);
  ImageDataset out{.channels = 1,
                   .height = rts_side,
                   .width = rts_side,
                   .pixels = {},
                   .labels = digits.labels,
                   .class_names = digits.class_names};
  out.pixels.resize(static_cast<size_t>(digits.size() * rts_side * rts_side));
  for (int64_t i = 0; i < digits.size(); i++)
    rts_digit(digits.image(i), rng, out.pixels.data() + i * out.image_bytes());
  return out;
}

ImageDataset translated_mnist(const ImageDataset& digits, Rng& rng, const std::string& what) {
  check_mnist_digits(digits, what);
  ImageDataset out = empty_canvases(digits);
  for (int64_t i = 0; i < digits.size(); i++)
    translated_digit(digits.image(i), rng, out.pixels.data() + i * out.image_bytes());
  return out;
}

ImageDataset cluttered_mnist(const ImageDataset& digits, Rng& rng, const std::string& what) {
  check_mnist_digits(digits, what);
  if (digits.size() == 1)
    fail(what +
         ": cluttered MNIST cuts its clutter from digits other than the one shown, so it needs at least "
         "2 digits; the set has 1");
  ImageDataset out = empty_canvases(digits);
  std::vector<const uint8_t*> others(4);
  for (int64_t i = 0; i < digits.size(); i++) {
    for (const uint8_t*& other : others) {  // any digit but i: draw from the n - 1 others, skipping i
      int64_t j = rng.randint(digits.size() - 1);
      other = digits.image(j >= i ? j + 1 : j);
    }
    cluttered_digit(digits.image(i), others, rng, out.pixels.data() + i * out.image_bytes());
  }
  return out;
}

}  // namespace glimpse
