// Pictures of a run's metrics, with no Python needed: an SVG with two panels, loss and accuracy
// per epoch, train and test (or the test curves of several runs). Trainers draw it at the end of a run (--plot
// FILE.svg); the tool build/plot_metrics draws it from any metrics CSV. Every epoch is a dot on
// its curve (a run of one epoch is a dot alone), and the axes' ticks fall on round numbers
// (steps of 1, 2 or 5 x 10^k).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "train/metrics_log.h"

namespace glimpse {

void write_metrics_svg(const std::vector<EpochMetrics>& rows, const std::string& path, const std::string& title);

// Several runs side by side (e.g. resnet20 against se_resnet20 under the same recipe): the same
// two panels with the test loss and test accuracy of each run, a colour per run, named in a
// legend. At most max_compared_runs runs.
constexpr size_t max_compared_runs = 8;
struct NamedRun {
  std::string name;
  std::vector<EpochMetrics> rows;
};
void write_comparison_svg(const std::vector<NamedRun>& runs, const std::string& path, const std::string& title);

}  // namespace glimpse
