// The geometry of the RTS study (stn_pose.h). rts_digit draws a digit point x (pixels from the
// digit's centre c_digit = 13.5) at the canvas point
//     p = scale R(angle) x + centre,
// and every function here is that map or its inverse, in pixels or in affine_grid's units.
#include "tools/stn_pose.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace glimpse {

namespace {

// 64-bit FNV-1a of n bytes.
uint64_t fnv1a(const uint8_t* bytes, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace

// Each output pixel, read as a digit point x = o - c_out (the digit at its size, centred), takes
// the canvas at p = scale R(angle) x + centre.
void upright_rts(const uint8_t* canvas, const DigitPlacement& drawn, uint8_t* out) {
  double a = drawn.angle_degrees * std::numbers::pi / 180, cos_a = std::cos(a), sin_a = std::sin(a);
  double c_out = (rts_side - 1) / 2.0;
  for (int64_t i = 0; i < rts_side; i++) {
    for (int64_t j = 0; j < rts_side; j++) {
      double u = j - c_out, v = i - c_out;  // x - c_digit
      double x = drawn.scale * (cos_a * u - sin_a * v) + drawn.centre_x;
      double y = drawn.scale * (sin_a * u + cos_a * v) + drawn.centre_y;
      out[i * rts_side + j] = to_byte(sample_bilinear(canvas, rts_side, x, y));
    }
  }
}

std::array<double, 6> upright_rts_theta(const DigitPlacement& drawn) {
  double a = drawn.angle_degrees * std::numbers::pi / 180, cos_a = std::cos(a), sin_a = std::sin(a);
  double c = (rts_side - 1) / 2.0, to_unit = 2.0 / rts_side;  // pixels -> affine_grid's [-1, 1]
  return {drawn.scale * cos_a, -drawn.scale * sin_a, (drawn.centre_x - c) * to_unit,
          drawn.scale * sin_a, drawn.scale * cos_a,  (drawn.centre_y - c) * to_unit};
}

// Output pixel o (from the output's centre) reads the canvas at p - c = A o + t * side / 2, and
// the canvas point p is the digit point R(-angle) (p - centre) / scale (from the digit's centre):
//     digit(o) = M o + m,   M = R(-angle) A / scale,   m = R(-angle) (t side / 2 + c - centre) / scale.
// M = k R(-shown_angle) for a similarity, so the digit is shown turned by shown_angle at size 1/k,
// with its centre (digit(o) = 0) at o = -M^-1 m.
DigitPose pose_after_transform(const float* theta, const DigitPlacement& drawn) {
  double a = drawn.angle_degrees * std::numbers::pi / 180, cos_a = std::cos(a), sin_a = std::sin(a);
  double c = (rts_side - 1) / 2.0, half_side = rts_side / 2.0;
  auto undo_draw = [&](double x, double y) {  // R(-angle) (x, y) / scale
    return std::array<double, 2>{(cos_a * x + sin_a * y) / drawn.scale, (-sin_a * x + cos_a * y) / drawn.scale};
  };
  auto [m11, m21] = undo_draw(theta[0], theta[3]);  // M's columns: the draw undone on A's columns
  auto [m12, m22] = undo_draw(theta[1], theta[4]);
  auto [m1, m2] = undo_draw(theta[2] * half_side + c - drawn.centre_x, theta[5] * half_side + c - drawn.centre_y);
  double det = m11 * m22 - m12 * m21;
  DigitPose pose;
  pose.angle_degrees = -std::atan2(m21 - m12, m11 + m22) * 180 / std::numbers::pi;
  pose.scale = 1 / std::sqrt(std::fabs(det));
  pose.centre_dx = -(m22 * m1 - m12 * m2) / det;  // -M^-1 m
  pose.centre_dy = -(-m21 * m1 + m11 * m2) / det;
  return pose;
}

ImageDataset rts_digits_with_draws(const ImageDataset& mnist, Rng& rng, bool upright,
                                   std::vector<DigitPlacement>& draws, const std::string& what) {
  check_mnist_digits(mnist, what);
  ImageDataset out{.channels = 1,
                   .height = rts_side,
                   .width = rts_side,
                   .pixels = {},
                   .labels = mnist.labels,
                   .class_names = mnist.class_names};
  out.pixels.resize(static_cast<size_t>(mnist.size() * rts_side * rts_side));
  draws.clear();
  std::vector<uint8_t> canvas(rts_side * rts_side);
  for (int64_t i = 0; i < mnist.size(); i++) {
    uint8_t* out_canvas = out.pixels.data() + i * out.image_bytes();
    draws.push_back(rts_digit(mnist.image(i), rng, upright ? canvas.data() : out_canvas));
    if (upright) upright_rts(canvas.data(), draws.back(), out_canvas);
  }
  return out;
}

ImageIndex::ImageIndex(const ImageDataset& set, float mean, float stddev)
    : pixels_(set.image_bytes()), scale_(1.0f / (255.0f * stddev)), shift_(-mean / stddev) {
  for (int64_t i = 0; i < set.size(); i++) {
    auto [at, added] = places_.emplace(fnv1a(set.image(i), static_cast<size_t>(pixels_)), i);
    if (!added) at->second = -1;
  }
}

int64_t ImageIndex::find(const float* image) const {
  std::vector<uint8_t> bytes(static_cast<size_t>(pixels_));
  for (int64_t p = 0; p < pixels_; p++) bytes[p] = to_byte((static_cast<double>(image[p]) - shift_) / scale_);
  auto at = places_.find(fnv1a(bytes.data(), bytes.size()));
  if (at == places_.end()) fail("ImageIndex: an image of the batch is not in the training set");
  if (at->second < 0) fail("ImageIndex: two training images have the same bytes; their draws cannot be told apart");
  return at->second;
}

}  // namespace glimpse
