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
// another thread waits (writes of whole files are rare). The handler takes no lock: it reads
// temporary_path, which is written only while no handler of ours is installed (before sigaction
// installs it, after sigaction has put the earlier actions back).
std::mutex guarded;
char temporary_path[4096];
struct sigaction earlier_action[stopping_signals.size()];
bool replaced[stopping_signals.size()];

// unlink, sigaction and raise are async-signal-safe. The raised signal waits until the handler
// returns (the three are blocked while it runs), then its default action ends the program as it
// would have. A second signal that reaches another thread meanwhile finds this handler again, or,
// once the file is gone, the default action.
extern "C" void remove_temporary_then_stop(int signal) {
  if (temporary_path[0] != '\0') ::unlink(temporary_path);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal, &default_action, nullptr);
  ::raise(signal);
}

}  // namespace

RemovedOnSignal::RemovedOnSignal(const std::string& path) {
  guarded.lock();
  if (path.size() >= sizeof temporary_path) return;  // a path this long is not guarded
  std::memcpy(temporary_path, path.c_str(), path.size() + 1);
  struct sigaction action = {};
  action.sa_handler = remove_temporary_then_stop;
  sigemptyset(&action.sa_mask);
  for (int signal : stopping_signals) sigaddset(&action.sa_mask, signal);
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
    struct sigaction current = {};
    sigaction(stopping_signals[i], nullptr, &current);
    // put the earlier action back, unless someone installed a handler of their own meanwhile
    if (replaced[i] && current.sa_handler == remove_temporary_then_stop)
      sigaction(stopping_signals[i], &earlier_action[i], nullptr);
    replaced[i] = false;
  }
  temporary_path[0] = '\0';
  guarded.unlock();
}

}  // namespace glimpse
