// The per-epoch metrics of a run, as CSV: one header line, then one row per epoch.
//   epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s
// A resumed run appends to the same file (the header is written only once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

struct EpochMetrics {
  int64_t epoch = 0, step = 0;
  double lr = 0, train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, seconds = 0, images_per_s = 0;
};

void append_metrics_csv(const std::string& path, const EpochMetrics& row);
std::vector<EpochMetrics> read_metrics_csv(const std::string& path);  // Error on a malformed file

}  // namespace glimpse
