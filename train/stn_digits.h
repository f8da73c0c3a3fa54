// The digits train_stn trains and is tested on, and the picture of what its transformer makes of
// them: what the trainer shares with the programs that must see the very same digits
// (bench/write_stn_digits writes them for PyTorch; tools/stn_pose_study).
//
//   "mnist"  the 28x28 digits as they are
//   "rts"    each digit rotated, scaled and placed on a 42x42 canvas (rts_mnist, io/distorted_mnist.h)
//
// The training digits are a draw: draw 0 comes from the run's --seed, and under --redraw epoch k
// trains on draw k, a function of (seed, k). The test digits come from a fixed seed of their own,
// so every run, whatever its seed, is scored on the same images. Inputs are normalised with the
// pixel mean and standard deviation of draw 0.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/random.h"
#include "io/dataset.h"
#include "layers/spatial_transformer.h"
#include "train/flags.h"

namespace glimpse {

constexpr uint64_t stn_test_seed = 20150605;  // the test digits' draw: the same in every run

// train_stn's recipe beyond the common flags (--optimizer, --momentum, --warmup-epochs, --clip,
// --loc-lr-factor, --no-transformer, --redraw), which the programs that train as it does share.
struct StnRecipe {
  std::string optimizer = "sgd";
  double momentum = 0.9;
  double warmup_epochs = 0;
  double clip = 1;  // the gradient's global norm; 0: no clipping
  double loc_lr_factor = 1;
  bool no_transformer = false;
  bool redraw = false;
};
void declare_stn_recipe(Flags& flags, StnRecipe& recipe);

// The Rng of draw `draw` of the training digits of a run with `seed`.
Rng stn_training_draw(int64_t seed, int64_t draw);

// The digits of `dataset` ("mnist" or "rts") made from 28x28 MNIST digits, drawn from rng;
// `what` names them in errors ("the training digits").
ImageDataset stn_digits(const ImageDataset& mnist, const std::string& dataset, Rng& rng, const std::string& what);

// Mean and standard deviation of all pixels, scaled to [0, 1].
std::pair<float, float> pixel_statistics(const ImageDataset& data);

// Draws the test images `indices` (left of each pair, in reading order, `pairs` pairs a row, each
// pixel `scale` x scale) beside what `transformer`, the model's, makes of them (right), under
// `title`, with each image's true and the model's predicted class under it; the model sees them
// normalised with mean and stddev.
void draw_transformed_pairs(Module& model, SpatialTransformer& transformer, const ImageDataset& test_set,
                            const std::vector<int64_t>& indices, float mean, float stddev, int64_t pairs, int64_t scale,
                            const std::string& title, const std::string& path);

// draw_transformed_pairs of the first 24 test digits, four pairs a row, titled with the model's
// name; prints the path it wrote. train_stn --visualize and evaluate --visualize draw this picture.
void draw_first_transformed_digits(Module& model, SpatialTransformer& transformer, const std::string& model_name,
                                   const ImageDataset& test_set, float mean, float stddev, const std::string& path);

}  // namespace glimpse
