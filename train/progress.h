// The live progress line of a training run:
//   epoch 2/3  step 1210/1407  loss 0.0412  acc 98.8%  5120 img/s  ETA 0:38
// On a terminal it rewrites one line in place; when the output is a file or a pipe it prints a
// plain line every `period_seconds` instead, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace glimpse {

class Progress {
 public:
  Progress(bool quiet, double period_seconds = 10);
  ~Progress() { finish_line(); }  // an error leaving the run mid-line is printed on a line of its own
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Called after every step; prints when it is time to.
  void update(int64_t epoch, int64_t epochs, int64_t step, int64_t total_steps, double loss, double accuracy,
              double images_per_second);
  void finish_line();                                  // ends an in-place line before other output
  static std::string format_duration(double seconds);  // "1:02:03" or "2:03"

 private:
  bool quiet_, terminal_;
  double period_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point last_print_;
  std::chrono::steady_clock::time_point start_;
  int64_t first_step_ = -1;
};

}  // namespace glimpse
