#include "train/metrics_log.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/tensor.h"

namespace glimpse {

static const char* csv_header = "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

void append_metrics_csv(const std::string& path, const EpochMetrics& row) {
  bool is_new = !std::ifstream(path).good();
  FILE* file = std::fopen(path.c_str(), "a");
  if (!file) fail("metrics log: cannot open '" + path + "' for writing");
  if (is_new) std::fprintf(file, "%s\n", csv_header);
  std::fprintf(file, "%lld,%lld,%.6g,%.6f,%.6f,%.6f,%.6f,%.2f,%.1f\n", static_cast<long long>(row.epoch),
               static_cast<long long>(row.step), row.lr, row.train_loss, row.train_acc, row.test_loss,
               row.test_acc, row.seconds, row.images_per_s);
  std::fclose(file);
}

std::vector<EpochMetrics> read_metrics_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("metrics log: cannot read '" + path + "'");
  std::string line;
  if (!std::getline(in, line) || line != csv_header)
    fail("metrics log: '" + path + "' does not start with the header '" + csv_header + "'");
  std::vector<EpochMetrics> rows;
  int line_number = 1;
  while (std::getline(in, line)) {
    line_number++;
    if (line.empty()) continue;
    EpochMetrics r;
    long long epoch = 0, step = 0;
    int fields = std::sscanf(line.c_str(), "%lld,%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &epoch, &step, &r.lr,
                             &r.train_loss, &r.train_acc, &r.test_loss, &r.test_acc, &r.seconds, &r.images_per_s);
    if (fields != 9) fail("metrics log: '" + path + "' line " + std::to_string(line_number) + " is malformed");
    r.epoch = epoch;
    r.step = step;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace glimpse
