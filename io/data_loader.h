// DataLoader: turns an ImageDataset of bytes into shuffled, augmented float batches.
//
//   images (N, C, H, W) bytes ──shuffle──> batch of B positions ──per image, in parallel:
//       crop (random window of the zero-padded image) -> flip -> x = (byte/255 - mean[c]) / stddev[c]
//   ──> Batch { images (B, C, H, W) float, labels (B) }
//
// Determinism: the order of an epoch is a permutation drawn from (seed, epoch) alone, and the
// crop offset and flip of the image at position p of the epoch come from a hash of
// (seed, epoch, p) alone. So the batches do not depend on the number of threads, and a run
// resumed mid-epoch (start_epoch(epoch, skip_batches)) sees exactly the batches it would have.
//
// Prefetching: while the trainer computes on one batch, the next is assembled in the
// background, so next() rarely waits. Usage:
//
//   DataLoader loader(train_set, {.batch_size = 128, .seed = 1, .crop_padding = 4,
//                                 .horizontal_flip = true, .mean = {...}, .stddev = {...}});
//   for (int64_t epoch = 0; epoch < epochs; epoch++) {
//     loader.start_epoch(epoch);
//     Batch batch;
//     while (loader.next(batch)) { ... batch.images, batch.labels ... }
//   }
#pragma once

#include <cstdint>
#include <vector>

#include <tbb/task_group.h>

#include "engine/tensor.h"
#include "io/dataset.h"

namespace glimpse {

struct Batch {
  Tensor images;                // (B, C, H, W) float
  std::vector<int64_t> labels;  // (B)
  int64_t step_images = 0;      // the images of the whole step: B, or every shard's (below) together
  int64_t first_row = 0;        // where this shard's images start among the step's
};

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = false;                     // drop the last batch when it is smaller than batch_size
  int64_t crop_padding = 0;                   // CIFAR: 4 -> random crop of the zero-padded image
  bool horizontal_flip = false;               // flip each image left-right with probability 1/2
  std::vector<float> mean = {}, stddev = {};  // per channel, after scaling bytes to [0,1]; empty = none
  // Data parallelism: the batch of batch_size positions is cut into shard_count contiguous
  // shares, and this loader serves share shard_index (images [n k / S, n (k + 1) / S) of a batch of
  // n); the order and the augmentations are those of the unsharded loader.
  int64_t shard_index = 0, shard_count = 1;
};

class DataLoader {
 public:
  DataLoader(const ImageDataset& data, LoaderOptions options);  // keeps a reference to data
  ~DataLoader();                                                // waits for the batch being prepared
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t batches_per_epoch() const;
  // order = permutation seeded by (seed, epoch); skip_batches resumes mid-epoch
  void start_epoch(int64_t epoch, int64_t skip_batches = 0);
  // Fills `batch` with the next batch of the epoch; false at the end of the epoch. The last
  // batch is partial unless drop_last. The tensor handed out is the caller's: the loader
  // reuses a buffer only when no one else holds it.
  bool next(Batch& batch);

  const ImageDataset& data() const { return data_; }
  const LoaderOptions& options() const { return options_; }

 private:
  void prepare_next();  // starts assembling the batch at position cursor_ into ready_
  void assemble(Batch& batch, int64_t first, int64_t count) const;  // positions [first, first+count)

  const ImageDataset& data_;
  LoaderOptions options_;
  std::vector<float> scale_, shift_;  // per channel: x = byte * scale + shift

  bool started_ = false;
  uint64_t epoch_key_ = 0;      // hash of (seed, epoch): the root of this epoch's randomness
  std::vector<int64_t> order_;  // position in the epoch -> index in the data set
  int64_t cursor_ = 0;          // position of the next batch to prepare
  int64_t end_ = 0;             // positions [0, end_) are served this epoch
  Batch ready_;                 // the prefetched batch, once pending_ has finished
  bool pending_ = false;        // a batch is being prepared into ready_
  tbb::task_group background_;  // runs the prefetch; a TBB task so it counts against
                                // the engine's thread limit (parallel.h)
};

}  // namespace glimpse
