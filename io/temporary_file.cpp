#include "io/temporary_file.h"

#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <mutex>

namespace glimpse {

namespace {

constexpr std::array<int, 3> stopping_signals = {SIGINT, SIGTERM, SIGHUP};

// One temporary file at a time: the guard holds `guarded` for its whole life, so a second write in
// another thread waits (writes of whole files are rare, and a signal handler can read plain memory
// but take no lock).
std::mutex guarded;
char temporary_path[4096];
struct sigaction earlier_action[stopping_signals.size()];
bool replaced[stopping_signals.size()];

// unlink and raise are async-signal-safe. SA_RESETHAND has put the signal's default action back and
// SA_NODEFER lets the raised signal through at once: it ends the program as it would have.
extern "C" void remove_temporary_then_stop(int signal) {
  if (temporary_path[0] != '\0') ::unlink(temporary_path);
  ::raise(signal);
}

}  // namespace

RemovedOnSignal::RemovedOnSignal(const std::string& path) {
  guarded.lock();
  if (path.size() >= sizeof temporary_path) return;  // a path this long is not guarded
  std::memcpy(temporary_path, path.c_str(), path.size() + 1);
  struct sigaction action = {};
  action.sa_handler = remove_temporary_then_stop;
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < stopping_signals.size(); i++) {
    struct sigaction current = {};
    sigaction(stopping_signals[i], nullptr, &current);
    // the default action of these three ends the program; a handler or SIG_IGN is left as it is
    replaced[i] = !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_DFL;
    if (replaced[i]) sigaction(stopping_signals[i], &action, &earlier_action[i]);
  }
}

RemovedOnSignal::~RemovedOnSignal() {
  for (size_t i = 0; i < stopping_signals.size(); i++) {
    if (replaced[i]) sigaction(stopping_signals[i], &earlier_action[i], nullptr);
    replaced[i] = false;
  }
  temporary_path[0] = '\0';
  guarded.unlock();
}

}  // namespace glimpse
