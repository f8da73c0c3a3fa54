#include "train/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "engine/autograd.h"
#include "layers/batchnorm2d.h"
#include "layers/dropout.h"

namespace glimpse {

// Every BatchNorm2d of the tree sums its statistics over the processes.
static void synchronise_batch_norm(Module& module, const ReplicaSum& across) {
  if (auto* bn = dynamic_cast<BatchNorm2d*>(&module)) bn->across_replicas = across;
  for (const auto& [name, child] : module.children()) synchronise_batch_norm(*child, across);
}

DataParallel::DataParallel(Module& model, bool per_process_batch_norm)
    : world_(Communicator::world()), active_(world_.size() > 1) {
  if (!active()) return;
  if (!is_root() && !std::freopen("/dev/null", "w", stdout))
    fail("DataParallel: cannot silence rank " + std::to_string(world_.rank()) + "'s output");
  if (!per_process_batch_norm)
    synchronise_batch_norm(model, [this](double* values, int64_t count) { world_.sum(values, count); });
  for (auto& [name, tensor] : model.state()) world_.broadcast(tensor.data(), tensor.numel());
}

LoaderOptions DataParallel::share(LoaderOptions options) const {
  if (!active()) return options;
  options.shard_index = world_.rank();
  options.shard_count = world_.size();
  return options;
}

// Every dropout layer of the tree draws `rows` of the whole batch's mask (skipping the rows before).
static void share_dropout_rows(Module& module, const RowsOfBatch& rows) {
  if (auto* d = dynamic_cast<Dropout*>(&module)) d->rows = rows;  // Dropout2d too
  for (const auto& [name, child] : module.children()) share_dropout_rows(*child, rows);
}

void DataParallel::start_step(Module& model, const Batch& batch, uint64_t seed) const {
  model.reseed(seed);
  if (active()) share_dropout_rows(model, {.first = batch.first_row, .total = batch.step_images});
}

Tensor DataParallel::weigh(const Tensor& loss, const Batch& batch) const {
  if (!active()) return loss;
  const double n = static_cast<double>(batch.labels.size()), N = static_cast<double>(batch.step_images);
  return loss * static_cast<real>(processes() * n / N);
}

std::vector<DataParallel::Bucket> DataParallel::plan_buckets(const std::vector<Tensor>& params) const {
  constexpr int64_t bucket_floats = int64_t{1} << 20;  // 4 MB
  std::vector<Bucket> buckets;
  int64_t floats = 0;
  for (auto p = params.rbegin(); p != params.rend(); ++p) {  // the backward reaches the last layers first
    if (buckets.empty() || (floats > 0 && floats + p->numel() > bucket_floats)) {
      buckets.emplace_back();
      floats = 0;
    }
    buckets.back().params.push_back(*p);
    buckets.back().unfinished++;
    floats += p->numel();
  }
  return buckets;
}

// Copies the bucket's gradients in (zeros for a parameter that got none) and starts their sum.
void DataParallel::start(Bucket& bucket) {
  int64_t floats = 0;
  for (const Tensor& p : bucket.params) floats += p.numel();
  bucket.values.assign(static_cast<size_t>(floats), 0);
  float* at = bucket.values.data();
  for (const Tensor& p : bucket.params) {
    if (p.grad().defined()) std::copy_n(p.grad().data(), p.numel(), at);
    at += p.numel();
  }
  world_.start_sum(bucket.values.data(), floats);
}

// The sums, divided by R, back into the gradients (a parameter without one keeps none: the graph
// is the same on every process, so none of them has one).
void DataParallel::finish(Bucket& bucket) const {
  const real scale = 1 / static_cast<real>(processes());
  const float* from = bucket.values.data();
  for (const Tensor& p : bucket.params) {
    if (Tensor grad = p.grad(); grad.defined())
      for (int64_t i = 0; i < p.numel(); i++) grad.data()[i] = from[i] * scale;
    from += p.numel();
  }
}

void DataParallel::backward_and_average(const Tensor& loss, const std::vector<Tensor>& params) {
  if (!active()) return backward(loss);
  std::vector<Bucket> buckets = plan_buckets(params);
  std::unordered_map<const AutogradMeta*, size_t> bucket_of;
  for (size_t b = 0; b < buckets.size(); b++)
    for (const Tensor& p : buckets[b].params) bucket_of[p.impl()->autograd.get()] = b;
  size_t started = 0;  // buckets start in order: 0, 1, ..., each once its gradients are complete
  double seconds = 0;
  auto timed = [&seconds](auto&& work) {
    const auto begin = std::chrono::steady_clock::now();
    work();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  };
  backward(loss, false, [&](const AutogradMeta& leaf) {
    auto found = bucket_of.find(&leaf);
    if (found == bucket_of.end() || --buckets[found->second].unfinished > 0) return;
    timed([&] {
      while (started < buckets.size() && buckets[started].unfinished == 0) start(buckets[started++]);
    });
  });
  timed([&] {
    while (started < buckets.size()) start(buckets[started++]);  // those a parameter without a gradient held back
    world_.wait_all();
    for (Bucket& bucket : buckets) finish(bucket);
  });
  seconds_averaging_ += seconds;
}

void DataParallel::sum(double* values, int64_t count) {
  if (active()) world_.sum(values, count);
}

}  // namespace glimpse
