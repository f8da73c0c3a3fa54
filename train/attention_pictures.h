// Pictures of what the attention of a CIFAR-10 model of the zoo does on a few test images, as its
// paper shows it: a row per image, the image first, then what the model's attention made of it.
// The maps come from one forward through an Observer (Note [Observing a forward], layers/module.h).
//
//   se_resnet20     SE's channel weights s (Eq. 3) in the last block of each stage, as ECA's below
//   cbam_resnet20   CBAM's spatial map M_s in the last block of each stage (32x32, 16x16, 8x8)
//   attention56     each attention module's soft mask, averaged over channels (32x32, 16x16, 8x8)
//   gc_resnet20     GC's context map alpha in the last block of each stage: where the block pools from
//   eca_resnet20    ECA's channel weights in the last block of each stage, one vertical bar per
//                   channel on an absolute scale (black 0, white 1): which channels it keeps
//   nl_resnet20     for two query positions (cyan boxes), the non-local block's weights over the keys,
//                   in stage 2 (16x16 queries, 8x8 keys) and stage 3 (8x8, 4x4)
//   da_resnet20     for three query positions, the position attention's weights over the 8x8 map
//   cc_resnet20     for two query positions, the criss-cross weights of the first pass (the query's
//                   row and column) and of both passes composed (the whole image)
//   aa_resnet20     for one query position, the weights of each of the 4 heads of the last
//                   attention-augmented convolution, then their mean for a second query
// Maps other than ECA's are scaled to [0, 1] by their own range and drawn black-red-yellow-white
// (white: most attended).
#pragma once

#include <string>
#include <vector>

#include "engine/tensor.h"
#include "io/dataset.h"
#include "layers/module.h"

namespace glimpse {

bool draws_attention(const std::string& model_name);

// raw: the images (N, 3, 32, 32) in [0, 1]; x: the same as the model takes them (normalised);
// labels: their classes, named by class_names. Runs the model once in evaluation mode, without a
// graph, and writes the PNG to `path`: a title, a label over each column, each image's true and
// predicted class under it, and the maps' colour scale. Returns the number of map columns.
int64_t draw_attention(Module& model, const std::string& model_name, const Tensor& raw, const Tensor& x,
                       const std::vector<int64_t>& labels, const std::vector<std::string>& class_names,
                       const std::string& path);

// draw_attention on a few test images: the first of each class in label order (ten rows on
// CIFAR-10's test set), normalised by mean and stddev for the model. Prints the path it wrote.
// train_cifar --visualize and evaluate --visualize write this picture.
void draw_attention_on_test_images(Module& model, const std::string& model_name, const ImageDataset& test_set,
                                   const std::vector<float>& mean, const std::vector<float>& stddev,
                                   const std::string& path);

}  // namespace glimpse
