#include "engine/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <unordered_map>
#include <sstream>

#include "engine/autograd.h"
#include "engine/random.h"

namespace glimpse {

void fail(const std::string& message) { throw Error(message); }

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("tensor: negative dimension in shape " + shape_str(shape));
    n *= d;
  }
  return n;
}

// ---- storage ----

// Note [The storage cache]
// A training step allocates the same tensors at every step: the same activations, the same
// gradients, the same scratch. Fresh memory from the OS costs a page fault per 4 KiB page the
// first time it is touched, and the C library gives large blocks back to the OS when they are
// freed (glibc: mmap/munmap above its threshold), so without a cache every step paid for its
// memory again: a quarter of resnet20's step went to page faults and to the kernel zeroing
// pages. So Storage keeps the blocks it frees, in free lists by exact size (a multiple of 64
// bytes), and hands them out again to the next Storage of that size. In the steady state of a
// training loop nothing is allocated at all. Blocks smaller than a page are left to malloc, which keeps those without faulting.
//
// - Thread-safe: one mutex around the free lists (ops allocate outside their parallel loops,
//   so it is taken a few hundred times per step, never contended in a hot loop).
// - Bounded: the lists hold at most twice the most that the storages ever held at once (their
//   peak, storage_peak_bytes()). A bound of the peak itself was too tight: the blocks of each
//   size are most numerous at different moments of a step (activations in the forward, their
//   gradients in the backward), so a step can need more distinct blocks than it ever holds at
//   once, and with the peak as bound resnet20 returned ~1,300 pages to the OS and faulted them
//   in again at every step (164 ms a step at 2 threads with twice the peak, 212 ms before). A
//   fixed bound of 2 GiB, earlier, made attention56's 2.7 GB step return 0.7 GB to the OS after
//   every step (1.4 s of a 3.6 s step). The bound does not raise the peak RSS of a training loop
//   (resnet20 237 MB, attention56 1674 MB with either bound; 1819 MB without a cache, where
//   malloc fragments more), because a loop's blocks are reused, not added to.
// - Least recently freed out first: a block given back to a full cache makes room by freeing
//   the blocks that have waited longest, so that blocks of sizes used once (setup, the first
//   steps) cannot fill the cache for good and turn every later block away: that made
//   mnist_cnn's step fault ~1,100 pages (its gradient buffers) and take 52 ms instead of 37
//   (2 threads).
// - Released at exit: the cache's destructor frees every block it holds.
// - Not under AddressSanitizer: a reused block would hide a use-after-free from ASan and its
//   leaks would not be the caller's, so a sanitizer build allocates and frees every block.
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool storage_cache_enabled = false;
#else
constexpr bool storage_cache_enabled = true;
#endif

constexpr size_t min_cached_bytes = 4096;  // smaller blocks: straight to malloc

// What the live storages hold (storage_live_bytes()), and the most they ever held at once
// (storage_peak_bytes(), also the cache's bound).
std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> peak_bytes{0};

void count_allocation(int64_t bytes) {
  const int64_t now = live_bytes.fetch_add(bytes) + bytes;
  int64_t peak = peak_bytes.load();
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
}

class StorageCache {
 public:
  // A block of `bytes` (a multiple of 64), 64-byte aligned: a cached one if there is one.
  void* take(size_t bytes) {
    if (storage_cache_enabled && bytes >= min_cached_bytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        const auto entry = it->second.back();  // the most recently freed block of this size
        it->second.pop_back();
        void* block = entry->block;
        by_age_.erase(entry);
        cached_bytes_ -= bytes;
        return block;
      }
    }
    void* block = std::aligned_alloc(64, bytes);
    if (!block) throw std::bad_alloc();
    return block;
  }

  // Gives the block back: into its free list, after freeing the oldest cached blocks if the
  // cache would pass its bound (twice the peak); to the C library if the block alone is larger.
  void give_back(void* block, size_t bytes) {
    if (storage_cache_enabled && bytes >= min_cached_bytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      const size_t bound = 2 * static_cast<size_t>(peak_bytes.load());
      if (bytes <= bound) {
        while (cached_bytes_ + bytes > bound) free_oldest();
        free_[bytes].push_back(by_age_.insert(by_age_.end(), {block, bytes}));
        cached_bytes_ += bytes;
        return;
      }
    }
    std::free(block);
  }

  size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

  ~StorageCache() {
    for (const Cached& cached : by_age_) std::free(cached.block);
  }

 private:
  struct Cached {
    void* block;
    size_t bytes;
  };

  // The block that has waited longest is also the oldest of its own size: the front of both.
  void free_oldest() {
    const Cached oldest = by_age_.front();
    free_[oldest.bytes].pop_front();
    by_age_.pop_front();
    cached_bytes_ -= oldest.bytes;
    std::free(oldest.block);
  }

  std::mutex mutex_;
  std::list<Cached> by_age_;  // every cached block, the least recently freed first
  std::unordered_map<size_t, std::deque<std::list<Cached>::iterator>> free_;  // size -> its blocks, oldest first
  size_t cached_bytes_ = 0;
};

// Built on first use, so before any Storage, hence destroyed after every static Storage
// (statics are destroyed in the reverse order of their construction).
StorageCache& storage_cache() {
  static StorageCache cache;
  return cache;
}

size_t storage_bytes(int64_t count) {  // a multiple of 64, at least 64
  const size_t bytes = (static_cast<size_t>(count) * sizeof(real) + 63) / 64 * 64;
  return bytes == 0 ? 64 : bytes;
}

}  // namespace

int64_t storage_live_bytes() { return live_bytes.load(); }
int64_t storage_peak_bytes() { return peak_bytes.load(); }
int64_t storage_cached_bytes() { return static_cast<int64_t>(storage_cache().cached_bytes()); }

Storage::Storage(int64_t count)
    : data_(static_cast<real*>(storage_cache().take(storage_bytes(count)))), size_(count) {
  count_allocation(static_cast<int64_t>(storage_bytes(count)));
}
Storage::~Storage() {
  live_bytes.fetch_sub(static_cast<int64_t>(storage_bytes(size_)));
  storage_cache().give_back(data_, storage_bytes(size_));
}

// ---- creation ----

Tensor Tensor::empty(const Shape& shape) {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = std::make_shared<Storage>(shape_numel(shape));
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, real value) {
  Tensor t = empty(shape);
  real* p = t.data();
  for (int64_t i = 0; i < t.numel(); i++) p[i] = value;
  return t;
}
Tensor Tensor::zeros(const Shape& shape) {
  Tensor t = empty(shape);
  std::memset(t.data(), 0, sizeof(real) * t.numel());
  return t;
}
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1); }
Tensor Tensor::scalar(real value) { return full({}, value); }

Tensor Tensor::arange(int64_t n) {
  Tensor t = empty({n});
  for (int64_t i = 0; i < n; i++) t.data()[i] = static_cast<real>(i);
  return t;
}

Tensor Tensor::from_data(const Shape& shape, const std::vector<real>& values) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail("Tensor::from_data: " + std::to_string(values.size()) + " values for shape " +
         shape_str(shape));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::uniform(const Shape& shape, real low, real high, Rng& rng) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = rng.uniform(low, high);
  return t;
}

Tensor Tensor::normal(const Shape& shape, real mean, real stddev, Rng& rng) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = rng.normal(mean, stddev);
  return t;
}

// ---- shape and data ----

static const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) fail("tensor: use of an undefined tensor");
  return *impl;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }

int64_t Tensor::size(int64_t axis) const {
  int64_t d = dim();
  int64_t a = axis < 0 ? axis + d : axis;
  if (a < 0 || a >= d)
    fail("tensor: axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape()));
  return shape()[a];
}

real Tensor::item() const {
  if (numel() != 1) fail("tensor: item() needs one element, got shape " + shape_str(shape()));
  return data()[0];
}

std::vector<real> Tensor::to_vector() const { return std::vector<real>(data(), data() + numel()); }

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream out;
  out << "Tensor" << shape_str(shape()) << " [";
  int64_t shown = std::min<int64_t>(numel(), 16);
  for (int64_t i = 0; i < shown; i++) out << (i ? ", " : "") << data()[i];
  if (shown < numel()) out << ", ...";
  out << "]";
  return out.str();
}

// ---- autograd ----
// A tensor without an AutogradMeta has never taken part in autograd: it needs no gradient,
// has none, and no node produced it.

bool Tensor::requires_grad() const {
  const AutogradMeta* meta = checked(impl_).autograd.get();
  return meta && meta->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool on) {
  if (grad_fn() && !on) fail("tensor: set_requires_grad(false) on a tensor inside the graph; use detach()");
  if (on || impl_->autograd) impl_->autograd_meta().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const AutogradMeta* meta = checked(impl_).autograd.get();
  return meta && meta->grad ? Tensor(meta->grad) : Tensor();
}

void Tensor::zero_grad() const {
  if (checked(impl_).autograd) impl_->autograd->grad.reset();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  const AutogradMeta* meta = checked(impl_).autograd.get();
  return meta ? meta->grad_fn : none;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = checked(impl_).shape;
  impl->storage = impl_->storage;
  return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape());
  std::memcpy(t.data(), data(), sizeof(real) * numel());
  return t;
}

void Tensor::backward() const { glimpse::backward(*this); }

}  // namespace glimpse
