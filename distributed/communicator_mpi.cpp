// Communicator over MPI (the build found Open MPI). See communicator.h.
#include "distributed/communicator.h"

#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

// Started by mpirun (Open MPI's or another's launcher sets one of these), or on its own?
static bool started_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

static void leave_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

static void check(int status, const char* what) {
  if (status != MPI_SUCCESS) fail(std::string("MPI: ") + what + " failed");
}

Communicator::Communicator() {
  if (!started_by_mpirun()) return;
  int provided = 0;
  // only the main thread calls MPI; the engine's worker threads never do
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  std::atexit(leave_mpi);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Communicator& Communicator::world() {
  static Communicator world;
  return world;
}

bool Communicator::built_with_mpi() { return true; }

// MPI counts in int: long buffers go in pieces of at most 2^30 elements.
template <typename T>
static void sum_in_pieces(T* values, int64_t count, MPI_Datatype type) {
  constexpr int64_t piece = int64_t{1} << 30;
  for (int64_t at = 0; at < count; at += piece) {
    const int n = static_cast<int>(std::min(piece, count - at));
    check(MPI_Allreduce(MPI_IN_PLACE, values + at, n, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
}

void Communicator::sum(float* values, int64_t count) {
  if (size_ > 1) sum_in_pieces(values, count, MPI_FLOAT);
}

void Communicator::sum(double* values, int64_t count) {
  if (size_ > 1) sum_in_pieces(values, count, MPI_DOUBLE);
}

// The sums started and not yet waited for. MPI progresses a nonblocking collective only inside
// MPI calls (Open MPI has no progress thread by default): each start also tests the earlier ones.
static std::vector<MPI_Request> pending;

void Communicator::start_sum(float* values, int64_t count) {
  if (size_ == 1) return;
  constexpr int64_t piece = int64_t{1} << 30;
  for (int64_t at = 0; at < count; at += piece) {
    const int n = static_cast<int>(std::min(piece, count - at));
    pending.emplace_back();
    check(MPI_Iallreduce(MPI_IN_PLACE, values + at, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &pending.back()),
          "MPI_Iallreduce");
  }
  int all_done = 0;
  check(MPI_Testall(static_cast<int>(pending.size()), pending.data(), &all_done, MPI_STATUSES_IGNORE), "MPI_Testall");
}

void Communicator::wait_all() {
  if (pending.empty()) return;
  check(MPI_Waitall(static_cast<int>(pending.size()), pending.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  pending.clear();
}

int64_t Communicator::max(int64_t value) {
  if (size_ == 1) return value;
  long long in = value, out = 0;
  check(MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

void Communicator::broadcast(float* values, int64_t count, int root) {
  if (size_ == 1) return;
  constexpr int64_t piece = int64_t{1} << 30;
  for (int64_t at = 0; at < count; at += piece) {
    const int n = static_cast<int>(std::min(piece, count - at));
    check(MPI_Bcast(values + at, n, MPI_FLOAT, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
}

void Communicator::abort(int status) {
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

}  // namespace glimpse
