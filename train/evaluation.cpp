#include "train/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "engine/ops.h"
#include "io/distorted_mnist.h"
#include "io/image_grid.h"
#include "models/dasnet.h"
#include "models/ram.h"
#include "models/residual_attention.h"
#include "models/resnet20.h"
#include "models/stn_mnist.h"
#include "models/stn_paper.h"
#include "models/zoo.h"
#include "train/classifier.h"
#include "train/data_paths.h"
#include "train/ram_evaluation.h"
#include "train/stn_digits.h"

namespace glimpse {

void declare_rebuild_flags(Flags& flags, RebuildOptions& options) {
  flags.bind("width", options.width, "attention56, where the checkpoint does not record it: the base width", 1, 256);
  flags.bind("glimpses", options.glimpses,
             "RAM, where the checkpoint does not record it: glimpses T (0: the trainer's default)", 0, 64);
  flags.bind("location-std", options.location_std,
             "RAM, where the checkpoint does not record it: the location policy's standard deviation", 1e-3, 1);
  flags.bind("trained-weights", options.trained_weights,
             "a run with --ema: its trained weights, not the averaged ones its trainer scored");
}

// ---- the model of a name ----

static bool is_one_of(const std::string& name, const std::vector<std::string>& names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

[[noreturn]] static void unknown_model(const std::string& name) {
  std::string known;
  for (const std::string& n : model_names()) known += n + ", ";
  fail("no model '" + name + "': known are the zoo's (" + known +
       "as train_mnist and train_cifar name them), stn_mnist_<mnist|rts>, stn_mnist_cnn_baseline_<mnist|rts>, "
       "stn_paper_rts and stn_paper_cnn_baseline_rts (train_stn), ram_<mnist|translated|cluttered> (train_ram) and "
       "dasnet (train_dasnet)");
}

// A whole number of the metadata under `key` if the checkpoint records it, else `fallback`; in
// that case `assumed` gets `sentence` (only for a checkpoint: a model built from its name alone
// assumes nothing).
static int64_t recorded_or(const Metadata& metadata, const std::string& checkpoint, const std::string& key,
                           int64_t fallback, std::vector<std::string>& assumed, const std::string& sentence) {
  if (metadata.count(key)) return metadata_int(metadata, key, checkpoint, 1);
  if (!metadata.empty()) assumed.push_back(sentence);
  return fallback;
}

// The zoo's models, as train_mnist and train_cifar name them.
static void build_zoo_model(LoadedModel& m, const RebuildOptions& options, Rng& rng, const std::string& checkpoint) {
  m.kind = ModelKind::zoo;
  const bool mnist = is_one_of(m.name, mnist_model_names());
  m.data_set = mnist ? "mnist" : "cifar10";
  m.channels = mnist ? 1 : 3;
  m.side = mnist ? mnist_side : 32;
  int64_t width = options.width;
  if (m.name == "attention56")
    width = recorded_or(
        m.metadata, checkpoint, "width", options.width, m.assumed,
        "the checkpoint does not record attention56's width: built with --width " + std::to_string(options.width));
  m.model = create_model(m.name, rng, {.width = width});
}

// train_stn's: "stn_<mnist|paper>_<data>" and "stn_<mnist|paper>_cnn_baseline_<data>".
static void build_stn_model(LoadedModel& m, const std::string& family, Rng& rng) {
  const std::string baseline = "cnn_baseline_";
  m.kind = ModelKind::stn;
  const std::string rest = m.name.substr(family.size());  // "rts", "cnn_baseline_rts", ...
  const bool transformer = !rest.starts_with(baseline);
  m.distortion = transformer ? rest : rest.substr(baseline.size());
  if (m.distortion != "mnist" && m.distortion != "rts") unknown_model(m.name);
  m.data_set = "mnist";
  m.side = m.distortion == "rts" ? rts_side : mnist_side;
  if (family == "stn_paper_")
    m.model = std::make_shared<StnPaper>(m.side, rng, transformer);
  else
    m.model = std::make_shared<StnMnist>(m.side, rng, transformer);
}

// train_ram's: "ram_<mnist|translated|cluttered>", with its glimpses and location policy.
static void build_ram_model(LoadedModel& m, const RebuildOptions& options, Rng& rng, const std::string& checkpoint) {
  m.kind = ModelKind::ram;
  m.distortion = m.name.substr(std::string("ram_").size());
  if (m.distortion != "mnist" && m.distortion != "translated" && m.distortion != "cluttered") unknown_model(m.name);
  m.data_set = "mnist";
  const bool small = m.distortion == "mnist";
  m.side = small ? mnist_side : translated_side;
  // train_ram's choices for the data set, and what its checkpoints do not record
  const int64_t default_glimpses = m.distortion == "cluttered" ? 8 : 6;
  const int64_t glimpses_flag = options.glimpses > 0 ? options.glimpses : default_glimpses;
  char text[200];
  std::snprintf(text, sizeof text, "the checkpoint does not record train_ram's --glimpses: scored with %lld glimpses%s",
                static_cast<long long>(glimpses_flag), options.glimpses > 0 ? "" : " (the trainer's default)");
  const int64_t glimpses = recorded_or(m.metadata, checkpoint, "glimpses", glimpses_flag, m.assumed, text);
  double location_std = options.location_std;
  if (m.metadata.count("location-std")) {
    location_std = metadata_real(m.metadata, "location-std", checkpoint, 1e-3, 1);
  } else if (!m.metadata.empty()) {
    std::snprintf(text, sizeof text,
                  "the checkpoint does not record train_ram's --location-std: its sampled paths are drawn with "
                  "%g%s",
                  options.location_std, options.location_std == 0.17 ? " (the trainer's default)" : "");
    m.assumed.emplace_back(text);
  }
  if (!(location_std > 0 && location_std <= 1))
    fail("RAM's location std must be in (0, 1], got " + std::to_string(location_std));
  RamOptions ram_options{.glimpse_side = small ? 8 : 12,
                         .scales = small ? 1 : 3,
                         .glimpses = glimpses,
                         .location_sigma = static_cast<real>(location_std),
                         .image_side = m.side};
  m.model = std::make_shared<RecurrentAttentionModel>(ram_options, rng);
}

// train_dasnet's: resnet20 with its gates, over a number of passes.
static void build_dasnet_model(LoadedModel& m, Rng& rng, const std::string& checkpoint) {
  m.kind = ModelKind::dasnet;
  m.data_set = "cifar10";
  m.channels = 3;
  m.side = 32;
  const int64_t passes = recorded_or(m.metadata, checkpoint, "passes", 5, m.assumed,
                                     "the checkpoint does not record train_dasnet's --passes: built with 5");
  m.model = std::make_shared<DasNet>(std::make_shared<ResNet20>(rng), passes);
}

LoadedModel build_model(const std::string& name, const Metadata& metadata, const RebuildOptions& options, Rng& rng,
                        const std::string& checkpoint) {
  LoadedModel m;
  m.name = name;
  m.metadata = metadata;
  if (is_one_of(name, model_names()))
    build_zoo_model(m, options, rng, checkpoint);
  else if (name.starts_with("stn_mnist_"))
    build_stn_model(m, "stn_mnist_", rng);
  else if (name.starts_with("stn_paper_"))
    build_stn_model(m, "stn_paper_", rng);
  else if (name.starts_with("ram_"))
    build_ram_model(m, options, rng, checkpoint);
  else if (name == "dasnet")
    build_dasnet_model(m, rng, checkpoint);
  else
    unknown_model(name);
  m.model->eval();
  return m;
}

SpatialTransformer* spatial_transformer_of(Module& model) {
  if (auto* stn = dynamic_cast<StnMnist*>(&model)) return stn->transformer.get();
  if (auto* stn = dynamic_cast<StnPaper*>(&model)) return stn->transformer.get();
  return nullptr;
}

Metadata rebuild_metadata(const LoadedModel& m) {
  if (auto* attention56 = dynamic_cast<Attention56*>(m.model.get()))
    return {{"width", std::to_string(attention56->width)}};
  if (auto* ram = dynamic_cast<RecurrentAttentionModel*>(m.model.get()))
    return {{"glimpses", std::to_string(ram->options.glimpses)},
            {"location-std", real_text(ram->options.location_sigma)}};
  if (auto* dasnet = dynamic_cast<DasNet*>(m.model.get())) return {{"passes", std::to_string(dasnet->passes)}};
  return {};
}

// ---- the weights of a checkpoint ----

// Copies the checkpoint's tensors `prefix + key` into the model's state, after checking that each
// of the model's tensors is there with its shape and that nothing else is; `hint` ends each error.
static void copy_saved_weights(const CheckpointContents& contents, const std::string& prefix, Module& model,
                               const std::string& name, const std::string& checkpoint, const std::string& hint) {
  std::map<std::string, Tensor> saved;
  for (const auto& [key, t] : contents.tensors)
    if (key.starts_with(prefix)) saved.emplace(key.substr(prefix.size()), t);
  std::vector<NamedTensor> state = model.state();
  for (const auto& [key, t] : state) {
    auto found = saved.find(key);
    if (found == saved.end())
      fail("checkpoint '" + checkpoint + "': no tensor '" + prefix + key + "', which " + name + " has" + hint);
    if (found->second.shape() != t.shape())
      fail("checkpoint '" + checkpoint + "': tensor '" + prefix + key + "' has shape " +
           shape_str(found->second.shape()) + ", " + name + " has " + shape_str(t.shape()) + hint);
  }
  if (saved.size() != state.size())
    for (const auto& entry : saved) {
      const std::string& key = entry.first;
      if (std::none_of(state.begin(), state.end(), [&](const NamedTensor& s) { return s.first == key; }))
        fail("checkpoint '" + checkpoint + "': tensor '" + prefix + key + "' is not part of " + name + hint);
    }
  for (auto& [key, t] : state) std::copy_n(saved.at(key).data(), t.numel(), t.data());
}

LoadedModel load_model(const std::string& checkpoint, const RebuildOptions& options) {
  CheckpointContents contents = read_checkpoint(checkpoint);
  const std::string name = metadata_text(contents.metadata, "model", checkpoint);
  Rng rng(0);  // every weight is overwritten below
  LoadedModel m = build_model(name, contents.metadata, options, rng, checkpoint);

  // "ema.average.<name>": the weights a run with --ema evaluated and reported
  const std::string model_prefix = "model.", average_prefix = "ema.average.";
  const bool has_average = std::any_of(contents.tensors.begin(), contents.tensors.end(),
                                       [&](const auto& entry) { return entry.first.starts_with(average_prefix); });
  m.averaged = has_average && !options.trained_weights;
  // a width that is not recorded changes the shapes: say which flag gives it
  const std::string hint = name == "attention56" && !m.assumed.empty()
                               ? " (" + m.assumed.front() + "; pass the width it was trained with)"
                               : "";
  copy_saved_weights(contents, m.averaged ? average_prefix : model_prefix, *m.model, name, checkpoint, hint);
  return m;
}

// ---- the test set its trainer scored it on ----

void trainer_normalisation(const LoadedModel& model, const std::string& data_dir, std::vector<float>& mean,
                           std::vector<float>& stddev) {
  switch (model.kind) {
    case ModelKind::zoo:
    case ModelKind::dasnet:
      mean = model.data_set == "mnist" ? mnist_mean : cifar10_mean;
      stddev = model.data_set == "mnist" ? mnist_stddev : cifar10_stddev;
      return;
    case ModelKind::ram:  // pixels in [0, 1]
      mean.clear();
      stddev.clear();
      return;
    case ModelKind::stn: {  // train_stn: the statistics of the run's first draw of training digits
      const int64_t seed = metadata_int(model.metadata, "seed", "(the checkpoint of " + model.name + ")");
      Rng draw = stn_training_draw(seed, 0);
      const auto statistics =
          pixel_statistics(stn_digits(load_mnist_dir(data_dir, true), model.distortion, draw, "the training digits"));
      mean = {statistics.first};
      stddev = {statistics.second};
      return;
    }
  }
}

TestSet trainer_test_set(const LoadedModel& model, const std::string& data_dir) {
  TestSet test;
  if (model.data_set == "cifar10") {
    test.images = load_cifar10_dir(data_dir, false);
  } else {
    test.images = load_mnist_dir(data_dir, false);
    if (model.kind == ModelKind::stn) {  // train_stn's test digits
      Rng draw(stn_test_seed);
      test.images = stn_digits(test.images, model.distortion, draw, "the test digits");
    } else if (model.kind == ModelKind::ram && model.distortion != "mnist") {  // train_ram's
      Rng draw(distorted_test_seed);
      auto distort = model.distortion == "cluttered" ? cluttered_mnist : translated_mnist;
      test.images = distort(test.images, draw, "the test digits of " + data_dir);
    }
  }
  require_images(test.images, data_dir, model.channels, model.side, 10, model.name);
  trainer_normalisation(model, data_dir, test.mean, test.stddev);
  return test;
}

LoaderOptions test_loader_options(const TestSet& test) {
  return {.batch_size = 500, .shuffle = false, .mean = test.mean, .stddev = test.stddev};
}

// ---- the confusion matrix ----

ConfusionMatrix::ConfusionMatrix(int64_t classes) : classes_(classes) {
  if (classes <= 0) fail("ConfusionMatrix: needs at least one class");
  counts_.assign(static_cast<size_t>(classes * classes), 0);
}

void ConfusionMatrix::add(int64_t label, int64_t predicted) {
  if (label < 0 || label >= classes_ || predicted < 0 || predicted >= classes_)
    fail("ConfusionMatrix: label " + std::to_string(label) + " or prediction " + std::to_string(predicted) +
         " outside the " + std::to_string(classes_) + " classes");
  counts_[static_cast<size_t>(label * classes_ + predicted)]++;
}

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t c : counts_) sum += c;
  return sum;
}

int64_t ConfusionMatrix::correct() const {
  int64_t sum = 0;
  for (int64_t k = 0; k < classes_; k++) sum += count(k, k);
  return sum;
}

int64_t ConfusionMatrix::images_of(int64_t label) const {
  int64_t sum = 0;
  for (int64_t k = 0; k < classes_; k++) sum += count(label, k);
  return sum;
}

double ConfusionMatrix::accuracy() const {
  return total() ? static_cast<double>(correct()) / static_cast<double>(total()) : std::nan("");
}

double ConfusionMatrix::class_accuracy(int64_t label) const {
  const int64_t images = images_of(label);
  return images ? static_cast<double>(count(label, label)) / static_cast<double>(images) : std::nan("");
}

static size_t widest_name(const std::vector<std::string>& names, int64_t classes) {
  size_t width = 5;  // "class"
  for (int64_t k = 0; k < classes; k++) width = std::max(width, class_name(names, k).size());
  return width;
}

// `text` padded with spaces to `width`: on the left (right-aligned) or on the right.
static std::string right(const std::string& text, size_t width) {
  return std::string(width > text.size() ? width - text.size() : 0, ' ') + text;
}
static std::string left(const std::string& text, size_t width) {
  return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
}

std::string ConfusionMatrix::per_class_text(const std::vector<std::string>& names) const {
  const size_t width = widest_name(names, classes_);
  std::string out = "  " + left("class", width) + "   images  correct  accuracy\n";
  for (int64_t k = 0; k < classes_; k++) {
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.2f%%", 100 * class_accuracy(k));
    out += "  " + left(class_name(names, k), width) + right(std::to_string(images_of(k)), 9) +
           right(std::to_string(count(k, k)), 9) + right(percent, 10) + "\n";
  }
  return out;
}

std::string ConfusionMatrix::matrix_text(const std::vector<std::string>& names) const {
  // a row says "3 cat" (or "3" where the name is the number), a column only the number, so that
  // ten columns fit a terminal
  auto row_label = [&](int64_t k) {
    const std::string number = std::to_string(k), name = class_name(names, k);
    return name == number ? number : number + " " + name;
  };
  int64_t largest = 0;
  for (int64_t c : counts_) largest = std::max(largest, c);
  const size_t cell = std::max<size_t>(4, std::to_string(largest).size() + 1);
  size_t label = 0;
  for (int64_t k = 0; k < classes_; k++) label = std::max(label, row_label(k).size());
  std::string out = "  " + std::string(label, ' ');
  for (int64_t k = 0; k < classes_; k++) out += right(std::to_string(k), cell);
  out += "   <- predicted\n";
  for (int64_t row = 0; row < classes_; row++) {
    out += "  " + left(row_label(row), label);
    for (int64_t col = 0; col < classes_; col++) out += right(std::to_string(count(row, col)), cell);
    out += "\n";
  }
  return out;
}

void ConfusionMatrix::write_png(const std::string& path, const std::vector<std::string>& names,
                                int64_t cell_pixels) const {
  GridLabels labels{.title = "confusion matrix",
                    .columns_title = "predicted",
                    .rows_title = "true class",
                    .heat_low = "none",
                    .heat_high = "all of the row's images"};
  for (int64_t k = 0; k < classes_; k++) {
    labels.columns.push_back(class_name(names, k));
    labels.rows.push_back(class_name(names, k));
    labels.vertical_columns = labels.vertical_columns || text_width(labels.columns.back(), 1) > cell_pixels;
  }
  ImageGrid grid(classes_, classes_, 1, cell_pixels, labels);  // a 1x1 tile per cell
  for (int64_t row = 0; row < classes_; row++) {
    const int64_t images = images_of(row);
    for (int64_t col = 0; col < classes_; col++) {
      const float share = images ? static_cast<float>(count(row, col)) / static_cast<float>(images) : 0;
      grid.put_heat(row, col, &share, 1, 1);
    }
  }
  grid.write(path);
}

// ---- scoring ----

Scores score_classifier(Module& model, DataLoader& loader, const std::function<Tensor(const Tensor&)>& forward) {
  if (loader.options().shuffle) fail("score_classifier: the loader must keep the test set's order");
  std::vector<int64_t> predicted;  // every image's, in the loader's order
  auto forward_and_keep = [&](const Tensor& x) {
    Tensor logits = forward ? forward(x) : model.forward(x);  // (N, K)
    std::vector<int64_t> batch = argmax(logits);
    predicted.insert(predicted.end(), batch.begin(), batch.end());
    return logits;
  };
  Evaluation evaluation = evaluate_classifier(model, forward_and_keep, loader);

  ConfusionMatrix confusion = confusion_of(loader.data(), predicted);
  return {.loss = evaluation.loss, .confusion = std::move(confusion), .predicted = std::move(predicted)};
}

ConfusionMatrix confusion_of(const ImageDataset& data, const std::vector<int64_t>& predicted) {
  if (static_cast<int64_t>(predicted.size()) != data.size())
    fail("confusion_of: " + std::to_string(predicted.size()) + " predictions for " + std::to_string(data.size()) +
         " images");
  int64_t classes = std::max<int64_t>(data.classes(), 1);
  for (int64_t label : data.labels) classes = std::max(classes, label + 1);
  for (int64_t p : predicted) classes = std::max(classes, p + 1);
  ConfusionMatrix confusion(classes);
  for (int64_t i = 0; i < data.size(); i++)
    confusion.add(data.labels[static_cast<size_t>(i)], predicted[static_cast<size_t>(i)]);
  return confusion;
}

}  // namespace glimpse
