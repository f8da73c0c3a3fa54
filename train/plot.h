// Pictures of a run's metrics, with no Python needed: an SVG with two panels, loss and accuracy
// per epoch, train and test. Trainers draw it at the end of a run (--plot FILE.svg); the tool
// build/plot_metrics draws it from any metrics CSV.
#pragma once

#include <string>
#include <vector>

#include "train/metrics_log.h"

namespace glimpse {

void write_metrics_svg(const std::vector<EpochMetrics>& rows, const std::string& path, const std::string& title);

}  // namespace glimpse
