#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "engine/tensor.h"

namespace glimpse {

namespace {

struct Panel {
  double left, top, width, height;  // pixels
  double x_max, y_min, y_max;       // data range
  double x(double epoch) const { return left + width * epoch / x_max; }
  double y(double value) const { return top + height * (1 - (value - y_min) / (y_max - y_min)); }
};

std::string polyline(const Panel& panel, const std::vector<EpochMetrics>& rows,
                     const std::function<double(const EpochMetrics&)>& value, const char* colour, bool dashed) {
  std::string points;
  char buffer[64];
  for (const EpochMetrics& r : rows) {
    std::snprintf(buffer, sizeof buffer, "%.1f,%.1f ", panel.x(static_cast<double>(r.epoch)), panel.y(value(r)));
    points += buffer;
  }
  return std::string("<polyline fill=\"none\" stroke=\"") + colour + "\" stroke-width=\"2\"" +
         (dashed ? " stroke-dasharray=\"6,4\"" : "") + " points=\"" + points + "\"/>\n";
}

std::string text(double x, double y, const std::string& s, const char* anchor = "middle", int size = 12) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\">", x, y, size, anchor);
  return buffer + s + "</text>\n";
}

std::string number(double v, const char* format) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string axes(const Panel& p, const std::string& label, const char* tick_format) {
  char frame[160];
  std::snprintf(frame, sizeof frame, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n",
                p.left, p.top, p.width, p.height);
  std::string out = frame;
  for (int i = 0; i <= 4; i++) {  // 5 ticks on each axis
    double v = p.y_min + (p.y_max - p.y_min) * i / 4, e = p.x_max * i / 4;
    out += text(p.left - 6, p.y(v) + 4, number(v, tick_format), "end", 11);
    out += text(p.x(e), p.top + p.height + 16, number(e, "%.3g"), "middle", 11);
  }
  out += text(p.left + p.width / 2, p.top - 8, label, "middle", 14);
  out += text(p.left + p.width / 2, p.top + p.height + 34, "epoch", "middle", 12);
  return out;
}

}  // namespace

void write_metrics_svg(const std::vector<EpochMetrics>& rows, const std::string& path, const std::string& title) {
  if (rows.empty()) fail("plot: no metrics to draw for '" + path + "'");
  double epochs = 0, loss_max = 0;
  for (const EpochMetrics& r : rows) {
    epochs = std::max(epochs, static_cast<double>(r.epoch));
    loss_max = std::max({loss_max, r.train_loss, r.test_loss});
  }
  double acc_min = 1;
  for (const EpochMetrics& r : rows) acc_min = std::min({acc_min, r.train_acc, r.test_acc});
  acc_min = std::floor(acc_min * 10) / 10;
  if (acc_min >= 1) acc_min = 0.9;
  Panel loss{70, 60, 380, 260, std::max(epochs, 1.0), 0, loss_max > 0 ? loss_max * 1.05 : 1};
  Panel accuracy{560, 60, 380, 260, std::max(epochs, 1.0), acc_min, 1};

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"980\" height=\"400\" font-family=\"sans-serif\">\n"
                    "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += text(490, 24, title, "middle", 16);
  svg += axes(loss, "loss", "%.3g") + axes(accuracy, "accuracy", "%.2f");
  auto train_loss = [](const EpochMetrics& r) { return r.train_loss; };
  auto test_loss = [](const EpochMetrics& r) { return r.test_loss; };
  auto train_acc = [](const EpochMetrics& r) { return r.train_acc; };
  auto test_acc = [](const EpochMetrics& r) { return r.test_acc; };
  svg += polyline(loss, rows, train_loss, "#1f77b4", true) + polyline(loss, rows, test_loss, "#d62728", false);
  svg += polyline(accuracy, rows, train_acc, "#1f77b4", true) + polyline(accuracy, rows, test_acc, "#d62728", false);
  svg += "<line x1=\"380\" y1=\"385\" x2=\"410\" y2=\"385\" stroke=\"#1f77b4\" stroke-width=\"2\" stroke-dasharray=\"6,4\"/>\n";
  svg += text(416, 389, "train", "start");
  svg += "<line x1=\"480\" y1=\"385\" x2=\"510\" y2=\"385\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
  svg += text(516, 389, "test", "start");
  svg += "</svg>\n";

  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) fail("plot: cannot write '" + path + "'");
  std::fputs(svg.c_str(), file);
  std::fclose(file);
}

}  // namespace glimpse
