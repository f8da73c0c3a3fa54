// Note [The storage cache]
// A training step allocates the same tensors at every step: the same activations, the same
// gradients, the same scratch. Fresh memory from the OS costs a page fault per 4 KiB page the
// first time it is touched, and the C library gives large blocks back to the OS when they are
// freed (glibc: mmap/munmap above its threshold), so without a cache every step paid for its
// memory again, in page faults and in the kernel zeroing pages. So Storage keeps the blocks it
// frees, in free lists by exact size (a multiple of 64 bytes), and hands them out again to the
// next Storage of that size. In the steady state of a training loop nothing is allocated at all.
// Blocks smaller than a page are left to malloc, which keeps those without faulting.
//
// - Thread-safe: one mutex around the free lists (ops allocate outside their parallel loops,
//   so it is taken a few hundred times per step, never contended in a hot loop).
// - Bounded: the lists hold at most twice the most that the storages ever held at once (their
//   peak, storage_peak_bytes()). A bound of the peak itself was too tight: the blocks of each
//   size are most numerous at different moments of a step (activations in the forward, their
//   gradients in the backward), so a step can need more distinct blocks than it ever holds at
//   once, and with the peak as bound a step gave blocks back to the OS and faulted them in again
//   at every step. A fixed bound (2 GiB, earlier) did the same to every step whose tensors held
//   more than it. The bound does not raise the peak RSS of a training loop (a cache-less build
//   peaks higher, as malloc fragments more), because a loop's blocks are reused, not added to.
// - Least recently freed out first: a block given back to a full cache makes room by freeing
//   the blocks that have waited longest, so that blocks of sizes used once (setup, the first
//   steps) cannot fill the cache for good and turn every later block away, which made each step
//   fault its gradient buffers in again.
// - Released at exit: the cache's destructor frees every block it holds.
// - Not under AddressSanitizer: a reused block would hide a use-after-free from ASan and its
//   leaks would not be the caller's, so a sanitizer build allocates and frees every block.
// The measurements behind each point are in bench/PERF.md ("The storage cache: the figures that
// were in its Note").
#include "engine/storage_cache.h"

#include <atomic>
#include <cstdlib>
#include <deque>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>

namespace glimpse {

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

real* take_storage(int64_t count) {
  void* block = storage_cache().take(storage_bytes(count));
  count_allocation(static_cast<int64_t>(storage_bytes(count)));
  return static_cast<real*>(block);
}

void give_back_storage(real* data, int64_t count) {
  live_bytes.fetch_sub(static_cast<int64_t>(storage_bytes(count)));
  storage_cache().give_back(data, storage_bytes(count));
}

int64_t storage_live_bytes() { return live_bytes.load(); }
int64_t storage_peak_bytes() { return peak_bytes.load(); }
int64_t storage_cached_bytes() { return static_cast<int64_t>(storage_cache().cached_bytes()); }

}  // namespace glimpse
