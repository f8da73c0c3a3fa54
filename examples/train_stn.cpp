// train_stn: trains stn_mnist (Jaderberg et al. 2015, Sec. 4.1; docs/MODELS.md) on MNIST or on a
// distorted MNIST, or with --no-transformer the paper's CNN baseline (the same classifier
// without the spatial transformer).
//
//   build/train_stn --dataset rts                       RTS MNIST, 42x42
//   build/train_stn --dataset cluttered --no-transformer --epochs 5
//   build/train_stn --dataset rotated --visualize stn.png
//
// Data: MNIST via --data (else data/mnist, else the bundled sample). --dataset picks
//   mnist      the digits as they are, 28x28
//   rotated    a random rotation in [-90, 90] degrees, 28x28            (io/distorted_mnist.h)
//   rts        rotation, scale and translation on a 42x42 canvas
//   cluttered  translated on a 60x60 canvas with 4 8x8 fragments of other digits
//   rts-upright  the rts digits (the same draws) turned back upright, to their size and centred
//              from the generator's record (upright_rts): what a perfect transformer would show
//              the classifier; a diagnostic of the classifier's ceiling, with --no-transformer
// The distorted training images are drawn ONCE PER RUN from --seed (every epoch sees the same
// distortions), or with --redraw afresh for every epoch after the first, from --seed and the
// epoch (an endless supply of distortions of the same 60,000 digits; a resumed run draws what
// the uninterrupted one drew). The distorted test images are drawn from a fixed seed of their
// own, so every run, whatever its --seed, evaluates the same test images. The model's input
// side follows the data (28, 42 or 60). Inputs are normalised with the mean and standard
// deviation of the first draw of training images.
//
// The recipe: SGD with momentum 0.9, learning rate 0.01 with cosine decay to zero over the
// run, batch 64, no weight decay, the gradient's global norm clipped at 1. (Jaderberg et al.
// train with SGD; momentum and the cosine schedule are this project's common choices.) The
// clipping keeps the localisation net from throwing the sampling grid off the canvas: without
// it, RTS at 1 thread (seed 1) collapsed in its first epoch to a constant output (loss ln 10,
// 11.35% test accuracy) and never recovered, with or without a 1-epoch warm-up; with it, the
// same run had 76.5% test accuracy after one epoch and 84.7% after two. `--optimizer adam`
// trains with Adam instead (same schedule and clipping). --loc-lr-factor F trains the
// localisation net at F times the learning rate of the rest (e.g. 0.1). --upright-epochs N is a
// curriculum: the first N epochs train on the digits as they are, upright and centred on the
// canvas, the rest on the distorted ones (drawn as without it, the first draw first), all under
// the one schedule over --epochs. --pose-supervision W is a diagnostic, not the paper's training:
// on rts it adds W times the mean squared distance between theta and the theta that undoes each
// training digit's draw (upright_rts_theta) to the loss, so the localisation net is told the pose
// instead of finding it through the classifier: what the net can learn when taught directly.
//
// --visualize FILE.png writes, after training, a grid of test images beside what the spatial
// transformer made of them (inputs on the left of each pair, warped on the right), 3x enlarged,
// and prints how far it zooms (the median share of the input's area that its output shows) and,
// on rts, how the digits sit in its output (angle, scale, centre: pose_after_transform);
// --mistakes FILE.png the same for the test images the model gets wrong, with their labels and
// predictions on stdout (see the remaining error of a trained model: --resume its checkpoint
// with the --epochs it was trained for, and nothing is trained).
//
// --write-digits DIR writes, instead of training, the digits a run of the same flags would see
// as the four idx files of MNIST (raw, any side: 42x42 for rts): train-images/-labels, the
// training digits of epoch --write-epoch (1 by default; with --redraw each epoch has its own),
// and t10k-images/-labels, the test digits every run is scored on. Another framework reads
// them to train the same model on the very same images (bench/train_stn_torch.py).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.h"
#include "io/distorted_mnist.h"
#include "io/image_grid.h"
#include "models/stn_mnist.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "train/classifier.h"
#include "train/data_paths.h"

using namespace glimpse;

constexpr uint64_t test_distortion_seed = 20150605;  // fixed: every run evaluates the same test images

// The canvas side of a --dataset.
static int64_t canvas_side(const std::string& kind) {
  if (kind == "mnist" || kind == "rotated") return mnist_side;
  if (kind == "rts" || kind == "rts-upright") return rts_side;
  return translated_side;  // cluttered
}

// The digits as they are, upright and centred on a side x side canvas (--upright-epochs); `draws`
// (when given) receives, for each, the record of such a draw: angle 0, scale 1, centred.
static ImageDataset centred_digits(const ImageDataset& mnist, int64_t side, std::vector<DigitPlacement>* draws = nullptr) {
  check_mnist_digits(mnist, "the training digits (--upright-epochs)");
  if (draws) {
    const double centre = (side - 1) / 2.0;
    draws->assign(static_cast<size_t>(mnist.size()), DigitPlacement{.centre_x = centre, .centre_y = centre});
  }
  ImageDataset out{.channels = 1, .height = side, .width = side, .pixels = {}, .labels = mnist.labels,
                   .class_names = mnist.class_names};
  out.pixels.assign(static_cast<size_t>(mnist.size() * side * side), 0);
  const int64_t margin = (side - mnist_side) / 2;
  for (int64_t i = 0; i < mnist.size(); i++)
    for (int64_t row = 0; row < mnist_side; row++)
      std::copy_n(mnist.image(i) + row * mnist_side, mnist_side,
                  out.pixels.data() + (i * side + margin + row) * side + margin);
  return out;
}

// The distorted copy of a set of 28x28 digits, each drawn from rng; `what` names the set in
// errors. For rts and rts-upright, `draws` (when given) receives the generator's record of each
// digit's draw.
static ImageDataset distort(const ImageDataset& mnist, const std::string& kind, Rng& rng, const std::string& what,
                            std::vector<DigitPlacement>* draws = nullptr) {
  if (kind == "mnist") return mnist;
  const std::string where = what + " (--dataset " + kind + ")";
  if (kind == "cluttered") return cluttered_mnist(mnist, rng, where);  // train_ram's generator
  check_mnist_digits(mnist, where);
  const int64_t side = canvas_side(kind);
  ImageDataset out{.channels = 1, .height = side, .width = side, .pixels = {}, .labels = mnist.labels,
                   .class_names = mnist.class_names};
  out.pixels.resize(static_cast<size_t>(mnist.size() * side * side));
  std::vector<uint8_t> distorted(kind == "rts-upright" ? rts_side * rts_side : 0);  // rts-upright's first draw
  for (int64_t i = 0; i < mnist.size(); i++) {
    uint8_t* canvas = out.pixels.data() + i * side * side;
    if (kind == "rotated") {
      rotated_digit(mnist.image(i), rng, canvas);
    } else if (kind == "rts") {
      DigitPlacement drawn = rts_digit(mnist.image(i), rng, canvas);
      if (draws) draws->push_back(drawn);
    } else if (kind == "rts-upright") {  // the same draws as rts, then undone
      DigitPlacement drawn = rts_digit(mnist.image(i), rng, distorted.data());
      upright_rts(distorted.data(), drawn, canvas);
      if (draws) draws->push_back(drawn);
    }
  }
  return out;
}

// Where the distortions of the training digits for `epoch` come from: epoch 0's are the run's
// first draw; with --redraw each later epoch has its own stream, a function of (seed, epoch).
static Rng training_distortions(int64_t seed, int64_t epoch) {
  Rng first(static_cast<uint64_t>(seed) ^ 0x5354'4E00ull);
  return epoch == 0 ? first : first.split(static_cast<uint64_t>(epoch));
}

// --write-digits: a training and a test set as the four idx files of MNIST in dir.
static void write_digit_files(const ImageDataset& train, const ImageDataset& test, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) fail("--write-digits: cannot create the folder '" + dir + "': " + error.message());
  const std::filesystem::path folder(dir);
  write_mnist(train, folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte");
  write_mnist(test, folder / "t10k-images-idx3-ubyte", folder / "t10k-labels-idx1-ubyte");
}

// Mean and standard deviation of all pixels, scaled to [0, 1].
static std::pair<float, float> pixel_statistics(const ImageDataset& data) {
  double sum = 0, sum_sq = 0;
  for (uint8_t p : data.pixels) {
    double v = p / 255.0;
    sum += v, sum_sq += v * v;
  }
  double n = static_cast<double>(data.pixels.size());
  double mean = sum / n;
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(std::max(sum_sq / n - mean * mean, 1e-12)))};
}

// The test images `indices` as pixels in [0, 1], a (count, 1, S, S) tensor.
static Tensor test_images(const ImageDataset& test_set, const std::vector<int64_t>& indices) {
  const int64_t S = test_set.height;
  Tensor raw = Tensor::empty({static_cast<int64_t>(indices.size()), 1, S, S});
  for (size_t k = 0; k < indices.size(); k++) {
    const uint8_t* image = test_set.image(indices[k]);
    for (int64_t p = 0; p < S * S; p++) raw.data()[static_cast<int64_t>(k) * S * S + p] = image[p] / 255.0f;
  }
  return raw;
}

// Calls visit(indices, input) for the whole test set in batches of 500, the model in evaluation
// mode and without a tape; input is the batch as the model sees it (normalised).
template <typename Visit>
static void for_each_test_batch(StnMnist& model, const ImageDataset& test_set, float mean, float stddev, Visit visit) {
  model.eval();
  NoGradGuard no_grad;
  for (int64_t start = 0; start < test_set.size(); start += 500) {
    std::vector<int64_t> batch(static_cast<size_t>(std::min<int64_t>(500, test_set.size() - start)));
    std::iota(batch.begin(), batch.end(), start);
    visit(batch, (test_images(test_set, batch) - mean) / stddev);
  }
}

// Draws the test images `indices` beside what the spatial transformer made of them (input on the
// left of each pair, warped on the right), `pairs` pairs per row.
static void draw_warped_pairs(StnMnist& model, const ImageDataset& test_set, const std::vector<int64_t>& indices,
                              float mean, float stddev, int64_t pairs, int64_t scale, const std::string& path) {
  const int64_t count = static_cast<int64_t>(indices.size()), S = test_set.height;
  Tensor raw = test_images(test_set, indices);
  model.eval();
  NoGradGuard no_grad;
  Tensor normalised = (raw - mean) / stddev;  // what the model sees
  // theta from what the model sees, applied to the raw image so that outside reads as black
  Tensor warped = grid_sample(raw, affine_grid(model.transformer->theta(normalised), S, S));
  ImageGrid grid(std::max<int64_t>(1, (count + pairs - 1) / pairs), 2 * pairs, S, scale);
  for (int64_t i = 0; i < count; i++) {
    grid.put_grey(i / pairs, 2 * (i % pairs), raw.data() + i * S * S, S, S);
    grid.put_grey(i / pairs, 2 * (i % pairs) + 1, warped.data() + i * S * S, S, S);
  }
  grid.write(path);
}

// The transformer's theta for every test image, in test-set order: 6 values each, a11 a12 t1 /
// a21 a22 t2.
static std::vector<float> test_thetas(StnMnist& model, const ImageDataset& test_set, float mean, float stddev) {
  std::vector<float> thetas;
  thetas.reserve(static_cast<size_t>(6 * test_set.size()));
  for_each_test_batch(model, test_set, mean, stddev, [&](const std::vector<int64_t>&, const Tensor& input) {
    std::vector<float> batch = model.transformer->theta(input).to_vector();  // (n, 2, 3)
    thetas.insert(thetas.end(), batch.begin(), batch.end());
  });
  return thetas;
}

// How far the transformer zooms, for every test image. theta = [A | t] maps an output pixel to
// the input point it reads, so |det A| is the area of the input that the whole output covers,
// as a fraction of the input: 1 keeps the scale, below 1 zooms in (the digit is drawn larger),
// above 1 zooms out (the digit is drawn smaller and loses detail).
static std::vector<float> sampled_areas(const std::vector<float>& thetas) {
  std::vector<float> areas;
  for (size_t k = 0; k < thetas.size(); k += 6) {
    const float* t = thetas.data() + k;
    areas.push_back(std::fabs(t[0] * t[4] - t[1] * t[3]));
  }
  return areas;
}

// The value below which `fraction` of the (sorted) values lie.
static float percentile(const std::vector<float>& sorted, double fraction) {
  return sorted[static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1))];
}

// "median (10th..90th percentile)" of the values, each printed with `format`.
static std::string spread(std::vector<float> values, const char* format) {
  std::sort(values.begin(), values.end());
  char text[96];
  std::string f = std::string(format) + " (" + format + ".." + format + ")";
  std::snprintf(text, sizeof text, f.c_str(), percentile(values, 0.5), percentile(values, 0.1), percentile(values, 0.9));
  return text;
}

// Each value less the median of the values of its class (the ratio to it with `ratio`).
static std::vector<float> less_class_median(const std::vector<float>& values, const std::vector<int>& labels,
                                            bool ratio = false) {
  std::vector<float> of_class[10], out(values.size());
  for (size_t i = 0; i < values.size(); i++) of_class[labels[i]].push_back(values[i]);
  float median[10] = {};
  for (int c = 0; c < 10; c++) {
    std::sort(of_class[c].begin(), of_class[c].end());
    if (!of_class[c].empty()) median[c] = percentile(of_class[c], 0.5);
  }
  for (size_t i = 0; i < values.size(); i++)
    out[i] = ratio ? values[i] / median[labels[i]] : values[i] - median[labels[i]];
  return out;
}

// The least-squares slope of ys on xs: how much of a change in x is left in y.
static double slope(const std::vector<float>& xs, const std::vector<float>& ys) {
  double n = static_cast<double>(xs.size()), mean_x = 0, mean_y = 0, cov = 0, var = 0;
  for (size_t i = 0; i < xs.size(); i++) mean_x += xs[i] / n, mean_y += ys[i] / n;
  for (size_t i = 0; i < xs.size(); i++) cov += (xs[i] - mean_x) * (ys[i] - mean_y), var += (xs[i] - mean_x) * (xs[i] - mean_x);
  return var > 0 ? cov / var : 0;
}

// How the digit sits in the transformer's output over the whole RTS test set, beside how it sits
// in the input, from the generator's record of each test draw (pose_after_transform). A perfect
// transformer shows every digit in one pose (upright_rts: angle 0, scale 1, centred); the spread
// between the 10th and 90th percentiles is how far this one is from that. One pose per class
// serves the classifier as well (a transformer may leave all 7s slanted alike), so the last line
// takes each digit's pose relative to the median pose of its class. A transformer may also
// straighten a digit its writer slanted, which moves the angle away from the drawn one's inverse
// without harm; what it leaves of the draw itself is the slope of the output's pose on the input's
// (0: the draw undone, 1: left as drawn; scales on a log scale).
static void print_pose_spread(const std::vector<float>& thetas, const ImageDataset& test_set,
                              const std::vector<DigitPlacement>& draws) {
  const float identity[6] = {1, 0, 0, 0, 1, 0};
  std::vector<float> angle[2], scale[2], centre_x[2], centre_y[2];  // [0] the input, [1] the output
  for (size_t i = 0; i < draws.size(); i++) {
    DigitPose poses[2] = {pose_after_transform(identity, draws[i]), pose_after_transform(thetas.data() + 6 * i, draws[i])};
    for (int side = 0; side < 2; side++) {
      angle[side].push_back(static_cast<float>(poses[side].angle_degrees));
      scale[side].push_back(static_cast<float>(poses[side].scale));
      centre_x[side].push_back(static_cast<float>(poses[side].centre_dx));
      centre_y[side].push_back(static_cast<float>(poses[side].centre_dy));
    }
  }
  std::printf("digit pose, median (10th..90th percentile) over the test set; a perfect transformer shows one pose:\n");
  auto print_line = [](const char* name, const std::vector<float>& angles, const std::vector<float>& scales,
                       const std::vector<float>& xs, const std::vector<float>& ys) {
    std::printf("  %-26s angle %s deg  scale %s  centre x %s px, y %s px\n", name, spread(angles, "%+.1f").c_str(),
                spread(scales, "%.2f").c_str(), spread(xs, "%+.1f").c_str(), spread(ys, "%+.1f").c_str());
  };
  print_line("input", angle[0], scale[0], centre_x[0], centre_y[0]);
  print_line("transformed", angle[1], scale[1], centre_x[1], centre_y[1]);
  std::vector<int> labels(test_set.labels.begin(), test_set.labels.end());
  print_line("transformed, to its class", less_class_median(angle[1], labels), less_class_median(scale[1], labels, true),
             less_class_median(centre_x[1], labels), less_class_median(centre_y[1], labels));
  auto logs = [](std::vector<float> values) {
    for (float& v : values) v = std::log(v);
    return values;
  };
  std::printf("  left of the draw (slope)   angle %.2f  scale %.2f  centre x %.2f, y %.2f  (0: undone, 1: left as drawn)\n",
              slope(angle[0], angle[1]), slope(logs(scale[0]), logs(scale[1])), slope(centre_x[0], centre_x[1]),
              slope(centre_y[0], centre_y[1]));
}

// Each test digit's pose in the output (angle, log scale, centre x, y) over several draws of the
// digit: poses[r][q][i] is quantity q of digit i in draw r.
using PosesOfDraws = std::vector<std::array<std::vector<float>, 4>>;

// The spread of one pose quantity q_ir (digit i, draw r of R), split in two:
//   within a digit   w = sqrt(mean_i var_r q_ir)      how much the pose still follows the draw
//   between digits   b = sqrt(mean_i (m_i - c_i)^2 - w^2 / R)
// with m_i the digit's mean over its draws and c_i the mean of m over the digit's class; a mean
// over R draws keeps w^2 / R of their variance, which the second line takes out.
struct WithinBetween {
  double within = 0, between = 0;
};
static WithinBetween spread_within_and_between(const PosesOfDraws& poses, int quantity, const std::vector<int>& labels) {
  const size_t draws = poses.size(), digits = labels.size();
  std::vector<double> digit_mean(digits, 0);
  double within_var = 0;
  for (size_t i = 0; i < digits; i++) {
    for (size_t r = 0; r < draws; r++) digit_mean[i] += poses[r][quantity][i] / static_cast<double>(draws);
    for (size_t r = 0; r < draws; r++) within_var += std::pow(poses[r][quantity][i] - digit_mean[i], 2);
  }
  within_var /= static_cast<double>(digits * (draws - 1));
  double class_sum[10] = {}, class_count[10] = {}, between_var = 0;
  for (size_t i = 0; i < digits; i++) class_sum[labels[i]] += digit_mean[i], class_count[labels[i]] += 1;
  for (size_t i = 0; i < digits; i++)
    between_var += std::pow(digit_mean[i] - class_sum[labels[i]] / class_count[labels[i]], 2) / static_cast<double>(digits);
  return {std::sqrt(within_var), std::sqrt(std::max(0.0, between_var - within_var / static_cast<double>(draws)))};
}

// Does the transformer show the same handwritten digit the same way however it was drawn? Every
// test digit is drawn `draws` times (the test set's own draw, then fresh ones from the seeds after
// test_distortion_seed) and its poses in the input and the output are split as above. In the input
// the within-digit spread is the generator's (angles uniform in [-45, 45]: 90 / sqrt(12) = 26.0
// degrees) and the between-digit spread 0. A transformer that undoes each draw has a within-digit
// spread of 0 in the output; if it also straightens each writer's slant, which the generator's record
// does not know, that shows between digits, as does anything else it does to one digit every time.
static void print_pose_across_draws(StnMnist& model, const ImageDataset& mnist_test, const std::vector<float>& thetas,
                                    const std::vector<DigitPlacement>& test_draws, float mean, float stddev) {
  constexpr int64_t draws = 5;
  const float identity[6] = {1, 0, 0, 0, 1, 0};
  PosesOfDraws input(draws), output(draws);
  for (int64_t r = 0; r < draws; r++) {
    std::vector<DigitPlacement> redraws;
    std::vector<float> redrawn_thetas;
    if (r > 0) {
      Rng rng(test_distortion_seed + static_cast<uint64_t>(r));
      redrawn_thetas = test_thetas(model, distort(mnist_test, "rts", rng, "the test digits", &redraws), mean, stddev);
    }
    const std::vector<DigitPlacement>& drawn = r == 0 ? test_draws : redraws;
    const std::vector<float>& theta = r == 0 ? thetas : redrawn_thetas;
    for (size_t i = 0; i < drawn.size(); i++) {
      DigitPose in = pose_after_transform(identity, drawn[i]), out = pose_after_transform(theta.data() + 6 * i, drawn[i]);
      for (auto [poses, pose] : {std::pair{&input, in}, std::pair{&output, out}}) {
        (*poses)[r][0].push_back(static_cast<float>(pose.angle_degrees));
        (*poses)[r][1].push_back(static_cast<float>(std::log(pose.scale)));
        (*poses)[r][2].push_back(static_cast<float>(pose.centre_dx));
        (*poses)[r][3].push_back(static_cast<float>(pose.centre_dy));
      }
    }
  }
  std::vector<int> labels(mnist_test.labels.begin(), mnist_test.labels.end());
  std::printf("the same digit drawn %lld times, spread (root mean square) within a digit's draws | between the digits of a class:\n",
              static_cast<long long>(draws));
  for (auto [name, poses] : {std::pair{"input", &input}, std::pair{"transformed", &output}}) {
    WithinBetween q[4];
    for (int k = 0; k < 4; k++) q[k] = spread_within_and_between(*poses, k, labels);
    std::printf("  %-12s angle %.1f | %.1f deg  scale %.1f | %.1f %% (log)  centre x %.1f | %.1f px, y %.1f | %.1f px\n",
                name, q[0].within, q[0].between, 100 * q[1].within, 100 * q[1].between, q[2].within, q[2].between,
                q[3].within, q[3].between);
  }
}

// --visualize: the first 24 test images and their transformed versions, 4 pairs a row, and on
// stdout how far the transformer zooms over the whole test set and, on rts, the digits' pose in
// its output (`test_draws`: the generator's record of the test set, empty for other data).
static void write_visualization(StnMnist& model, const ImageDataset& test_set, const ImageDataset& mnist_test,
                                const std::vector<DigitPlacement>& test_draws, float mean, float stddev,
                                const std::string& path) {
  std::vector<int64_t> first(static_cast<size_t>(std::min<int64_t>(24, test_set.size())));
  std::iota(first.begin(), first.end(), 0);
  draw_warped_pairs(model, test_set, first, mean, stddev, 4, 3, path);
  std::printf("wrote %s: %zu test images (left) and their transformed versions (right)\n", path.c_str(),
              first.size());
  std::vector<float> thetas = test_thetas(model, test_set, mean, stddev);  // one pass of the localisation net
  std::vector<float> areas = sampled_areas(thetas);
  std::sort(areas.begin(), areas.end());
  std::printf("transformer zoom: the output shows a median %.1f%% of the input's area (10th-90th percentile "
              "%.1f-%.1f%%; below 100%% enlarges the digit, above shrinks it)\n",
              100 * percentile(areas, 0.5), 100 * percentile(areas, 0.1), 100 * percentile(areas, 0.9));
  if (test_draws.empty()) return;
  print_pose_spread(thetas, test_set, test_draws);
  print_pose_across_draws(model, mnist_test, thetas, test_draws, mean, stddev);
}

struct Mistake {
  int64_t index;  // in the test set
  int label, predicted;
};

// Every test image the model gets wrong, in test-set order.
static std::vector<Mistake> find_mistakes(StnMnist& model, const ImageDataset& test_set, float mean, float stddev) {
  std::vector<Mistake> mistakes;
  for_each_test_batch(model, test_set, mean, stddev, [&](const std::vector<int64_t>& batch, const Tensor& input) {
    std::vector<int64_t> predicted = argmax(model.forward(input));
    for (size_t k = 0; k < batch.size(); k++) {
      int label = test_set.labels[static_cast<size_t>(batch[k])];
      if (predicted[k] != label) mistakes.push_back({batch[k], label, static_cast<int>(predicted[k])});
    }
  });
  return mistakes;
}

// "label->prediction" for the first `drawn` mistakes, six a line like the picture's rows, then the
// eight most frequent confusions with their counts.
static void print_mistakes(const std::vector<Mistake>& mistakes, size_t drawn) {
  for (size_t k = 0; k < drawn; k++) {
    std::printf("%s%d->%d", k % 6 == 0 ? "  " : " ", mistakes[k].label, mistakes[k].predicted);
    if (k % 6 == 5 || k + 1 == drawn) std::printf("\n");
  }
  int confusions[10][10] = {};
  for (const Mistake& m : mistakes) confusions[m.label][m.predicted]++;
  std::vector<std::pair<int, std::string>> ranked;  // (count, "label->prediction")
  for (int label = 0; label < 10; label++)
    for (int guess = 0; guess < 10; guess++)
      if (confusions[label][guess] > 0)
        ranked.emplace_back(confusions[label][guess], std::to_string(label) + "->" + std::to_string(guess));
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::printf("most frequent (label->prediction):");
  for (size_t k = 0; k < std::min<size_t>(ranked.size(), 8); k++)
    std::printf(" %s %d", ranked[k].second.c_str(), ranked[k].first);
  std::printf("\n");
}

// --mistakes: every test image the model gets wrong (the first 120 of them drawn, 6 pairs a row,
// like --visualize), and on stdout each one's label and prediction in the picture's order and the
// most frequent confusions: whether the transformer failed to straighten a digit or the
// classifier misread a straight one is for the eye to judge.
static void write_mistakes(StnMnist& model, const ImageDataset& test_set, float mean, float stddev,
                           const std::string& path) {
  std::vector<Mistake> mistakes = find_mistakes(model, test_set, mean, stddev);
  std::vector<int64_t> drawn;
  for (size_t k = 0; k < std::min<size_t>(mistakes.size(), 120); k++) drawn.push_back(mistakes[k].index);
  draw_warped_pairs(model, test_set, drawn, mean, stddev, 6, 2, path);
  std::printf("wrote %s: %zu of the %zu mistakes on %lld test images (%.2f%% error), each beside its "
              "transformed version\n",
              path.c_str(), drawn.size(), mistakes.size(), static_cast<long long>(test_set.size()),
              100.0 * static_cast<double>(mistakes.size()) / static_cast<double>(test_set.size()));
  print_mistakes(mistakes, drawn.size());
}

int main(int argc, char** argv) {
  Flags flags("train_stn", "Trains stn_mnist (or its CNN baseline) on MNIST or a distorted MNIST.");
  std::string& dataset = flags.add_choice("dataset", "rts", {"mnist", "rotated", "rts", "cluttered", "rts-upright"},
                                          "the digits as they are, or distorted (io/distorted_mnist.h); rts-upright: "
                                          "the rts digits undone, as a perfect transformer would show them");
  bool& no_transformer = flags.add_bool("no-transformer", "the CNN baseline: the classifier without the transformer");
  bool& redraw = flags.add_bool("redraw", "fresh distortions of the training digits every epoch, not once per run");
  std::string& visualize = flags.add_string("visualize", "", "PNG file: test images beside their transformed versions");
  std::string& mistakes = flags.add_string("mistakes", "", "PNG file: the test images the model gets wrong, warped too");
  TrainingFlags common{.epochs = 10, .batch = 64, .lr = 0.01};
  declare_training_flags(flags, common);
  double ema_decay = 0;
  declare_ema_flag(flags, ema_decay);
  std::string& optimizer_name = flags.add_choice("optimizer", "sgd", {"sgd", "adam"},
                                                 "SGD with --momentum, or Adam (give it a smaller --lr, e.g. 1e-3)");
  double& momentum = flags.add_real("momentum", 0.9, "SGD momentum", 0, 1);
  double& warmup_epochs = flags.add_real("warmup-epochs", 0, "epochs of linear learning-rate warm-up", 0, 1000);
  double& clip_norm = flags.add_real("clip", 1, "clip the gradient norm (0: no clipping)", 0, 1e9);
  double& loc_lr_factor = flags.add_real("loc-lr-factor", 1, "the localisation net's learning rate as a fraction of --lr", 0, 1e3);
  double& pose_supervision = flags.add_real(
      "pose-supervision", 0,
      "a diagnostic, not the paper's training (rts): adds W x the mean squared distance between theta and the theta "
      "that undoes each training digit's draw (upright_rts_theta) to the loss", 0, 1e6);
  int64_t& upright_epochs = flags.add_int("upright-epochs", 0,
                                          "a curriculum: the first N epochs on the digits upright and centred on the "
                                          "canvas, the rest on the distorted ones", 0, 1000000);
  std::string& write_digits = flags.add_string("write-digits", "",
                                              "DIR: write the training digits of --write-epoch and the test digits as "
                                              "idx files into DIR, and train nothing");
  int64_t& write_epoch = flags.add_int("write-epoch", 1, "the epoch whose training digits --write-digits writes",
                                       1, 1000000);
  flags.parse(argc, argv);
  check_output_paths(flags, common, {{"visualize", visualize}, {"mistakes", mistakes}});
  // flags that exclude or need each other: usage errors, like a bad value
  if ((!visualize.empty() || !mistakes.empty()) && no_transformer)
    flags.usage_error("--visualize and --mistakes draw the transformer's output; drop --no-transformer");
  if (loc_lr_factor != 1 && no_transformer) flags.usage_error("--loc-lr-factor needs the transformer; drop --no-transformer");
  if (redraw && dataset == "mnist") flags.usage_error("--redraw needs distorted digits: --dataset rotated, rts or cluttered");
  if (upright_epochs > 0 && dataset == "mnist")
    flags.usage_error("--upright-epochs needs distorted digits to go on to: --dataset rotated, rts or cluttered");
  if (pose_supervision > 0 && (dataset != "rts" || no_transformer))
    flags.usage_error("--pose-supervision needs the transformer on --dataset rts");
  if (upright_epochs >= common.epochs)
    flags.usage_error("--upright-epochs " + std::to_string(upright_epochs) + " leaves none of the --epochs " +
                      std::to_string(common.epochs) + " for the distorted digits");

  try {
    apply_training_flags(common, "train_stn");
    DataLocation data = find_data(common.data, "mnist", common.quiet);
    ImageDataset mnist_train = load_mnist_dir(data.dir, true);
    ImageDataset mnist_test = load_mnist_dir(data.dir, false);
    // The training digits of an epoch are those of its draw: -1 the digits upright and centred
    // (the first --upright-epochs), 0 the run's first distortions, k > 0 --redraw's k-th.
    auto draw_of_epoch = [&](int64_t epoch) -> int64_t {
      if (epoch < upright_epochs) return -1;
      return redraw ? epoch - upright_epochs : 0;
    };
    std::vector<DigitPlacement> train_draws;  // rts: the generator's record of the digits train_set holds
    auto training_digits = [&](int64_t draw) {
      train_draws.clear();
      if (draw < 0) return centred_digits(mnist_train, canvas_side(dataset), &train_draws);
      Rng distortions = training_distortions(common.seed, draw);
      return distort(mnist_train, dataset, distortions, "the training digits", &train_draws);
    };
    ImageDataset train_set = training_digits(0);
    const auto statistics = pixel_statistics(train_set);  // of the first distortions, for every epoch
    const float mean = statistics.first, stddev = statistics.second;
    int64_t drawn = 0;                                    // the draw train_set holds
    Rng test_distortions(test_distortion_seed);
    std::vector<DigitPlacement> test_draws;  // rts: the generator's record, for --visualize
    ImageDataset test_set = distort(mnist_test, dataset, test_distortions, "the test digits", &test_draws);
    const int64_t side = train_set.height;
    if (!write_digits.empty()) {
      write_digit_files(training_digits(draw_of_epoch(write_epoch - 1)), test_set, write_digits);
      std::printf("wrote the %s training digits of epoch %lld and the test digits (%lldx%lld; pixel mean %.6f, "
                  "std %.6f) to %s\n", dataset.c_str(), static_cast<long long>(write_epoch),
                  static_cast<long long>(side), static_cast<long long>(side), mean, stddev, write_digits.c_str());
      return 0;
    }
    if (!common.quiet)
      std::printf("%s MNIST (%lldx%lld) from %s: %lld training, %lld test images; pixel mean %.4f, std %.4f\n",
                  dataset.c_str(), static_cast<long long>(side), static_cast<long long>(side), data.dir.c_str(),
                  static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()), mean, stddev);

    Rng rng(static_cast<uint64_t>(common.seed));
    auto model = std::make_shared<StnMnist>(side, rng, !no_transformer);
    if (!common.quiet) std::printf("%s", model->print().c_str());

    DataLoader train_loader(train_set, {.batch_size = common.batch, .shuffle = true,
                                        .seed = static_cast<uint64_t>(common.seed), .mean = {mean}, .stddev = {stddev}});
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = {mean}, .stddev = {stddev}});
    std::unique_ptr<Optimizer> optimizer =
        make_optimizer(optimizer_name, model->parameters(), static_cast<real>(common.lr), static_cast<real>(momentum));
    if (model->transformer) optimizer->scale_lr(model->transformer->parameters(), static_cast<real>(loc_lr_factor));
    WarmupLr schedule = warmup_then_cosine(static_cast<real>(common.lr), common.epochs,
                                           train_loader.batches_per_epoch(), warmup_epochs);

    // --pose-supervision: the classification loss plus W mean (theta - theta*)^2 over the batch,
    // theta* = upright_rts_theta of each digit's draw; the train loss shown is the classification's.
    auto pose_supervised_loss = [&](const Batch& batch) {
      Tensor logits = model->forward(batch.images);
      Tensor theta = model->transformer->theta(batch.images);  // (N, 2, 3): the localisation net run again, as in forward
      Tensor target = Tensor::empty(theta.shape());
      for (size_t k = 0; k < batch.indices.size(); k++) {
        std::array<double, 6> undo = upright_rts_theta(train_draws[static_cast<size_t>(batch.indices[k])]);
        std::copy(undo.begin(), undo.end(), target.data() + 6 * k);
      }
      Tensor classification = cross_entropy(logits, batch.labels);
      Tensor loss = classification + mse_loss(theta, target) * static_cast<real>(pose_supervision);
      return StepLoss{.loss = loss, .shown_loss = classification.item(), .predicted = argmax(logits.detach())};
    };

    std::string model_name = std::string(no_transformer ? "stn_mnist_cnn_baseline" : "stn_mnist") + "_" + dataset;
    ClassifierTraining run{.model_name = model_name, .model = model.get(), .train_loader = &train_loader,
                           .test_loader = &test_loader, .optimizer = optimizer.get(),
                           .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
                           .clip_norm = clip_norm,
                           .ema_decay = ema_decay,
                           .step_loss = pose_supervision > 0 ? std::function<StepLoss(const Batch&)>(pose_supervised_loss)
                                                             : nullptr,
                           .before_epoch =
                               [&](int64_t epoch) {
                                 if (draw_of_epoch(epoch) == drawn) return;
                                 drawn = draw_of_epoch(epoch);
                                 train_set = training_digits(drawn);
                               }};
    TrainResult result = train_classifier(run, common);
    if (!visualize.empty()) write_visualization(*model, test_set, mnist_test, dataset == "rts" ? test_draws : std::vector<DigitPlacement>{}, mean, stddev, visualize);
    if (!mistakes.empty()) write_mistakes(*model, test_set, mean, stddev, mistakes);
    print_final_line(result);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_stn: %s\n", e.what());
    return 1;
  }
  return 0;
}
