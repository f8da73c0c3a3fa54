// Distorted MNIST: the benchmarks of the attention papers, generated from 28x28 digits.
//
//   RTS         42x42  rotation in [-45, 45] degrees, scale in [0.7, 1.2], placed at a random
//                      position with all its ink inside the canvas (STN, Jaderberg et al. 2015,
//                      Sec. 4.1, "RTS")
//   translated  60x60  the 28x28 digit at a random position (RAM, Mnih et al. 2014, Sec. 4.1)
//   cluttered   60x60  translated, plus `fragments` random 8x8 crops of OTHER digits at random
//                      places (RAM's "cluttered translated MNIST")
//
// Each function reads one raw digit (28*28 bytes, row-major, 0 = background), draws what it
// needs from the Rng, writes a whole canvas (side*side bytes, row-major) and returns what it
// drew, so that a run repeats from its seed and a test can check the geometry. rts_mnist,
// translated_mnist and cluttered_mnist make a whole data set (train_stn's, train_ram's).
// Rotation and scaling resample the digit bilinearly about pixel centres; outside the digit
// reads as 0. Nothing here knows about tensors: the canvases are bytes like the data sets'.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "io/dataset.h"

namespace glimpse {

// The value of a side x side byte image at the fractional pixel (x, y), bilinear, 0 outside it.
double sample_bilinear(const uint8_t* image, int64_t side, double x, double y);
// The nearest byte to `value`, clamped to 0..255.
uint8_t to_byte(double value);

constexpr int64_t mnist_side = 28;            // the source digits
constexpr int64_t rts_side = 42;              // STN's RTS canvas
constexpr int64_t translated_side = 60;       // RAM's translated and cluttered canvas
constexpr int64_t clutter_fragment_side = 8;  // RAM's clutter pieces

// What one call drew. (left, top): where the 28x28 digit (translated, cluttered) or the box
// around its ink (RTS) landed in the canvas.
struct DigitPlacement {
  double angle_degrees = 0;
  double scale = 1;
  int64_t left = 0, top = 0;
  double centre_x = 0, centre_y = 0;  // RTS: where the digit's centre (13.5, 13.5) landed, in canvas pixels
};

// out: 42*42 bytes. The ink of any real MNIST digit (inside its central 20x20 box) fits at
// every angle and scale; a larger blob is centred and cut at the canvas edges.
DigitPlacement rts_digit(const uint8_t* digit, Rng& rng, uint8_t* out);

// out: side*side bytes, side >= 28.
DigitPlacement translated_digit(const uint8_t* digit, Rng& rng, uint8_t* out, int64_t side = translated_side);

// out: side*side bytes. `others` are the digits the clutter is cut from (not the one shown);
// a fragment is laid over the canvas with max(), so it never erases ink already there.
DigitPlacement cluttered_digit(const uint8_t* digit, const std::vector<const uint8_t*>& others, Rng& rng, uint8_t* out,
                               int64_t fragments = 4, int64_t side = translated_side);

// ---- whole data sets ----

// Refuses digits the generators cannot read: they take one-channel 28x28 images (a smaller one
// would be read past its end, a larger one cut). `what` names the set in the message.
void check_mnist_digits(const ImageDataset& digits, const std::string& what);

// The distorted sets of a set of 28x28 digits, drawn from rng in order, labels kept. STN's 42x42
// RTS set: each digit through rts_digit. RAM's 60x60 sets: each digit at a random place
// (translated), plus 4 8x8 fragments, each cut from one of 4 other digits of the set drawn at
// random with replacement (cluttered, which needs at least 2 digits). `what` names the set in errors.
ImageDataset rts_mnist(const ImageDataset& digits, Rng& rng, const std::string& what);
ImageDataset translated_mnist(const ImageDataset& digits, Rng& rng, const std::string& what);
ImageDataset cluttered_mnist(const ImageDataset& digits, Rng& rng, const std::string& what);

}  // namespace glimpse
