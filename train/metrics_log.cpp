#include "train/metrics_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/tensor.h"
#include "train/plot.h"

namespace glimpse {

static const char* csv_header = "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s";

std::string metrics_log_problem(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return "";  // new, or a device or pipe (/dev/stdout)
  std::ifstream in(path, std::ios::binary);
  const std::string header(csv_header);
  std::string first(header.size() + 1, '\0');  // no more than the header and its newline: a huge file is not read
  in.read(first.data(), static_cast<std::streamsize>(first.size()));
  first.resize(static_cast<size_t>(in.gcount()));
  if (first.empty() || first == header || first == header + "\n") return "";  // empty, or a metrics log
  return "holds something else than a metrics log (its first line is not the header '" + header +
         "'); a run appends its rows to a log, so give a new file or an earlier run's log";
}

void append_metrics_csv(const std::string& path, const EpochMetrics& row) {
  if (const std::string problem = metrics_log_problem(path); !problem.empty())
    fail("metrics log: '" + path + "' " + problem);
  char line[256];
  std::snprintf(line, sizeof line, "%lld,%lld,%.6g,%.6f,%.6f,%.6f,%.6f,%.2f,%.1f\n", static_cast<long long>(row.epoch),
                static_cast<long long>(row.step), row.lr, row.train_loss, row.train_acc, row.test_loss, row.test_acc,
                row.seconds, row.images_per_s);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) fail("metrics log: cannot open '" + path + "' for writing: " + std::strerror(errno));
  struct stat before {};
  const bool regular = ::fstat(fd, &before) == 0 && S_ISREG(before.st_mode);
  const std::string text = (regular && before.st_size == 0 ? std::string(csv_header) + "\n" : "") + line;
  size_t done = 0;
  while (done < text.size()) {  // one write() at a time, no stdio buffer left to flush after a failure
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const int error = done == text.size() ? 0 : (errno != 0 ? errno : EIO);
  if (error != 0 && regular) {  // a full disk: no half row left behind
    const int kept = ::ftruncate(fd, before.st_size);
    (void)kept;  // the write's error is the one to report
  }
  if (::close(fd) != 0 && error == 0) fail("metrics log: writing '" + path + "' failed: " + std::strerror(errno));
  if (error != 0) fail("metrics log: writing '" + path + "' failed: " + std::strerror(error));
}

EpochMeter::EpochMeter() : started_(std::chrono::steady_clock::now()) {}

void EpochMeter::add(double loss, const std::vector<int64_t>& predicted, const std::vector<int64_t>& labels) {
  const int64_t n = static_cast<int64_t>(labels.size());
  for (int64_t i = 0; i < n; i++) correct_ += predicted[static_cast<size_t>(i)] == labels[static_cast<size_t>(i)];
  loss_sum_ += loss * static_cast<double>(n);
  images_ += n;
}

double EpochMeter::loss() const { return images_ ? loss_sum_ / static_cast<double>(images_) : 0; }
double EpochMeter::accuracy() const {
  return images_ ? static_cast<double>(correct_) / static_cast<double>(images_) : 0;
}
double EpochMeter::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}
double EpochMeter::images_per_second() const { return static_cast<double>(images_) / seconds(); }

void print_epoch_line(const EpochMetrics& row, bool complete, const std::string& note) {
  std::printf("epoch %lld%s: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%%%s | %.1f s, %.0f img/s\n",
              static_cast<long long>(row.epoch), complete ? "" : " (partial)", row.train_loss, 100 * row.train_acc,
              row.test_loss, 100 * row.test_acc, note.c_str(), row.seconds, row.images_per_s);
  std::fflush(stdout);
}

MetricsLog::MetricsLog(std::string csv_path, std::string svg_path, std::string title)
    : csv_path_(std::move(csv_path)), svg_path_(std::move(svg_path)), title_(std::move(title)) {}

void MetricsLog::add(const EpochMetrics& row) {
  if (!csv_path_.empty()) append_metrics_csv(csv_path_, row);
  rows_.push_back(row);
}

void MetricsLog::draw() const {
  if (svg_path_.empty()) return;
  if (!csv_path_.empty() && std::ifstream(csv_path_).good())
    write_metrics_svg(read_metrics_csv(csv_path_), svg_path_, title_);  // with a resumed run's earlier epochs
  else if (!rows_.empty())
    write_metrics_svg(rows_, svg_path_, title_);
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
    int fields = std::sscanf(line.c_str(), "%lld,%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &epoch, &step, &r.lr, &r.train_loss,
                             &r.train_acc, &r.test_loss, &r.test_acc, &r.seconds, &r.images_per_s);
    if (fields != 9) fail("metrics log: '" + path + "' line " + std::to_string(line_number) + " is malformed");
    r.epoch = epoch;
    r.step = step;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace glimpse
