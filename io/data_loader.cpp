#include "io/data_loader.h"

#include <algorithm>
#include <numeric>

#include "engine/parallel.h"
#include "engine/random.h"
#include "engine/wording.h"

namespace glimpse {

namespace {

// splitmix64's finaliser: a cheap hash whose every output bit depends on every input bit.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// How one image is augmented: a crop offset in the zero-padded image, and a flip.
struct Augmentation {
  int64_t dy = 0, dx = 0;  // source pixel of output (y, x) is (y + dy, x + dx) in the original
  bool flip = false;
};

// Drawn from the hash of (seed, epoch, position) alone, never from a shared generator, so
// it is the same whichever thread assembles the image.
Augmentation draw_augmentation(uint64_t epoch_key, int64_t position, int64_t padding, bool flip) {
  uint64_t h = mix(epoch_key ^ mix(static_cast<uint64_t>(position) + 1));
  uint64_t offsets = static_cast<uint64_t>(2 * padding + 1);  // crop windows per axis
  Augmentation a;
  a.dy = static_cast<int64_t>(h % offsets) - padding;
  a.dx = static_cast<int64_t>((h >> 20) % offsets) - padding;
  a.flip = flip && (h >> 63);
  return a;
}

// out (C, H, W) float from src (C, H, W) bytes:
//   out[c][y][x] = src[c][y + dy][x' + dx] * scale[c] + shift[c],  x' = flip ? W-1-x : x
// where a source pixel outside the image is the zero padding (a byte of 0).
void write_image(real* out, const uint8_t* src, int64_t C, int64_t H, int64_t W, const Augmentation& a,
                 const float* scale, const float* shift) {
  for (int64_t c = 0; c < C; c++) {
    for (int64_t y = 0; y < H; y++) {
      real* out_row = out + (c * H + y) * W;
      int64_t sy = y + a.dy;
      if (sy < 0 || sy >= H) {
        std::fill(out_row, out_row + W, shift[c]);  // a padding row: byte 0 -> shift
        continue;
      }
      const uint8_t* src_row = src + (c * H + sy) * W;
      for (int64_t x = 0; x < W; x++) {
        int64_t sx = (a.flip ? W - 1 - x : x) + a.dx;
        real byte = (sx >= 0 && sx < W) ? src_row[sx] : 0;
        out_row[x] = byte * scale[c] + shift[c];
      }
    }
  }
}

// The buffer of the previous batch can be filled again only if no one else holds it: the
// trainer may have kept the tensor (or a node of its graph may have saved it).
bool can_reuse(const Tensor& images, const Shape& shape) {
  return images.defined() && images.shape() == shape && images.is_leaf() && !images.requires_grad() &&
         images.impl_ptr().use_count() == 1 && images.impl()->storage.use_count() == 1;
}

}  // namespace

DataLoader::DataLoader(const ImageDataset& data, LoaderOptions options) : data_(data), options_(std::move(options)) {
  const int64_t C = data_.channels;
  if (data_.size() == 0) fail("DataLoader: the data set is empty");
  if (static_cast<int64_t>(data_.pixels.size()) != data_.size() * data_.image_bytes())
    fail("DataLoader: the data set has " + std::to_string(data_.size()) + " labels but " +
         std::to_string(data_.pixels.size()) + " pixel bytes for " + std::to_string(C) + "x" +
         std::to_string(data_.height) + "x" + std::to_string(data_.width) + " images");
  if (options_.batch_size < 1)
    fail("DataLoader: batch_size must be at least 1, got " + std::to_string(options_.batch_size));
  if (options_.shard_count < 1 || options_.shard_index < 0 || options_.shard_index >= options_.shard_count)
    fail("DataLoader: shard " + std::to_string(options_.shard_index) + " of " + std::to_string(options_.shard_count) +
         " does not exist");
  if (const int64_t last = data_.size() % options_.batch_size,
      smallest = options_.drop_last || last == 0 ? options_.batch_size : std::min(last, options_.batch_size);
      smallest < options_.shard_count)
    fail("DataLoader: a batch of " + count_of(smallest, "image") + " (batch size " +
         std::to_string(options_.batch_size) + " over " + count_of(data_.size(), "image") + ") cannot give each of " +
         count_of(options_.shard_count, "process", "processes") + " an image");
  if (options_.crop_padding < 0)
    fail("DataLoader: crop_padding must be >= 0, got " + std::to_string(options_.crop_padding));
  if (options_.mean.size() != options_.stddev.size() ||
      (!options_.mean.empty() && static_cast<int64_t>(options_.mean.size()) != C))
    fail("DataLoader: mean and stddev need one value per channel (" + std::to_string(C) + "), got " +
         std::to_string(options_.mean.size()) + " and " + std::to_string(options_.stddev.size()));

  // x = (byte / 255 - mean) / stddev  =  byte * scale + shift
  for (int64_t c = 0; c < C; c++) {
    float mean = options_.mean.empty() ? 0.0f : options_.mean[c];
    float stddev = options_.stddev.empty() ? 1.0f : options_.stddev[c];
    if (!(stddev > 0)) fail("DataLoader: stddev must be positive, got " + std::to_string(stddev));
    scale_.push_back(1.0f / (255.0f * stddev));
    shift_.push_back(-mean / stddev);
  }
  num_threads();  // settle the thread policy here, before a background task first asks
}

DataLoader::~DataLoader() {
  if (pending_) background_.wait();  // the task writes into ready_: let it finish first
}

int64_t DataLoader::batches_per_epoch() const {
  int64_t N = data_.size(), B = options_.batch_size;
  return options_.drop_last ? N / B : (N + B - 1) / B;
}

void DataLoader::start_epoch(int64_t epoch, int64_t skip_batches) {
  if (skip_batches < 0 || skip_batches > batches_per_epoch())
    fail("DataLoader::start_epoch: skip_batches must be in 0.." + std::to_string(batches_per_epoch()) + ", got " +
         std::to_string(skip_batches));
  if (pending_) background_.wait();  // a batch of the previous epoch, no longer wanted
  pending_ = false;

  epoch_key_ = mix(mix(options_.seed) ^ static_cast<uint64_t>(epoch));
  order_.resize(data_.size());
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (options_.shuffle) {  // Fisher-Yates with the epoch's own generator
    Rng rng(epoch_key_);
    for (int64_t i = data_.size() - 1; i > 0; i--) std::swap(order_[i], order_[rng.randint(i + 1)]);
  }
  end_ = options_.drop_last ? batches_per_epoch() * options_.batch_size : data_.size();
  cursor_ = skip_batches * options_.batch_size;
  started_ = true;
  prepare_next();
}

bool DataLoader::next(Batch& batch) {
  if (!started_) fail("DataLoader::next: call start_epoch(epoch) first");
  if (!pending_) return false;  // the epoch is over
  pending_ = false;
  background_.wait();        // usually done already; rethrows what the task threw
  std::swap(batch, ready_);  // ready_ now holds the caller's previous batch: its buffer may be reused
  prepare_next();
  return true;
}

void DataLoader::prepare_next() {
  if (cursor_ >= end_) return;
  const int64_t step_first = cursor_, step_count = std::min(options_.batch_size, end_ - cursor_);
  cursor_ += step_count;
  // this shard's share of the step's positions
  const int64_t k = options_.shard_index, S = options_.shard_count;
  const int64_t first = step_first + step_count * k / S, count = step_count * (k + 1) / S - step_count * k / S;
  pending_ = true;
  ready_.step_images = step_count;
  ready_.first_row = first - step_first;
  background_.run([this, first, count] { assemble(ready_, first, count); });
}

void DataLoader::assemble(Batch& batch, int64_t first, int64_t count) const {
  const int64_t C = data_.channels, H = data_.height, W = data_.width;
  Shape shape = {count, C, H, W};
  if (!can_reuse(batch.images, shape)) batch.images = Tensor::empty(shape);
  batch.labels.resize(count);
  real* images = batch.images.data();
  parallel_for(count, 8, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      int64_t index = order_[first + i];
      Augmentation a = draw_augmentation(epoch_key_, first + i, options_.crop_padding, options_.horizontal_flip);
      write_image(images + i * C * H * W, data_.image(index), C, H, W, a, scale_.data(), shift_.data());
      batch.labels[i] = data_.labels[index];
    }
  });
}

}  // namespace glimpse
