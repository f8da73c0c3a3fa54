// The geometry of the RTS study's tool (tools/stn_pose.h): undoing rts_digit's draw, as a canvas
// and as a spatial transformer's theta, reading a digit's pose in a transformer's output, the RTS
// set with its records, and finding a batch image's place in its set. (The tool's command line is
// tested in test_cli.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "engine/ops.h"
#include "io/data_loader.h"
#include "synthetic_digits.h"
#include "tools/stn_pose.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

// The synthetic digit drawn by rts_digit from Rng(seed), and the record of the draw.
Image rts_of(const Image& digit, uint64_t seed, DigitPlacement& drawn) {
  Rng rng(seed);
  Image canvas(rts_side * rts_side);
  drawn = rts_digit(digit.data(), rng, canvas.data());
  return canvas;
}

int64_t ink(const Image& image) {
  int64_t total = 0;
  for (uint8_t v : image) total += v;
  return total;
}

}  // namespace

TEST_CASE("stn pose: upright_rts undoes what rts_digit drew", "[data]") {
  // The digit centred on a 42x42 canvas (7 pixels of margin) is what a perfect transformer would
  // show; after two bilinear resamplings the undone canvas matches it up to blurred edges.
  Image digit = synthetic_digit();
  Image centred(rts_side * rts_side, 0);
  for (int64_t i = 0; i < mnist_side; i++)
    std::copy(digit.begin() + i * mnist_side, digit.begin() + (i + 1) * mnist_side,
              centred.begin() + (i + 7) * rts_side + 7);
  for (uint64_t seed = 1; seed <= 50; seed++) {
    DigitPlacement drawn;
    Image distorted = rts_of(digit, seed, drawn);
    Image upright(rts_side * rts_side);
    upright_rts(distorted.data(), drawn, upright.data());
    double sum_xy = 0, sum_xx = 0, sum_yy = 0;
    for (size_t p = 0; p < upright.size(); p++) {
      sum_xy += double(upright[p]) * centred[p];
      sum_xx += double(upright[p]) * upright[p];
      sum_yy += double(centred[p]) * centred[p];
    }
    double correlation = sum_xy / std::sqrt(sum_xx * sum_yy);  // 1: the same picture up to brightness
    INFO("seed " << seed << ": angle " << drawn.angle_degrees << ", scale " << drawn.scale);
    CHECK(correlation > 0.95);
    CHECK(std::abs(double(ink(upright)) / double(ink(digit)) - 1) < 0.1);  // scaled back to its size
  }
}

TEST_CASE("stn pose: upright_rts_theta is upright_rts as a spatial transformer", "[data]") {
  // grid_sample reads the canvas at the points upright_rts reads, so the two agree up to
  // upright_rts's rounding to bytes: this ties the generator's record to affine_grid's coordinates.
  Image digit = synthetic_digit();
  for (uint64_t seed = 1; seed <= 20; seed++) {
    DigitPlacement drawn;
    Image distorted = rts_of(digit, seed, drawn);
    Image upright(rts_side * rts_side);
    upright_rts(distorted.data(), drawn, upright.data());
    Tensor canvas = Tensor::empty({1, 1, rts_side, rts_side}), theta = Tensor::empty({1, 2, 3});
    std::copy(distorted.begin(), distorted.end(), canvas.data());
    std::array<double, 6> t = upright_rts_theta(drawn);
    std::copy(t.begin(), t.end(), theta.data());
    Tensor warped = grid_sample(canvas, affine_grid(theta, rts_side, rts_side));
    double worst = 0;
    for (size_t p = 0; p < upright.size(); p++)
      worst = std::max(worst, std::fabs(double(warped.data()[p]) - upright[p]));
    INFO("seed " << seed << ": angle " << drawn.angle_degrees << ", scale " << drawn.scale);
    CHECK(worst <= 0.51);
  }
}

TEST_CASE("stn pose: pose_after_transform reads the digit's pose in a transformer's output", "[data]") {
  Image digit = synthetic_digit();
  const double c = (rts_side - 1) / 2.0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    DigitPlacement drawn;
    rts_of(digit, seed, drawn);
    INFO("seed " << seed << ": angle " << drawn.angle_degrees << ", scale " << drawn.scale);
    // the identity shows the draw itself
    const float identity[6] = {1, 0, 0, 0, 1, 0};
    DigitPose as_drawn = pose_after_transform(identity, drawn);
    CHECK(as_drawn.angle_degrees == Approx(drawn.angle_degrees).margin(1e-9));
    CHECK(as_drawn.scale == Approx(drawn.scale));
    CHECK(as_drawn.centre_dx == Approx(drawn.centre_x - c).margin(1e-9));
    CHECK(as_drawn.centre_dy == Approx(drawn.centre_y - c).margin(1e-9));
    // the perfect transformer shows every digit upright, at its size, centred
    std::array<double, 6> t = upright_rts_theta(drawn);
    float perfect[6];
    std::copy(t.begin(), t.end(), perfect);
    DigitPose undone = pose_after_transform(perfect, drawn);
    CHECK(undone.angle_degrees == Approx(0).margin(1e-4));
    CHECK(undone.scale == Approx(1).epsilon(1e-5));
    CHECK(undone.centre_dx == Approx(0).margin(1e-4));
    CHECK(undone.centre_dy == Approx(0).margin(1e-4));
    // reading half the canvas's extent around the same point shows the digit twice as large
    float zoomed[6] = {perfect[0] / 2, perfect[1] / 2, perfect[2], perfect[3] / 2, perfect[4] / 2, perfect[5]};
    DigitPose larger = pose_after_transform(zoomed, drawn);
    CHECK(larger.scale == Approx(2).epsilon(1e-5));
    CHECK(larger.angle_degrees == Approx(0).margin(1e-4));
    CHECK(larger.centre_dx == Approx(0).margin(1e-4));
  }
}

// upright_rts must keep its output bit for bit (the rts-upright runs of docs/RESULTS.md): the hash
// of rts_digit's canvas, the canvas undone and the record, over 5 digits and 20 seeds, the values
// pinned when upright_rts lived in io/distorted_mnist.cpp. Two values, without FMA and with it, as
// test_distorted_mnist.cpp's pinned RTS hash explains.
TEST_CASE("stn pose: the undone RTS canvases are pinned", "[data]") {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const Image& digit : pinned_digits()) {
    for (uint64_t seed = 1; seed <= 20; seed++) {
      DigitPlacement drawn;
      Image canvas = rts_of(digit, seed, drawn), upright(rts_side * rts_side);
      upright_rts(canvas.data(), drawn, upright.data());
      hash = hash_placement(drawn, fnv1a(upright.data(), upright.size(), fnv1a(canvas.data(), canvas.size(), hash)));
    }
  }
  CHECK((hash == 0x34ceb285dda69ec6ull || hash == 0x9b1ff6fb1175a097ull));
}

// The tool trains on train_stn's digits: its RTS set is rts_mnist's, byte for byte, with the
// record of each draw; its upright set is each of those canvases undone.
TEST_CASE("stn pose: the RTS set with its records is rts_mnist's", "[data]") {
  const ImageDataset digits = pinned_set();
  Rng a(11), b(11), c(11);
  std::vector<DigitPlacement> draws, upright_draws;
  ImageDataset with_draws = rts_digits_with_draws(digits, a, false, draws, "digits");
  ImageDataset upright = rts_digits_with_draws(digits, c, true, upright_draws, "digits");
  ImageDataset plain = rts_mnist(digits, b, "digits");
  CHECK(with_draws.pixels == plain.pixels);
  CHECK(with_draws.labels == plain.labels);
  REQUIRE(draws.size() == static_cast<size_t>(digits.size()));
  for (int64_t i = 0; i < digits.size(); i++) {
    Image canvas(rts_side * rts_side), undone(rts_side * rts_side);
    std::copy(plain.image(i), plain.image(i) + plain.image_bytes(), canvas.begin());
    upright_rts(canvas.data(), draws[i], undone.data());
    CHECK(std::equal(undone.begin(), undone.end(), upright.image(i)));
    CHECK(upright_draws[i].angle_degrees == draws[i].angle_degrees);
  }
  CHECK_THROWS_WITH(rts_digits_with_draws(subset(plain, 0, 2), a, false, draws, "the test digits"),
                    Catch::Contains("the test digits: the digits are 1x42x42"));
}

// Every image a shuffled, normalised batch hands out is found at its place in the set; an image
// that is not in the set, or whose bytes two images share, is refused.
TEST_CASE("stn pose: ImageIndex finds a batch image's place in its set", "[data]") {
  const ImageDataset digits = pinned_set();
  Rng rng(5);
  const ImageDataset set = rts_mnist(digits, rng, "digits");
  const float mean = 0.07f, stddev = 0.21f;
  ImageIndex index(set, mean, stddev);
  DataLoader loader(set, {.batch_size = 2, .shuffle = true, .seed = 3, .mean = {mean}, .stddev = {stddev}});
  for (int64_t epoch = 0; epoch < 3; epoch++) {
    loader.start_epoch(epoch);
    Batch batch;
    std::set<int64_t> seen;
    while (loader.next(batch)) {
      for (int64_t k = 0; k < static_cast<int64_t>(batch.labels.size()); k++) {
        const int64_t place = index.find(batch.images.data() + k * set.image_bytes());
        CHECK(set.labels[static_cast<size_t>(place)] == batch.labels[static_cast<size_t>(k)]);
        std::vector<float> again(static_cast<size_t>(set.image_bytes()));
        for (int64_t p = 0; p < set.image_bytes(); p++) again[p] = (set.image(place)[p] / 255.0f - mean) / stddev;
        for (int64_t p = 0; p < set.image_bytes(); p++)
          CHECK(batch.images.data()[k * set.image_bytes() + p] == Approx(again[p]).margin(1e-5));
        seen.insert(place);
      }
    }
    CHECK(seen.size() == 5);  // each image once
  }
  std::vector<float> blank(static_cast<size_t>(set.image_bytes()), -mean / stddev);
  CHECK_THROWS_WITH(index.find(blank.data()), Catch::Contains("not in the training set"));
  ImageDataset twice = set;
  twice.pixels.insert(twice.pixels.end(), set.image(0), set.image(0) + set.image_bytes());
  twice.labels.push_back(set.labels[0]);
  ImageIndex twice_index(twice, mean, stddev);
  std::vector<float> first(static_cast<size_t>(set.image_bytes()));
  for (int64_t p = 0; p < set.image_bytes(); p++) first[p] = (set.image(0)[p] / 255.0f - mean) / stddev;
  CHECK_THROWS_WITH(twice_index.find(first.data()), Catch::Contains("the same bytes"));
}
