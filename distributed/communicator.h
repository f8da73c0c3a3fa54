// The processes of one data-parallel training run, and the few collective operations the run
// needs (MPI's, from Open MPI: MPI_Allreduce, MPI_Bcast, MPI_Abort).
//
// A program started by `mpirun -np R` is one of R processes ("ranks" 0..R-1) running the same
// code; they meet in the collectives, which every rank must call in the same order. A program
// started on its own is the only process (rank 0 of 1), and every collective is the identity;
// so is a build without MPI (CMake found none), where `mpirun` would start R independent runs.
//
//   Communicator& world = Communicator::world();
//   world.sum(gradient, n);  // every rank now holds the sum of every rank's gradient
#pragma once

#include <cstdint>

namespace glimpse {

class Communicator {
 public:
  // The run's processes. Joins MPI on the first call when the program was started by mpirun
  // (and the build has MPI); leaves it at exit.
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }  // the rank that prints and writes files

  // In place: each element becomes its sum over the ranks.
  void sum(float* values, int64_t count);
  void sum(double* values, int64_t count);
  // The same without waiting (MPI_Iallreduce): starts the sum and returns; `values` hold the sum,
  // and may be touched again, only after wait_all(). Every rank must start its sums in the same
  // order. Between a start and wait_all the program may compute, and call the other collectives.
  void start_sum(float* values, int64_t count);
  void wait_all();  // until every sum started has arrived
  // The larger over the ranks.
  int64_t max(int64_t value);
  // `root`'s values to every rank.
  void broadcast(float* values, int64_t count, int root = 0);
  // Ends every rank of the run at once (a rank that failed must not leave the others waiting in
  // a collective). Alone, std::exit(status).
  [[noreturn]] void abort(int status);

  static bool built_with_mpi();

 private:
  Communicator();
  int rank_ = 0, size_ = 1;
};

}  // namespace glimpse
