// The storage cache (Note [The storage cache] in engine/storage_cache.cpp): a block freed by one tensor
// is handed to the next tensor of the same size, and must then behave as fresh memory would.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "engine/ops.h"
#include "engine/parallel.h"
#include "engine/random.h"

using namespace glimpse;

TEST_CASE("storage reuse gives clean tensors", "[tensor][storage]") {
  const Shape shape{64, 100};                 // 25 KB: above the size the cache leaves to malloc
  { Tensor dirty = Tensor::full(shape, 7); }  // freed: its block may go to the next tensor
  Tensor z = Tensor::zeros(shape);
  for (real v : z.to_vector()) REQUIRE(v == 0);
  { Tensor dirty = Tensor::full(shape, 7); }
  Tensor o = Tensor::ones(shape);
  for (real v : o.to_vector()) REQUIRE(v == 1);
  // a gradient buffer built on a reused block starts at zero too
  { Tensor dirty = Tensor::full(shape, 7); }
  Tensor x = Tensor::ones(shape).set_requires_grad(true);
  sum(x).backward();
  for (real v : x.grad().to_vector()) REQUIRE(v == 1);
}

TEST_CASE("storage from many threads at once", "[tensor][storage]") {
  // Tasks allocate, fill, check and free tensors of a few sizes, all at the same time: no block
  // may be handed to two live tensors.
  std::vector<int> failures(64, 0);
  parallel_for(64, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++)
      for (int round = 0; round < 20; round++) {
        const int64_t n = 1024 * (1 + (t + round) % 4);
        Tensor a = Tensor::full({n}, static_cast<real>(t)), b = Tensor::full({n}, static_cast<real>(-t));
        for (int64_t i = 0; i < n; i++)
          if (a.data()[i] != static_cast<real>(t) || b.data()[i] != static_cast<real>(-t)) failures[t]++;
      }
  });
  for (int f : failures) CHECK(f == 0);
}

TEST_CASE("a full storage cache makes room for the block freed last", "[tensor][storage]") {
  // Note [The storage cache]: the cache holds at most twice the storages' peak. Fill it with
  // blocks of sizes nobody asks for again, then free a block of a new size: the new block must be
  // kept (the oldest ones freed to make room), so that the next tensor of its size reuses it.
  { Tensor probe = Tensor::empty({1 << 14}); }
  if (storage_cached_bytes() == 0) {
    SUCCEED("the storage cache is off in this build (sanitizers)");
    return;
  }
  const int64_t wanted = std::max<int64_t>(1 << 20, storage_live_bytes() / 2);  // floats: 4 MiB at least
  const int64_t wanted_bytes = wanted * static_cast<int64_t>(sizeof(real));
  const int64_t round_bytes =
      std::max({storage_peak_bytes(), 8 * wanted_bytes, 4 * storage_live_bytes() + 8 * wanted_bytes});
  for (int64_t round = 1; round <= 3; round++) {  // three rounds of fillers, each of its own size
    std::vector<Tensor> fillers;
    while (storage_live_bytes() < round_bytes) fillers.push_back(Tensor::empty({wanted / 2 + 16 * round}));
  }  // each round freed: together more than the cache holds
  const int64_t bound = 2 * storage_peak_bytes();
  REQUIRE(storage_cached_bytes() + wanted_bytes > bound);  // the wanted block does not fit as is
  { Tensor once = Tensor::empty({wanted}); }               // freed into the full cache
  const int64_t cached_before = storage_cached_bytes();
  Tensor again = Tensor::empty({wanted});
  CHECK(cached_before - storage_cached_bytes() == wanted_bytes);  // it came from the cache
  CHECK(storage_cached_bytes() <= bound);
}
