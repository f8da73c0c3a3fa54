// Ctrl-C (SIGINT) and SIGTERM during a run: the step under way finishes, the checkpoint is
// saved (--save), the run says where it stopped and how to go on, and the program then ends as
// the signal ends a program (the status a shell shows as 130 or 143), so scripts see the stop.
//
//   StopSignals stop;                     // from here on a signal only sets a flag
//   ... after each step: if (stop.received()) stop.end_run(checkpoints, at);
#pragma once

#include "train/checkpointer.h"

namespace glimpse {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the ones before
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  int received() const;  // the signal that arrived (SIGINT, SIGTERM), 0 if none

  // Saves `at` (if the run has --save), prints where the run stopped, then ends the process by
  // the signal received.
  [[noreturn]] void end_run(Checkpointer& checkpoints, const Position& at) const;
};

}  // namespace glimpse
