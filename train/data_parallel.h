// Data-parallel training: `mpirun -np R build/train_cifar ...` trains one model on R processes
// (distributed/communicator.h), and ends where one process training on the whole batch ends.
//
// Every step, each process takes its share of the step's batch (--batch stays the whole step's;
// the order and augmentations are the unsharded loader's), runs forward and backward on it, and
// the processes average their gradients (MPI_Iallreduce), so that each applies the same update to
// the same weights. The averaging overlaps the backward: the gradients go in buckets of about
// 4 MB, the last layers' first (the order the backward completes them in), and a bucket's sum
// starts once its gradients and those of every earlier bucket are complete, while the backward
// goes on with the layers before. The buckets start in one fixed order on every process, as MPI requires. Batch
// normalisation is synchronised: its statistics are the whole batch's, summed across the processes, as one process
// would compute them. Only rank 0 prints and writes files (checkpoints, logs, pictures); the others' standard output
// goes to /dev/null.
//
//   DataParallel parallel(*model);                    // alone: every call below is the identity
//   DataLoader train_loader(train_set, parallel.share(options));
//   ... parallel.start_step(*model, batch, step_seed(seed, step));  logits = model->forward(...)
//   ... descend(*optimizer, parallel.weigh(loss, batch), clip_norm, &parallel);
//
// One process's loss is the mean over its share of n_k images; the step's loss is the mean over
// all N = sum_k n_k. Each process back-propagates its loss times R n_k / N (weigh), so that the
// average of the R gradients is the gradient of the step's mean loss, also when the shares differ
// by an image; synchronised BN's backward sums what those weighted losses give.
//
// Dropout draws the mask of the step's whole batch from (seed, step), each process keeping its
// rows of it (start_step): the masks one process would draw. What differs from one process: RAM's
// sampled locations are drawn from (seed, step) on every process alike, so the shares of a batch
// get the same draws rather than the draws of their rows in one process's batch.
#pragma once

#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "io/data_loader.h"
#include "layers/module.h"

namespace glimpse {

class DataParallel {
 public:
  // Joins the run's processes; synchronises the model's batch normalisation (unless
  // per_process_batch_norm) and gives every process rank 0's weights.
  explicit DataParallel(Module& model, bool per_process_batch_norm = false);
  // One process, whatever started the program: every call the identity.
  static DataParallel none() { return DataParallel(); }

  bool active() const { return active_; }
  int processes() const { return active_ ? world_.size() : 1; }
  bool is_root() const { return !active_ || world_.is_root(); }

  // `options` cut to this process's share of every batch.
  LoaderOptions share(LoaderOptions options) const;
  // Before a step's forward: the model's random draws seeded from `seed` (Module::reseed), and,
  // under mpirun, every dropout layer told where this process's rows sit in the step's batch.
  void start_step(Module& model, const Batch& batch, uint64_t seed) const;
  // The loss this process back-propagates (see above): loss * R n_k / N.
  Tensor weigh(const Tensor& loss, const Batch& batch) const;
  // backward(loss), after which every parameter's gradient is the average over the processes
  // (alone: backward(loss)).
  void backward_and_average(const Tensor& loss, const std::vector<Tensor>& params);
  // Sums `values` over the processes in place (e.g. the epoch's training loss and accuracy).
  void sum(double* values, int64_t count);
  // An output file's path on rank 0, none elsewhere: only rank 0 writes.
  std::string output(const std::string& path) const { return is_root() ? path : std::string(); }

  // The time the averaging added to the steps: copying the gradients and waiting for the sums
  // that had not arrived when the backward ended.
  double seconds_averaging() const { return seconds_averaging_; }

 private:
  DataParallel() : world_(Communicator::world()), active_(false) {}
  Communicator& world_;
  bool active_;
  // A run of parameters, in reverse registration order, whose gradients are summed in one go.
  struct Bucket {
    std::vector<Tensor> params;
    int unfinished = 0;         // gradients the backward has still to complete
    std::vector<float> values;  // the gradients, one after another, while they are summed
  };
  std::vector<Bucket> plan_buckets(const std::vector<Tensor>& params) const;
  void start(Bucket& bucket);
  void finish(Bucket& bucket) const;

  double seconds_averaging_ = 0;
};

}  // namespace glimpse
