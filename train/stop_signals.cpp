#include "train/stop_signals.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "distributed/communicator.h"

namespace glimpse {

namespace {

volatile std::sig_atomic_t signal_received = 0;
struct sigaction previous_interrupt, previous_terminate;

extern "C" void remember_signal(int signal) { signal_received = signal; }

}  // namespace

StopSignals::StopSignals() {
  signal_received = 0;
  struct sigaction action = {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_interrupt);
  sigaction(SIGTERM, &action, &previous_terminate);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &previous_interrupt, nullptr);
  sigaction(SIGTERM, &previous_terminate, nullptr);
}

int StopSignals::received() {
  Communicator& world = Communicator::world();
  received_ = world.size() == 1 ? signal_received : static_cast<int>(world.max(signal_received));
  return received_;
}

void StopSignals::end_run(Checkpointer& checkpoints, const Position& at) const {
  const int signal = received_;
  const char* name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "a signal";
  std::printf("\n");
  std::fflush(stdout);
  std::string saved = "nothing saved (no --save)";
  if (!checkpoints.save_path().empty()) {
    try {
      checkpoints.save(at);
      saved = "checkpoint written to " + checkpoints.save_path() + "; --resume " + checkpoints.save_path() +
              " goes on from here";
    } catch (const std::exception& e) {
      saved = std::string("the checkpoint could not be written: ") + e.what();
    }
  }
  if (Communicator::world().is_root())
    std::fprintf(stderr, "stopped by %s after step %lld (epoch %lld): %s\n", name, static_cast<long long>(at.step),
                 static_cast<long long>(at.epoch + 1), saved.c_str());
  std::fflush(stderr);
  // end as the signal would have ended the program: its default action, raised again
  std::signal(signal, SIG_DFL);
  std::raise(signal);
  std::_Exit(128 + signal);
}

int finish_output(const std::string& program) {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return 0;
  const int error = errno;
  std::fprintf(stderr, "%s: writing the output failed: %s\n", program.c_str(),
               error != 0 ? std::strerror(error) : "standard output is closed or full");
  return 1;
}

int report_failure(const std::string& program, const std::exception& error) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s\n", program.c_str(), error.what());
  std::fflush(stderr);
  Communicator& world = Communicator::world();
  if (world.size() > 1) world.abort(1);
  return 1;
}

}  // namespace glimpse
