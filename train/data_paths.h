// Where a trainer finds its data: --data DIR when given, else the full set at data/<set> in the
// repository (where scripts/download_data.sh puts it), else the small sample bundled in
// data/sample/<set>, saying so.
#pragma once

#include <cstdint>
#include <string>

#include "io/dataset.h"

namespace glimpse {

struct DataLocation {
  std::string dir;
  bool is_sample = false;
};

// set: "mnist" or "cifar10". A --data directory that does not exist or holds no such data set
// is an Error that says what was expected there and how to get it.
DataLocation find_data(const std::string& data_flag, const std::string& set, bool quiet);

std::string repository_root();  // compiled in: where the bundled sample lives

// Checks, before any training, that `set` (read from `dir`) holds what the model takes: images
// of `channels` x `side` x `side` and at most `classes` classes. An Error names the folder, what
// it holds and what the model needs.
void require_images(const ImageDataset& set, const std::string& dir, int64_t channels, int64_t side, int64_t classes,
                    const std::string& model);

// CIFAR-10's training and test sets as find_data finds them, each checked (require_images) to be
// what `model` takes: 3 x 32 x 32 images of at most 10 classes. `holdout` (--holdout N): N of the
// training images, a fixed choice (io/dataset.h hold_out), go to `held_out` instead of `train`.
struct TrainAndTest {
  DataLocation location;
  ImageDataset train, test, held_out;
};
TrainAndTest load_cifar10_for(const std::string& model, const std::string& data_flag, bool quiet, int64_t holdout = 0);

}  // namespace glimpse
