// Ctrl-C (SIGINT) and SIGTERM during a run: the step under way finishes, the checkpoint is
// saved (--save), the run says where it stopped and how to go on, and the program then ends as
// the signal ends a program (the status a shell shows as 130 or 143), so scripts see the stop.
//
//   StopSignals stop;                     // from here on a signal only sets a flag
//   ... after each step: if (stop.received()) stop.end_run(checkpoints, at);
//   int main(...) { try { ... } catch (const std::exception& e) { return report_failure("train_x", e); } }
#pragma once

#include <exception>
#include <string>

#include "train/checkpointer.h"

namespace glimpse {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the ones before
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that arrived (SIGINT, SIGTERM), 0 if none. In a data-parallel run, the one that
  // arrived at any process, so that all stop after the same step: every process calls it then.
  int received();

  // Saves `at` (if the run has --save), prints where the run stopped, then ends the process by
  // the signal received.
  [[noreturn]] void end_run(Checkpointer& checkpoints, const Position& at) const;

 private:
  int received_ = 0;
};

// Prints "program: what went wrong" and returns the exit status 1, for main's catch; in a
// data-parallel run it ends every process instead (the others would wait for this one forever).
int report_failure(const std::string& program, const std::exception& error);

// The exit status of a program whose output is what it printed (predict's JSON, evaluate's
// report): 0, or 1 after a message when standard output could not take it all (a full disk, a
// closed pipe), which would otherwise end with status 0 and an empty or cut file.
int finish_output(const std::string& program);

}  // namespace glimpse
