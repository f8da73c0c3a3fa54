#include "train/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "layers/batchnorm2d.h"

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

Tensor DataParallel::weigh(const Tensor& loss, const Batch& batch) const {
  if (!active()) return loss;
  const double n = static_cast<double>(batch.labels.size()), N = static_cast<double>(batch.step_images);
  return loss * static_cast<real>(processes() * n / N);
}

void DataParallel::average_gradients(const std::vector<Tensor>& params) {
  if (!active()) return;
  const auto started = std::chrono::steady_clock::now();
  constexpr int64_t bucket_floats = int64_t{1} << 20;  // 4 MB
  const real scale = 1 / static_cast<real>(processes());
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());  // the same on every process: one graph
  // walk the gradients in buckets: copy in, sum over the processes, copy back divided by R
  size_t first = 0;
  while (first < grads.size()) {
    size_t last = first;
    int64_t floats = 0;
    while (last < grads.size() && (floats == 0 || floats + grads[last].numel() <= bucket_floats))
      floats += grads[last++].numel();
    bucket_.resize(static_cast<size_t>(floats));
    float* at = bucket_.data();
    for (size_t i = first; i < last; i++) at = std::copy_n(grads[i].data(), grads[i].numel(), at);
    world_.sum(bucket_.data(), floats);
    const float* from = bucket_.data();
    for (size_t i = first; i < last; i++)
      for (real *g = grads[i].data(), *end = g + grads[i].numel(); g < end; g++) *g = *from++ * scale;
    first = last;
  }
  seconds_averaging_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void DataParallel::sum(double* values, int64_t count) {
  if (active()) world_.sum(values, count);
}

}  // namespace glimpse
