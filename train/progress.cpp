#include "train/progress.h"

#include <unistd.h>
#include <cmath>
#include <cstdio>

namespace glimpse {

Progress::Progress(bool quiet, double period_seconds)
    : quiet_(quiet),
      terminal_(isatty(fileno(stdout)) != 0),
      period_(period_seconds),
      last_print_(std::chrono::steady_clock::now()),
      start_(last_print_) {}

std::string Progress::format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  long s = std::lround(seconds);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

void Progress::update(int64_t epoch, int64_t epochs, int64_t step, int64_t total_steps, double loss, double accuracy,
                      double images_per_second) {
  if (quiet_) return;
  auto now = std::chrono::steady_clock::now();
  if (first_step_ < 0) {
    first_step_ = step;
    start_ = now;
  }
  double since_print = std::chrono::duration<double>(now - last_print_).count();
  bool last = step == total_steps;
  if (!last && since_print < (terminal_ ? 0.25 : period_)) return;
  last_print_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double done = static_cast<double>(step - first_step_);
  double eta = done > 0 ? elapsed / done * static_cast<double>(total_steps - step) : -1;
  char line[256];
  std::snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  loss %.4f  acc %5.1f%%  %6.0f img/s  ETA %s",
                static_cast<long long>(epoch), static_cast<long long>(epochs), static_cast<long long>(step),
                static_cast<long long>(total_steps), loss, 100 * accuracy, images_per_second,
                format_duration(eta).c_str());
  if (terminal_) {
    std::printf("\r%s\033[K", line);
    line_open_ = true;
  } else {
    std::printf("%s\n", line);
  }
  std::fflush(stdout);
}

void Progress::finish_line() {
  if (!line_open_) return;
  std::printf("\n");
  std::fflush(stdout);
  line_open_ = false;
}

}  // namespace glimpse
