// Using what a trainer trained: the model of a checkpoint rebuilt from its name, the test set its
// trainer scored it on, and what the scores say beyond the accuracy (per class, the confusion
// matrix). examples/evaluate.cpp and examples/predict.cpp are these parts put together.
//
//   LoadedModel m = load_model("runs/stn.ckpt", {});           // "stn_mnist_rts", averaged weights if any
//   TestSet test = trainer_test_set(m, find_data("", m.data_set, true).dir);
//   DataLoader loader(test.images, test_loader_options(test));
//   Scores s = score_classifier(*m.model, loader);             // the trainer's evaluation, every guess kept
//   std::printf("%s", s.confusion.matrix_text(test.images.class_names).c_str());
//
// A checkpoint names its model ("model" in its metadata) as its trainer did: a name of the zoo
// ("mnist_cnn", "resnet20", ...; models/zoo.h), "stn_mnist_<data>", "stn_paper_<data>" or
// "<stn_mnist|stn_paper>_cnn_baseline_<data>" (train_stn), "ram_<data>" (train_ram) or "dasnet"
// (train_dasnet). The name says which data set, which distortion of it and which image side the
// model takes; what it does not say (attention56's width, RAM's number of glimpses and location
// std) is read from the metadata when the checkpoint records it (under the trainer's flag name:
// "width", "glimpses", "location-std"), else taken from the caller's options, and the
// LoadedModel says so.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/random.h"
#include "io/checkpoint.h"
#include "io/data_loader.h"
#include "io/dataset.h"
#include "layers/module.h"
#include "layers/spatial_transformer.h"
#include "train/flags.h"

namespace glimpse {

// What the checkpoint may not record, from the caller's flags (the trainers' defaults here).
struct RebuildOptions {
  int64_t width = 16;            // attention56's base width (train_cifar --width)
  int64_t glimpses = 0;          // RAM's glimpses T (train_ram --glimpses; 0: 6, and 8 for cluttered)
  double location_std = 0.17;    // RAM's location policy (train_ram --location-std)
  bool trained_weights = false;  // true: the trained weights even when the checkpoint holds averaged ones
};

// --width, --glimpses, --location-std and --trained-weights, bound to `options`: the flags of
// evaluate, predict and convert_weights.
void declare_rebuild_flags(Flags& flags, RebuildOptions& options);

enum class ModelKind { zoo, stn, ram, dasnet };

struct LoadedModel {
  std::string name;  // as checkpoints name it: "mnist_cnn", "stn_mnist_rts", "ram_cluttered", "dasnet", ...
  ModelKind kind = ModelKind::zoo;
  std::shared_ptr<Module> model;    // in evaluation mode
  std::string data_set;             // what find_data looks for: "mnist" or "cifar10"
  std::string distortion;           // train_stn's or train_ram's --dataset ("mnist", "rts", "translated", ...)
  int64_t channels = 1, side = 28;  // the images it takes: (N, channels, side, side)
  bool averaged = false;            // holds the averaged weights ("ema.*") of a run with --ema
  Metadata metadata;                // the checkpoint's (empty for a model built from its name alone)
  // What was taken from RebuildOptions because the checkpoint does not record it, one sentence each.
  std::vector<std::string> assumed;
};

// A new model of that name, initialised from rng (for a summary, or to be loaded); `metadata` as
// the checkpoint named `checkpoint` holds it, or empty. An Error lists the names it knows.
LoadedModel build_model(const std::string& name, const Metadata& metadata, const RebuildOptions& options, Rng& rng,
                        const std::string& checkpoint = "");

// The spatial transformer of an STN model (stn_mnist, stn_paper); null for any other model and
// for their CNN baselines.
SpatialTransformer* spatial_transformer_of(Module& model);

// The metadata a checkpoint needs, beyond the model's name, to rebuild this model: attention56's
// "width", RAM's "glimpses" and "location-std", dasNet's "passes" (the trainers' flag names).
Metadata rebuild_metadata(const LoadedModel& model);

// The model of a checkpoint with its weights: "model.*", or under --ema "ema.average.*" (unless
// options.trained_weights). The optimiser's state is not read. A checkpoint whose tensors do not
// fit the rebuilt model is refused, naming the tensor and the flag that may be missing.
LoadedModel load_model(const std::string& checkpoint, const RebuildOptions& options);

// The test set the model's trainer scored it on, made from the data directory (MNIST or CIFAR-10,
// as find_data finds it): distorted as the trainer distorts it for STN and RAM, from the same
// seeds, and the normalisation its trainer's test loader applies (empty: pixels in [0, 1]).
struct TestSet {
  ImageDataset images;
  std::vector<float> mean, stddev;
};
TestSet trainer_test_set(const LoadedModel& model, const std::string& data_dir);
// The trainer's test loader: batches of 500 in order, normalised as `test` says.
LoaderOptions test_loader_options(const TestSet& test);
// The normalisation alone (what predict applies to an image file); for STN it is the pixel
// statistics of the training digits of the run's first draw, so it reads the training set.
void trainer_normalisation(const LoadedModel& model, const std::string& data_dir, std::vector<float>& mean,
                           std::vector<float>& stddev);

// Counts of (true class, predicted class) over a test set: row = label, column = prediction.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes);
  void add(int64_t label, int64_t predicted);

  int64_t classes() const { return classes_; }
  int64_t count(int64_t label, int64_t predicted) const {
    return counts_[static_cast<size_t>(label * classes_ + predicted)];
  }
  int64_t total() const;
  int64_t correct() const;                     // the diagonal
  int64_t images_of(int64_t label) const;      // the row's sum
  double accuracy() const;                     // correct / total
  double class_accuracy(int64_t label) const;  // the row's diagonal share (recall); NaN for a class with no images

  // Per class: images, correct, accuracy; then the matrix itself, a row per true class.
  std::string per_class_text(const std::vector<std::string>& names) const;
  std::string matrix_text(const std::vector<std::string>& names) const;
  // A heat map, a cell per (true class, prediction), each row scaled by its images: the diagonal
  // bright where a class is recognised, off-diagonal cells lit by what it is taken for. The rows
  // and columns are named by `names` (else numbered), under a title and beside a colour scale.
  void write_png(const std::string& path, const std::vector<std::string>& names, int64_t cell_pixels = 24) const;

 private:
  int64_t classes_;
  std::vector<int64_t> counts_;  // (classes, classes), row-major
};

// The confusion matrix of `predicted` (one class per image of `data`, in its order), over the
// data set's classes (more if a label or a prediction lies beyond them).
ConfusionMatrix confusion_of(const ImageDataset& data, const std::vector<int64_t>& predicted);

struct Scores {
  double loss = 0;  // mean cross-entropy
  ConfusionMatrix confusion;
  std::vector<int64_t> predicted;  // each image's class, in the loader's order
};

// The trainers' evaluation (evaluate_classifier: in evaluation mode, without a graph) with every
// prediction kept: its accuracy and loss are the trainer's, digit for digit. The loader must
// not shuffle; forward defaults to the model's.
Scores score_classifier(Module& model, DataLoader& loader, const std::function<Tensor(const Tensor&)>& forward = {});

}  // namespace glimpse
