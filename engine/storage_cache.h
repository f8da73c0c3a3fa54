// The storage cache: where every Storage (tensor.h) takes its block of floats and gives it back.
// Freed blocks are kept by size and handed to the next Storage of that size, so that a training
// loop in its steady state allocates nothing (Note [The storage cache] in storage_cache.cpp).
// Its counters, storage_live_bytes(), storage_peak_bytes() and storage_cached_bytes(), are
// declared in tensor.h.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace glimpse {

real* take_storage(int64_t count);                  // a 64-byte aligned block of `count` floats, uninitialised
void give_back_storage(real* data, int64_t count);  // a block take_storage(count) returned

}  // namespace glimpse
