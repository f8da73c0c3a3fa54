// The geometry of the RTS study (tools/stn_pose_study.cpp): where rts_digit put each digit
// (io/distorted_mnist.h records it in a DigitPlacement), what a perfect spatial transformer
// would make of the canvas, and where a trained one shows the digit.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/random.h"
#include "io/dataset.h"
#include "io/distorted_mnist.h"

namespace glimpse {

// out: 42*42 bytes. Undoes what rts_digit drew, from its record: the canvas turned back upright,
// scaled back to the digit's size and centred, as a perfect spatial transformer would show it
// to the classifier (less what two bilinear resamplings and rounding to bytes lose).
void upright_rts(const uint8_t* canvas, const DigitPlacement& drawn, uint8_t* out);

// upright_rts as a spatial transformer: the theta = [A | t] (row-major a11 a12 t1 a21 a22 t2, in
// affine_grid's coordinates: [-1, 1] across the canvas, align_corners = false) whose grid_sample
// of the canvas reads the points upright_rts reads. In pixels from the canvas centre c = 20.5 an
// output pixel o reads the canvas at A (o - c) + t * 42 / 2, so A = scale R(angle) and
// t = (centre - c) * 2 / 42.
std::array<double, 6> upright_rts_theta(const DigitPlacement& drawn);

// Where a transformer's output shows the digit that rts_digit drew: turned by angle_degrees, at
// `scale` times its own size, its centre (centre_dx, centre_dy) output pixels from the output's
// centre. theta as above, for an output of the canvas's size. Composing theta (output -> canvas)
// with the draw undone (canvas -> digit) gives an affine map M from output to digit pixels;
// angle and scale are those of M's similarity part (a shear is left out). For the identity
// theta this is the draw itself (angle, scale, centre - c); for upright_rts_theta it is
// (0, 1, 0, 0). A perfect transformer shows every digit in one pose: the spread of these over a
// test set is how far a trained one is from it.
struct DigitPose {
  double angle_degrees = 0, scale = 1, centre_dx = 0, centre_dy = 0;
};
DigitPose pose_after_transform(const float* theta, const DigitPlacement& drawn);

// The RTS set of 28x28 digits drawn from rng (rts_mnist's, byte for byte), with the generator's
// record of each digit's draw in `draws`; with `upright`, each canvas then undone by upright_rts
// (the same draws). `what` names the set in errors.
ImageDataset rts_digits_with_draws(const ImageDataset& mnist, Rng& rng, bool upright,
                                   std::vector<DigitPlacement>& draws, const std::string& what);

// Where an image of a batch is in its data set. The DataLoader hands out images, not their
// places, and the record of a digit's draw is looked up by place: an image's bytes are recovered
// from its normalised values (the loader's x = (byte / 255 - mean) / stddev, undone and rounded,
// which is exact) and looked up by their hash. Two images of the set with the same bytes (none in
// an RTS draw of MNIST) have no one place: find() refuses them.
class ImageIndex {
 public:
  ImageIndex(const ImageDataset& set, float mean, float stddev);  // one-channel images
  int64_t find(const float* image) const;                         // (H, W) normalised; fails if not in the set

 private:
  std::unordered_map<uint64_t, int64_t> places_;  // hash of the bytes -> place; -1: more than one
  int64_t pixels_;
  float scale_, shift_;  // the loader's: x = byte * scale + shift
};

}  // namespace glimpse
