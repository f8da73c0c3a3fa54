// The per-epoch metrics of a run: the training batches' running loss and accuracy (EpochMeter),
// the epoch's summary line, and the log (MetricsLog): a CSV file with one header line, then one
// row per epoch, and at the end of the run its plot (--plot).
//   epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s
// A resumed run appends to the same file (the header is written only once).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

struct EpochMetrics {
  int64_t epoch = 0, step = 0;
  double lr = 0, train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, seconds = 0, images_per_s = 0;
};

// The loss and accuracy of an epoch's training batches so far, and its images per second.
class EpochMeter {
 public:
  EpochMeter();  // starts the epoch's clock
  void add(double loss, const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels);
  double loss() const;      // mean over the images seen
  double accuracy() const;  // fraction of them predicted right
  int64_t images() const { return images_; }
  double seconds() const;  // since construction
  double images_per_second() const;
  // Adds the other processes' images to these (a data-parallel run): `sum` sums in place over them.
  template <typename Sum>
  void add_other_processes(const Sum& sum) {
    double totals[3] = {loss_sum_, static_cast<double>(correct_), static_cast<double>(images_)};
    sum(totals, 3);
    loss_sum_ = totals[0], correct_ = static_cast<int64_t>(totals[1]), images_ = static_cast<int64_t>(totals[2]);
  }

 private:
  std::chrono::steady_clock::time_point started_;
  double loss_sum_ = 0;
  int64_t correct_ = 0, images_ = 0;
};

// "epoch 3: train loss 0.0412 acc 98.80% | test loss 0.0390 acc 98.81%NOTE | 12.3 s, 4876 img/s";
// "(partial)" after the number when the epoch was cut short (--max-steps).
void print_epoch_line(const EpochMetrics& row, bool complete, const std::string& note = "");

// --log and --plot: add() appends a row to the CSV file (none: only kept), draw() writes the SVG.
class MetricsLog {
 public:
  MetricsLog(std::string csv_path, std::string svg_path, std::string title);
  void add(const EpochMetrics& row);
  void draw() const;  // every epoch of the CSV (a resumed run's earlier ones too), else this run's

 private:
  std::string csv_path_, svg_path_, title_;
  std::vector<EpochMetrics> rows_;
};

// Appends one row (and the header to a new file); a failed write (a full disk) is an Error that
// leaves the file as it was, with no half row. A file that holds something else is refused.
void append_metrics_csv(const std::string& path, const EpochMetrics& row);
// Why rows cannot be appended to `path` ("" if they can): it exists, is not empty, and does not
// start with the log's header (a user's notes, a checkpoint).
std::string metrics_log_problem(const std::string& path);
std::vector<EpochMetrics> read_metrics_csv(const std::string& path);  // Error on a malformed file

}  // namespace glimpse
