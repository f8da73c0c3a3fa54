#include "engine/parallel.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <tbb/global_control.h>

#include "engine/blas.h"
#include "engine/tensor.h"

namespace glimpse {

namespace {
std::unique_ptr<tbb::global_control> thread_limit;
std::atomic<int> current_threads{0};

int threads_from_environment() {
  const char* text = std::getenv("GLIMPSE_NUM_THREADS");
  if (!text || !*text) return 0;
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  if (*end != '\0' || n < 0 || n > 1024)
    fail("GLIMPSE_NUM_THREADS must be a whole number from 0 to 1024, got '" + std::string(text) + "'");
  return static_cast<int>(n);
}
}  // namespace

void set_num_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  thread_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, n);
  blas_use_one_thread();  // TBB splits the GEMMs instead (parallel.h)
  current_threads = n;
}

int num_threads() {
  static std::once_flag first_use;  // the default is applied once, even if two threads ask at once
  std::call_once(first_use, [] {
    if (current_threads == 0) set_num_threads(threads_from_environment());
  });
  return current_threads;
}

}  // namespace glimpse
