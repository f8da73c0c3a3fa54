// A file written aside before it is renamed into place ("<path>.tmp.<process id>", see
// write_file_atomically in io/dataset.h) must not outlive a program that Ctrl-C or SIGTERM ends
// half-way through writing it. While a RemovedOnSignal lives, SIGINT, SIGTERM and SIGHUP remove
// the file before they end the program, as they would have ended it anyway.
//
// Only signals that would end the program are touched: where a program has its own handler (a
// trainer's StopSignals, which lets the write finish) or ignores the signal, nothing changes.
//
//   {
//     RemovedOnSignal guard(tmp);    // from here a stopping signal removes tmp first
//     ... write tmp, rename it over path ...
//   }                                // the signals' earlier actions are back
#pragma once

#include <string>

namespace glimpse {

class RemovedOnSignal {
 public:
  explicit RemovedOnSignal(const std::string& path);
  ~RemovedOnSignal();
  RemovedOnSignal(const RemovedOnSignal&) = delete;
  RemovedOnSignal& operator=(const RemovedOnSignal&) = delete;
};

}  // namespace glimpse
