// stn_pose_study: the RTS study of stn_mnist (docs/RESULTS.md, "Spatial Transformer on RTS
// MNIST"): how much of each digit's drawn rotation, scale and offset a trained transformer
// leaves, what a perfect one would give the classifier, what teaching the pose does, and what a
// trained model still gets wrong. Not part of the product: train_stn is the trainer.
//
// It trains and resumes exactly as train_stn does (the same flags, digits, recipe and
// checkpoints: a train_stn checkpoint resumes here, and without the flags below a run here ends
// with the very checkpoint train_stn's ends with), plus:
//
//   --dataset rts-upright  the rts digits (the same draws) turned back upright, to their size and
//                          centred from the generator's record of each draw (upright_rts): what a
//                          perfect transformer would show the classifier; with --no-transformer,
//                          how far the classifier alone gets on them
//   --pose-supervision W   adds W times the mean squared distance between theta and the theta that
//                          undoes each training digit's draw (upright_rts_theta) to the loss: the
//                          localisation net told the pose instead of finding it through the classifier
//   --report               at the end: how far the transformer zooms, and where the rts test digits
//                          sit in its output (pose_after_transform), against where they sit in the
//                          input; then each test digit drawn five times
//   --mistakes FILE.png    at the end: every test digit the model gets wrong beside its transformed
//                          version, and each one's label and prediction
//
// A finished run is measured by resuming its checkpoint with the flags it was trained with
// (nothing more is trained), e.g. the 150-epoch run of docs/RESULTS.md (one command):
//
//   build/stn_pose_study --dataset rts --data data/mnist --epochs 150 --optimizer adam --lr 1e-3 --redraw
//       --ema 0.9999 --resume runs/stn_rts_redraw_150_ema.ckpt --report --mistakes runs/mistakes.png
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.h"
#include "io/distorted_mnist.h"
#include "models/stn_mnist.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "tools/stn_pose.h"
#include "train/classifier.h"
#include "train/data_paths.h"
#include "train/stn_digits.h"

using namespace glimpse;

namespace {

// ---- the test set through the model ----

// Calls visit(indices, input) for the whole test set in batches of 500, the model in evaluation
// mode and without a tape; input is the batch as the model sees it (normalised).
template <typename Visit>
void for_each_test_batch(StnMnist& model, const ImageDataset& test_set, float mean, float stddev, Visit visit) {
  model.eval();
  NoGradGuard no_grad;
  const int64_t S = test_set.height;
  for (int64_t start = 0; start < test_set.size(); start += 500) {
    std::vector<int64_t> batch(static_cast<size_t>(std::min<int64_t>(500, test_set.size() - start)));
    std::iota(batch.begin(), batch.end(), start);
    Tensor input = Tensor::empty({static_cast<int64_t>(batch.size()), 1, S, S});
    for (size_t k = 0; k < batch.size(); k++)
      for (int64_t p = 0; p < S * S; p++)
        input.data()[static_cast<int64_t>(k) * S * S + p] = (test_set.image(batch[k])[p] / 255.0f - mean) / stddev;
    visit(batch, input);
  }
}

// The transformer's theta for every test image, in test-set order: 6 values each, a11 a12 t1 /
// a21 a22 t2.
std::vector<float> test_thetas(StnMnist& model, const ImageDataset& test_set, float mean, float stddev) {
  std::vector<float> thetas;
  thetas.reserve(static_cast<size_t>(6 * test_set.size()));
  for_each_test_batch(model, test_set, mean, stddev, [&](const std::vector<int64_t>&, const Tensor& input) {
    std::vector<float> batch = model.transformer->theta(input).to_vector();  // (n, 2, 3)
    thetas.insert(thetas.end(), batch.begin(), batch.end());
  });
  return thetas;
}

// ---- statistics ----

// The value below which `fraction` of the (sorted) values lie.
float percentile(const std::vector<float>& sorted, double fraction) {
  return sorted[static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1))];
}

// "median (10th..90th percentile)" of the values, each printed with `format`.
std::string spread(std::vector<float> values, const char* format) {
  std::sort(values.begin(), values.end());
  char text[96];
  std::string f = std::string(format) + " (" + format + ".." + format + ")";
  std::snprintf(text, sizeof text, f.c_str(), percentile(values, 0.5), percentile(values, 0.1),
                percentile(values, 0.9));
  return text;
}

// Each value less the median of the values of its class (the ratio to it with `ratio`).
std::vector<float> less_class_median(const std::vector<float>& values, const std::vector<int>& labels,
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
double slope(const std::vector<float>& xs, const std::vector<float>& ys) {
  double n = static_cast<double>(xs.size()), mean_x = 0, mean_y = 0, cov = 0, var = 0;
  for (size_t i = 0; i < xs.size(); i++) mean_x += xs[i] / n, mean_y += ys[i] / n;
  for (size_t i = 0; i < xs.size(); i++)
    cov += (xs[i] - mean_x) * (ys[i] - mean_y), var += (xs[i] - mean_x) * (xs[i] - mean_x);
  return var > 0 ? cov / var : 0;
}

// ---- --report ----

// How far the transformer zooms, over the test set. theta = [A | t] maps an output pixel to the
// input point it reads, so |det A| is the area of the input that the whole output covers, as a
// fraction of the input: 1 keeps the scale, below 1 zooms in (the digit is drawn larger), above 1
// zooms out (the digit is drawn smaller and loses detail).
void print_zoom(const std::vector<float>& thetas) {
  std::vector<float> areas;
  for (size_t k = 0; k < thetas.size(); k += 6) {
    const float* t = thetas.data() + k;
    areas.push_back(std::fabs(t[0] * t[4] - t[1] * t[3]));
  }
  std::sort(areas.begin(), areas.end());
  std::printf(
      "transformer zoom: the output shows a median %.1f%% of the input's area (10th-90th percentile "
      "%.1f-%.1f%%; below 100%% enlarges the digit, above shrinks it)\n",
      100 * percentile(areas, 0.5), 100 * percentile(areas, 0.1), 100 * percentile(areas, 0.9));
}

// How the digit sits in the transformer's output over the whole RTS test set, beside how it sits
// in the input, from the generator's record of each test draw (pose_after_transform). A perfect
// transformer shows every digit in one pose (upright_rts: angle 0, scale 1, centred); the spread
// between the 10th and 90th percentiles is how far this one is from that. One pose per class
// serves the classifier as well (a transformer may leave all 7s slanted alike), so the third line
// takes each digit's pose relative to the median pose of its class. A transformer may also
// straighten a digit its writer slanted, which moves the angle away from the drawn one's inverse
// without harm; what it leaves of the draw itself is the slope of the output's pose on the input's
// (0: the draw undone, 1: left as drawn; scales on a log scale).
void print_pose_spread(const std::vector<float>& thetas, const ImageDataset& test_set,
                       const std::vector<DigitPlacement>& draws) {
  const float identity[6] = {1, 0, 0, 0, 1, 0};
  std::vector<float> angle[2], scale[2], centre_x[2], centre_y[2];  // [0] the input, [1] the output
  for (size_t i = 0; i < draws.size(); i++) {
    DigitPose poses[2] = {pose_after_transform(identity, draws[i]),
                          pose_after_transform(thetas.data() + 6 * i, draws[i])};
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
  print_line("transformed, to its class", less_class_median(angle[1], labels),
             less_class_median(scale[1], labels, true), less_class_median(centre_x[1], labels),
             less_class_median(centre_y[1], labels));
  auto logs = [](std::vector<float> values) {
    for (float& v : values) v = std::log(v);
    return values;
  };
  std::printf(
      "  left of the draw (slope)   angle %.2f  scale %.2f  centre x %.2f, y %.2f  (0: undone, 1: left as drawn)\n",
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
WithinBetween spread_within_and_between(const PosesOfDraws& poses, int quantity, const std::vector<int>& labels) {
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
    between_var +=
        std::pow(digit_mean[i] - class_sum[labels[i]] / class_count[labels[i]], 2) / static_cast<double>(digits);
  return {std::sqrt(within_var), std::sqrt(std::max(0.0, between_var - within_var / static_cast<double>(draws)))};
}

// Does the transformer show the same handwritten digit the same way however it was drawn? Every
// test digit is drawn `draws` times (the test set's own draw, then fresh ones from the seeds after
// stn_test_seed) and its poses in the input and the output are split as above. In the input the
// within-digit spread is the generator's (angles uniform in [-45, 45]: 90 / sqrt(12) = 26.0
// degrees) and the between-digit spread 0. A transformer that undoes each draw has a within-digit
// spread of 0 in the output; if it also straightens each writer's slant, which the generator's
// record does not know, that shows between digits, as does anything else it does to one digit
// every time.
void print_pose_across_draws(StnMnist& model, const ImageDataset& mnist_test, const std::vector<float>& thetas,
                             const std::vector<DigitPlacement>& test_draws, float mean, float stddev) {
  constexpr int64_t draws = 5;
  const float identity[6] = {1, 0, 0, 0, 1, 0};
  PosesOfDraws input(draws), output(draws);
  for (int64_t r = 0; r < draws; r++) {
    std::vector<DigitPlacement> redraws;
    std::vector<float> redrawn_thetas;
    if (r > 0) {
      Rng rng(stn_test_seed + static_cast<uint64_t>(r));
      ImageDataset redrawn = rts_digits_with_draws(mnist_test, rng, false, redraws, "the test digits");
      redrawn_thetas = test_thetas(model, redrawn, mean, stddev);
    }
    const std::vector<DigitPlacement>& drawn = r == 0 ? test_draws : redraws;
    const std::vector<float>& theta = r == 0 ? thetas : redrawn_thetas;
    for (size_t i = 0; i < drawn.size(); i++) {
      DigitPose in = pose_after_transform(identity, drawn[i]),
                out = pose_after_transform(theta.data() + 6 * i, drawn[i]);
      for (auto [poses, pose] : {std::pair{&input, in}, std::pair{&output, out}}) {
        (*poses)[r][0].push_back(static_cast<float>(pose.angle_degrees));
        (*poses)[r][1].push_back(static_cast<float>(std::log(pose.scale)));
        (*poses)[r][2].push_back(static_cast<float>(pose.centre_dx));
        (*poses)[r][3].push_back(static_cast<float>(pose.centre_dy));
      }
    }
  }
  std::vector<int> labels(mnist_test.labels.begin(), mnist_test.labels.end());
  std::printf(
      "the same digit drawn %lld times, spread (root mean square) within a digit's draws | between the digits "
      "of a class:\n",
      static_cast<long long>(draws));
  for (auto [name, poses] : {std::pair{"input", &input}, std::pair{"transformed", &output}}) {
    WithinBetween q[4];
    for (int k = 0; k < 4; k++) q[k] = spread_within_and_between(*poses, k, labels);
    std::printf(
        "  %-12s angle %.1f | %.1f deg  scale %.1f | %.1f %% (log)  centre x %.1f | %.1f px, y %.1f | %.1f px\n", name,
        q[0].within, q[0].between, 100 * q[1].within, 100 * q[1].between, q[2].within, q[2].between, q[3].within,
        q[3].between);
  }
}

// ---- --mistakes ----

struct Mistake {
  int64_t index;  // in the test set
  int label, predicted;
};

// Every test image the model gets wrong, in test-set order.
std::vector<Mistake> find_mistakes(StnMnist& model, const ImageDataset& test_set, float mean, float stddev) {
  std::vector<Mistake> mistakes;
  for_each_test_batch(model, test_set, mean, stddev, [&](const std::vector<int64_t>& batch, const Tensor& input) {
    std::vector<int64_t> predicted = argmax(model.forward(input));
    for (size_t k = 0; k < batch.size(); k++) {
      int label = static_cast<int>(test_set.labels[static_cast<size_t>(batch[k])]);
      if (predicted[k] != label) mistakes.push_back({batch[k], label, static_cast<int>(predicted[k])});
    }
  });
  return mistakes;
}

// "label->prediction" for the first `drawn` mistakes, six a line like the picture's rows, then the
// eight most frequent confusions with their counts.
void print_mistakes(const std::vector<Mistake>& mistakes, size_t drawn) {
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

// Every test image the model gets wrong (the first 120 of them drawn, 6 pairs a row), and on
// stdout each one's label and prediction in the picture's order and the most frequent
// confusions: whether the transformer failed to straighten a digit or the classifier misread a
// straight one is for the eye to judge.
void write_mistakes(StnMnist& model, const ImageDataset& test_set, float mean, float stddev, const std::string& path) {
  std::vector<Mistake> mistakes = find_mistakes(model, test_set, mean, stddev);
  std::vector<int64_t> drawn;
  for (size_t k = 0; k < std::min<size_t>(mistakes.size(), 120); k++) drawn.push_back(mistakes[k].index);
  draw_transformed_pairs(model, *model.transformer, test_set, drawn, mean, stddev, 6, 2,
                         "stn_mnist: the test digits it gets wrong", path);
  std::printf(
      "wrote %s: %zu of the %zu mistakes on %lld test images (%.2f%% error), each beside its "
      "transformed version\n",
      path.c_str(), drawn.size(), mistakes.size(), static_cast<long long>(test_set.size()),
      100.0 * static_cast<double>(mistakes.size()) / static_cast<double>(test_set.size()));
  print_mistakes(mistakes, drawn.size());
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags("stn_pose_study", "Trains stn_mnist as train_stn does, with the RTS study's variants and measurements.");
  std::string& dataset = flags.add_choice("dataset", "rts", {"rts", "rts-upright"},
                                          "RTS MNIST, or its digits undone as a perfect transformer would show them");
  TrainingFlags common{.epochs = 10, .batch = 64, .lr = 0.01};
  declare_training_flags(flags, common);
  double ema_decay = 0;
  declare_ema_flag(flags, ema_decay);
  StnRecipe recipe;
  declare_stn_recipe(flags, recipe);
  double& pose_supervision =
      flags.add_real("pose-supervision", 0,
                     "adds X times the mean squared distance between theta and the theta that undoes each "
                     "training digit's draw to the loss (rts)",
                     0, 1e6);
  bool& report =
      flags.add_bool("report", "at the end: the transformer's zoom and the test digits' pose in its output (rts)");
  std::string& mistakes =
      flags.add_string("mistakes", "", "PNG file: the test images the model gets wrong, warped too");
  flags.parse(argc, argv);
  if ((report || !mistakes.empty() || recipe.loc_lr_factor != 1 || pose_supervision > 0) && recipe.no_transformer)
    flags.usage_error(
        "--report, --mistakes, --loc-lr-factor and --pose-supervision need the transformer; drop "
        "--no-transformer");
  if ((report || pose_supervision > 0) && dataset != "rts")
    flags.usage_error(
        "--report and --pose-supervision need the generator's record of the digits' draws: --dataset rts");

  try {
    apply_training_flags(common, "stn_pose_study");
    DataLocation data = find_data(common.data, "mnist", common.quiet);
    ImageDataset mnist_train = load_mnist_dir(data.dir, true);
    ImageDataset mnist_test = load_mnist_dir(data.dir, false);
    const bool upright = dataset == "rts-upright";
    std::vector<DigitPlacement> train_draws, test_draws;  // the generator's record of each digit's draw
    auto training_digits = [&](int64_t draw) {            // train_stn's draws (train/stn_digits.h), with their records
      Rng distortions = stn_training_draw(common.seed, draw);
      return rts_digits_with_draws(mnist_train, distortions, upright, train_draws,
                                   "the training digits (--dataset " + dataset + ")");
    };
    ImageDataset train_set = training_digits(0);
    int64_t drawn = 0;  // the draw train_set holds
    const auto statistics = pixel_statistics(train_set);
    const float mean = statistics.first, stddev = statistics.second;
    Rng test_distortions(stn_test_seed);
    ImageDataset test_set = rts_digits_with_draws(mnist_test, test_distortions, upright, test_draws,
                                                  "the test digits (--dataset " + dataset + ")");
    if (!common.quiet)
      std::printf("%s MNIST (42x42) from %s: %lld training, %lld test images; pixel mean %.4f, std %.4f\n",
                  dataset.c_str(), data.dir.c_str(), static_cast<long long>(train_set.size()),
                  static_cast<long long>(test_set.size()), mean, stddev);

    Rng rng(static_cast<uint64_t>(common.seed));
    auto model = std::make_shared<StnMnist>(train_set.height, rng, !recipe.no_transformer);
    if (!common.quiet) std::printf("%s", model->print().c_str());
    DataLoader train_loader(train_set, {.batch_size = common.batch,
                                        .shuffle = true,
                                        .seed = static_cast<uint64_t>(common.seed),
                                        .mean = {mean},
                                        .stddev = {stddev}});
    DataLoader test_loader(test_set, {.batch_size = 500, .shuffle = false, .mean = {mean}, .stddev = {stddev}});
    std::unique_ptr<Optimizer> optimizer = make_optimizer(
        recipe.optimizer, model->parameters(), static_cast<real>(common.lr), static_cast<real>(recipe.momentum));
    if (model->transformer)
      optimizer->scale_lr(model->transformer->parameters(), static_cast<real>(recipe.loc_lr_factor));
    WarmupLr schedule = warmup_then_cosine(static_cast<real>(common.lr), common.epochs,
                                           train_loader.batches_per_epoch(), recipe.warmup_epochs);

    // --pose-supervision: the classification loss plus W mean (theta - theta*)^2 over the batch,
    // theta* = upright_rts_theta of each digit's draw; the train loss shown is the classification's.
    std::unique_ptr<ImageIndex> places;  // where each training image is, for its record
    if (pose_supervision > 0) places = std::make_unique<ImageIndex>(train_set, mean, stddev);
    auto pose_supervised_loss = [&](const Batch& batch) {
      Tensor logits = model->forward(batch.images);
      Tensor theta = model->transformer->theta(batch.images);  // (N, 2, 3): the localisation net run again
      Tensor target = Tensor::empty(theta.shape());
      const int64_t pixels = batch.images.numel() / theta.shape()[0];
      for (int64_t k = 0; k < theta.shape()[0]; k++) {
        int64_t place = places->find(batch.images.data() + k * pixels);
        std::array<double, 6> undo = upright_rts_theta(train_draws[static_cast<size_t>(place)]);
        std::copy(undo.begin(), undo.end(), target.data() + 6 * k);
      }
      Tensor classification = cross_entropy(logits, batch.labels);
      Tensor loss = classification + mse_loss(theta, target) * static_cast<real>(pose_supervision);
      return StepLoss{.loss = loss, .shown_loss = classification.item(), .predicted = argmax(logits.detach())};
    };

    // the model names train_stn gives its checkpoints, so that its runs resume here
    std::string model_name =
        std::string(recipe.no_transformer ? "stn_mnist_cnn_baseline" : "stn_mnist") + "_" + dataset;
    ClassifierTraining run{
        .model_name = model_name,
        .model = model.get(),
        .train_loader = &train_loader,
        .test_loader = &test_loader,
        .optimizer = optimizer.get(),
        .lr_at = [&](int64_t step) { return static_cast<double>(schedule.lr_at(step)); },
        .clip_norm = recipe.clip,
        .ema_decay = ema_decay,
        .step_loss = pose_supervision > 0 ? std::function<StepLoss(const Batch&)>(pose_supervised_loss) : nullptr,
        .before_epoch = [&](int64_t epoch) {  // --redraw: epoch k trains on draw k
          const int64_t draw = recipe.redraw ? epoch : 0;
          if (draw == drawn) return;
          train_set = training_digits(drawn = draw);
          if (places) places = std::make_unique<ImageIndex>(train_set, mean, stddev);
        }};
    TrainResult result = train_classifier(run, common);
    if (report) {
      std::vector<float> thetas = test_thetas(*model, test_set, mean, stddev);
      print_zoom(thetas);
      print_pose_spread(thetas, test_set, test_draws);
      print_pose_across_draws(*model, mnist_test, thetas, test_draws, mean, stddev);
    }
    if (!mistakes.empty()) write_mistakes(*model, test_set, mean, stddev, mistakes);
    print_final_line(result);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stn_pose_study: %s\n", e.what());
    return 1;
  }
  return 0;
}
