// Distorted MNIST generators: canvas sizes, repeatability from the seed, the digit's ink kept
// inside the canvas and (approximately) preserved. The digits are synthetic: a ring with a stem,
// inside the central 20x20 box like a real MNIST digit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "engine/ops.h"
#include "io/distorted_mnist.h"

using namespace glimpse;

namespace {

using Image = std::vector<uint8_t>;

// A ring of radius 4..7 around the centre with a stem down its right side, in rows/columns 4..23.
Image synthetic_digit() {
  Image digit(mnist_side * mnist_side, 0);
  for (int64_t i = 0; i < mnist_side; i++) {
    for (int64_t j = 0; j < mnist_side; j++) {
      double r = std::hypot(i - 11.0, j - 13.5);
      bool ring = r >= 4 && r <= 7, stem = j >= 18 && j <= 20 && i >= 11 && i <= 23;
      if (ring || stem) digit[i * mnist_side + j] = 255;
    }
  }
  return digit;
}

int64_t ink(const Image& image) {
  int64_t total = 0;
  for (uint8_t v : image) total += v;
  return total;
}

// Runs a generator writing into a canvas of `side` followed by guard bytes, checks the guard.
using Generator = std::function<DigitPlacement(Rng&, uint8_t*)>;
Image run(const Generator& generate, int64_t side, uint64_t seed, DigitPlacement* drawn = nullptr) {
  constexpr int64_t guard = 64;
  Image canvas(side * side + guard, 0xAB);
  Rng rng(seed);
  DigitPlacement placement = generate(rng, canvas.data());
  auto untouched = [](uint8_t v) { return v == 0xAB; };
  REQUIRE(std::all_of(canvas.begin() + side * side, canvas.end(), untouched));  // nothing written past it
  canvas.resize(side * side);
  if (drawn) *drawn = placement;
  return canvas;
}

}  // namespace

TEST_CASE("distorted mnist: sizes and repeatability", "[data]") {
  Image digit = synthetic_digit(), other = synthetic_digit();
  std::vector<const uint8_t*> others{other.data()};
  struct Named { const char* name; int64_t side; Generator generate; };
  std::vector<Named> generators{
      {"rotated", 28, [&](Rng& rng, uint8_t* out) { return rotated_digit(digit.data(), rng, out); }},
      {"rts", 42, [&](Rng& rng, uint8_t* out) { return rts_digit(digit.data(), rng, out); }},
      {"translated", 60, [&](Rng& rng, uint8_t* out) { return translated_digit(digit.data(), rng, out); }},
      {"translated 100", 100, [&](Rng& rng, uint8_t* out) { return translated_digit(digit.data(), rng, out, 100); }},
      {"cluttered", 60, [&](Rng& rng, uint8_t* out) { return cluttered_digit(digit.data(), others, rng, out); }},
  };
  for (const Named& g : generators) {
    INFO(g.name);
    Image a = run(g.generate, g.side, 5), b = run(g.generate, g.side, 5), c = run(g.generate, g.side, 6);
    CHECK(a == b);  // the same seed, the same canvas
    CHECK(a != c);  // another seed, another one
    CHECK(ink(a) > 0);
  }
  Rng rng(1);
  Image canvas(60 * 60);
  CHECK_THROWS_AS(translated_digit(digit.data(), rng, canvas.data(), 27), Error);  // smaller than the digit
  CHECK_THROWS_WITH(cluttered_digit(digit.data(), {}, rng, canvas.data()), Catch::Contains("other digits"));
}

TEST_CASE("distorted mnist: rotated keeps the digit's ink", "[data]") {
  Image digit = synthetic_digit();
  for (uint64_t seed = 0; seed < 10; seed++) {
    DigitPlacement drawn;
    Image out = run([&](Rng& rng, uint8_t* o) { return rotated_digit(digit.data(), rng, o); }, 28, seed, &drawn);
    CHECK(std::abs(drawn.angle_degrees) <= 90);
    CHECK(std::abs(ink(out) - ink(digit)) < 0.05 * ink(digit));  // a rotation moves ink, it does not lose it
  }
}

TEST_CASE("distorted mnist: RTS places all the ink inside 42x42", "[data]") {
  Image digit = synthetic_digit();
  bool moved = false;
  for (uint64_t seed = 0; seed < 10; seed++) {
    DigitPlacement drawn;
    Image out = run([&](Rng& rng, uint8_t* o) { return rts_digit(digit.data(), rng, o); }, 42, seed, &drawn);
    CHECK(std::abs(drawn.angle_degrees) <= 45);
    CHECK(drawn.scale >= 0.7);
    CHECK(drawn.scale <= 1.2);
    // scaling by s multiplies the area, so the ink, by s^2: the canvas lost none of it
    double expected = drawn.scale * drawn.scale * ink(digit);
    CHECK(std::abs(ink(out) - expected) < 0.08 * expected);
    moved = moved || drawn.left != drawn.top;
  }
  CHECK(moved);  // the position is random
}

TEST_CASE("distorted mnist: translated copies the digit whole", "[data]") {
  Image digit = synthetic_digit();
  for (uint64_t seed = 0; seed < 10; seed++) {
    DigitPlacement drawn;
    Image out = run([&](Rng& rng, uint8_t* o) { return translated_digit(digit.data(), rng, o); }, 60, seed, &drawn);
    REQUIRE(drawn.left >= 0);
    REQUIRE(drawn.top >= 0);
    REQUIRE(drawn.left + 28 <= 60);
    REQUIRE(drawn.top + 28 <= 60);
    CHECK(ink(out) == ink(digit));  // all the ink, nowhere else
    bool same = true;
    for (int64_t i = 0; i < 28; i++)
      for (int64_t j = 0; j < 28; j++) same = same && out[(drawn.top + i) * 60 + drawn.left + j] == digit[i * 28 + j];
    CHECK(same);
  }
}

TEST_CASE("distorted mnist: cluttered adds fragments of other digits only", "[data]") {
  Image digit = synthetic_digit();  // values 0 and 255
  Image other(28 * 28, 77);         // every 8x8 crop of it is a block of 77s
  std::vector<const uint8_t*> others{other.data()};
  for (uint64_t seed = 0; seed < 5; seed++) {
    Image plain = run([&](Rng& rng, uint8_t* o) { return translated_digit(digit.data(), rng, o); }, 60, seed);
    Image none = run([&](Rng& rng, uint8_t* o) { return cluttered_digit(digit.data(), others, rng, o, 0); }, 60, seed);
    Image cluttered =
        run([&](Rng& rng, uint8_t* o) { return cluttered_digit(digit.data(), others, rng, o); }, 60, seed);
    CHECK(none == plain);  // no fragments: the translated digit, drawn from the same numbers
    int64_t clutter_pixels = 0;
    bool digit_kept = true;
    for (size_t p = 0; p < plain.size(); p++) {
      digit_kept = digit_kept && cluttered[p] >= plain[p];  // laid over with max(): no ink erased
      clutter_pixels += cluttered[p] == 77;
    }
    CHECK(digit_kept);
    CHECK(clutter_pixels > 0);
    CHECK(clutter_pixels <= 4 * 64);
  }
}

TEST_CASE("distorted mnist: upright_rts undoes what rts_digit drew", "[data]") {
  // The digit centred on a 42x42 canvas (7 pixels of margin) is what a perfect transformer would
  // show; after two bilinear resamplings the undone canvas matches it up to blurred edges.
  Image digit = synthetic_digit();
  Image centred(rts_side * rts_side, 0);
  for (int64_t i = 0; i < mnist_side; i++)
    std::copy(digit.begin() + i * mnist_side, digit.begin() + (i + 1) * mnist_side, centred.begin() + (i + 7) * rts_side + 7);
  for (uint64_t seed = 1; seed <= 50; seed++) {
    DigitPlacement drawn;
    Image distorted = run([&](Rng& rng, uint8_t* out) { return rts_digit(digit.data(), rng, out); }, rts_side, seed, &drawn);
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

TEST_CASE("distorted mnist: upright_rts_theta is upright_rts as a spatial transformer", "[data]") {
  // grid_sample reads the canvas at the points upright_rts reads, so the two agree up to
  // upright_rts's rounding to bytes: this ties the generator's record to affine_grid's coordinates.
  Image digit = synthetic_digit();
  for (uint64_t seed = 1; seed <= 20; seed++) {
    DigitPlacement drawn;
    Image distorted = run([&](Rng& rng, uint8_t* out) { return rts_digit(digit.data(), rng, out); }, rts_side, seed, &drawn);
    Image upright(rts_side * rts_side);
    upright_rts(distorted.data(), drawn, upright.data());
    Tensor canvas = Tensor::empty({1, 1, rts_side, rts_side}), theta = Tensor::empty({1, 2, 3});
    std::copy(distorted.begin(), distorted.end(), canvas.data());
    std::array<double, 6> t = upright_rts_theta(drawn);
    std::copy(t.begin(), t.end(), theta.data());
    Tensor warped = grid_sample(canvas, affine_grid(theta, rts_side, rts_side));
    double worst = 0;
    for (size_t p = 0; p < upright.size(); p++) worst = std::max(worst, std::fabs(double(warped.data()[p]) - upright[p]));
    INFO("seed " << seed << ": angle " << drawn.angle_degrees << ", scale " << drawn.scale);
    CHECK(worst <= 0.51);
  }
}

TEST_CASE("distorted mnist: pose_after_transform reads the digit's pose in a transformer's output", "[data]") {
  Image digit = synthetic_digit();
  const double c = (rts_side - 1) / 2.0;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    DigitPlacement drawn;
    run([&](Rng& rng, uint8_t* out) { return rts_digit(digit.data(), rng, out); }, rts_side, seed, &drawn);
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

// ---- pinned outputs: the generators' bytes for fixed seeds, so a change shows ----

namespace {

// 64-bit FNV-1a over bytes, continued from h.
uint64_t fnv1a(const uint8_t* bytes, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h;
}

uint64_t hash_placement(const DigitPlacement& p, uint64_t h) {
  for (double v : {p.angle_degrees, p.scale, p.centre_x, p.centre_y}) h = fnv1a(reinterpret_cast<const uint8_t*>(&v), 8, h);
  for (int64_t v : {p.left, p.top}) h = fnv1a(reinterpret_cast<const uint8_t*>(&v), 8, h);
  return h;
}

// The synthetic digit and four of random bytes (of the Rng's raw output, which no generator change touches).
std::vector<Image> pinned_digits() {
  std::vector<Image> digits{synthetic_digit()};
  Rng rng(99);
  for (int k = 0; k < 4; k++) {
    Image digit(mnist_side * mnist_side);
    for (uint8_t& v : digit) v = static_cast<uint8_t>(rng.next_u64() >> 56);
    digits.push_back(digit);
  }
  return digits;
}

}  // namespace

// rts_digit, upright_rts and rotated_digit must keep their output bit for bit (train_stn's RTS
// runs and bench/train_stn_torch.py's digits depend on it): a hash of their canvases and records
// over 5 digits and 20 seeds, taken before the translated/cluttered generators were merged.
// The bytes depend on one build setting: GCC and clang fuse a * b + c into one FMA instruction
// (one rounding instead of two) when the CPU has it, i.e. under -march=native (GLIMPSE_NATIVE)
// with optimisation, and a sample can then round to the other byte. So each hash has two pinned
// values: without FMA (-O0, or a build without -march=native) and with it (the default Release).
TEST_CASE("distorted mnist: RTS and rotated outputs are pinned", "[data]") {
  uint64_t rts = 0xcbf29ce484222325ull, rotated = rts;
  for (const Image& digit : pinned_digits()) {
    for (uint64_t seed = 1; seed <= 20; seed++) {
      Rng rng(seed);
      Image canvas(rts_side * rts_side), upright(rts_side * rts_side), turned(mnist_side * mnist_side);
      DigitPlacement drawn = rts_digit(digit.data(), rng, canvas.data());
      upright_rts(canvas.data(), drawn, upright.data());
      rts = hash_placement(drawn, fnv1a(upright.data(), upright.size(), fnv1a(canvas.data(), canvas.size(), rts)));
      DigitPlacement turn = rotated_digit(digit.data(), rng, turned.data());
      rotated = hash_placement(turn, fnv1a(turned.data(), turned.size(), rotated));
    }
  }
  CHECK((rts == 0x34ceb285dda69ec6ull || rts == 0x9b1ff6fb1175a097ull));
  CHECK((rotated == 0x394ae93a88aaf946ull || rotated == 0x2957a891a65d4da2ull));
}

namespace {

ImageDataset pinned_set() {
  ImageDataset digits{.channels = 1, .height = mnist_side, .width = mnist_side, .pixels = {}, .labels = {3, 1, 4, 1, 5},
                      .class_names = {}};
  for (const Image& digit : pinned_digits()) digits.pixels.insert(digits.pixels.end(), digit.begin(), digit.end());
  for (int c = 0; c < 10; c++) digits.class_names.push_back(std::to_string(c));
  return digits;
}

}  // namespace

// train_ram and train_stn drew cluttered MNIST with two copies of the algorithm (train_stn's could
// cut clutter from the digit shown); both now call translated_mnist / cluttered_mnist, which keep
// train_ram's: its bytes are pinned by hashes taken from train_ram's distorted() before the move
// (seeds 1..20 over the 5 digits above; integer arithmetic only, the same in every build).
TEST_CASE("distorted mnist: translated and cluttered sets are train_ram's, byte for byte", "[data]") {
  const ImageDataset digits = pinned_set();
  uint64_t translated = 0xcbf29ce484222325ull, cluttered = translated;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    Rng a(seed), b(seed);
    ImageDataset t = translated_mnist(digits, a, "digits"), c = cluttered_mnist(digits, b, "digits");
    CHECK(t.labels == digits.labels);
    CHECK(c.class_names == digits.class_names);
    CHECK(t.height == translated_side);
    CHECK(c.width == translated_side);
    translated = fnv1a(t.pixels.data(), t.pixels.size(), translated);
    cluttered = fnv1a(c.pixels.data(), c.pixels.size(), cluttered);
  }
  CHECK(translated == 0x685a6cad18f52f05ull);
  CHECK(cluttered == 0x494aab08180fd137ull);
}

TEST_CASE("distorted mnist: clutter comes from the other digits only", "[data]") {
  // two digits: a blank one and one full of 77s; the blank one's canvas gets 77s, the other none
  // but its own (which are all 77: the fragments of the blank one add nothing)
  ImageDataset digits{.channels = 1, .height = mnist_side, .width = mnist_side, .pixels = {}, .labels = {0, 1},
                      .class_names = {"blank", "full"}};
  digits.pixels.assign(mnist_side * mnist_side, 0);
  digits.pixels.resize(2 * mnist_side * mnist_side, 77);
  for (uint64_t seed = 1; seed <= 10; seed++) {
    Rng rng(seed);
    ImageDataset out = cluttered_mnist(digits, rng, "digits");
    const uint8_t* blank = out.image(0);
    CHECK(std::count(blank, blank + out.image_bytes(), 77) > 0);  // clutter from the full digit
    const uint8_t* full = out.image(1);
    CHECK(std::count(full, full + out.image_bytes(), 77) == mnist_side * mnist_side);  // only its own ink
  }
}

// train_ram --dataset cluttered on a one-image test set died of SIGFPE: Rng::randint(0) computed
// x % 0. A set of one digit has no other digit to cut clutter from: an error that says so; and an
// empty range is an error in randint itself.
TEST_CASE("distorted mnist: a set too small for clutter is refused, not a crash", "[data]") {
  ImageDataset one = subset(pinned_set(), 0, 1), none = subset(pinned_set(), 0, 0);
  Rng rng(1);
  CHECK_THROWS_WITH(cluttered_mnist(one, rng, "the test digits"),
                    Catch::Contains("the test digits: cluttered MNIST cuts its clutter from digits other than the one "
                                    "shown, so it needs at least 2 digits; the set has 1"));
  CHECK(translated_mnist(one, rng, "the test digits").size() == 1);  // needs no other digit
  CHECK(cluttered_mnist(none, rng, "the test digits").size() == 0);
  CHECK(cluttered_mnist(subset(pinned_set(), 0, 2), rng, "digits").size() == 2);
  CHECK_THROWS_WITH(rng.randint(0), Catch::Contains("Rng::randint: no integer in the empty range [0, 0)"));
  CHECK_THROWS_WITH(rng.randint(-3), Catch::Contains("[0, -3)"));
}

// The generators read 28x28 digits: a 20x20 set was read past its end and trained on garbage with
// exit 0, a 42x42 one cut without a word. Any other size (or channel count) is refused, named.
TEST_CASE("distorted mnist: digits that are not 1x28x28 are refused with their size", "[data]") {
  for (auto [channels, side] : {std::pair<int64_t, int64_t>{1, 20}, {1, 42}, {3, 28}}) {
    ImageDataset digits{.channels = channels, .height = side, .width = side, .pixels = {}, .labels = {0, 1, 2},
                        .class_names = {"0", "1", "2"}};
    digits.pixels.assign(static_cast<size_t>(3 * digits.image_bytes()), 9);
    const std::string size = std::to_string(channels) + "x" + std::to_string(side) + "x" + std::to_string(side);
    INFO(size);
    Rng rng(1);
    for (auto generate : {translated_mnist, cluttered_mnist})
      CHECK_THROWS_WITH(generate(digits, rng, "the training digits"),
                        Catch::Contains("the training digits: the digits are " + size) && Catch::Contains("take 1x28x28"));
    CHECK_THROWS_WITH(check_mnist_digits(digits, "rts"), Catch::Contains("rts: the digits are " + size));
  }
  CHECK_NOTHROW(check_mnist_digits(pinned_set(), "rts"));
}
