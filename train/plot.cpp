#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "engine/tensor.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

// An axis whose ticks fall on round numbers: every `step` (1, 2 or 5 x 10^k) from low to high.
struct Axis {
  double low, high, step;
};

// The axis over [lo, hi] with at most about `parts` steps, widened to whole steps; no step is
// smaller than `least` (epochs are whole).
Axis round_axis(double lo, double hi, double least = 0, int parts = 5) {
  if (!(hi > lo)) hi = lo + std::max(least, 1.0);
  const double rough = (hi - lo) / parts, power = std::pow(10.0, std::floor(std::log10(rough)));
  double step = 10 * power;
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= rough) {
      step = m * power;
      break;
    }
  step = std::max(step, least);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

struct Panel {
  double left, top, width, height;  // pixels
  Axis x_axis, y_axis;              // epochs, values
  double x(double epoch) const { return left + width * (epoch - x_axis.low) / (x_axis.high - x_axis.low); }
  double y(double value) const { return top + height * (1 - (value - y_axis.low) / (y_axis.high - y_axis.low)); }
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

// A dot on every point, so that a run of one epoch (one point, no line) shows too: filled, or
// hollow for the dashed curve; smaller where there are many.
std::string markers(const Panel& panel, const std::vector<EpochMetrics>& rows,
                    const std::function<double(const EpochMetrics&)>& value, const char* colour, bool hollow) {
  const double radius = rows.size() <= 40 ? 3.5 : 2;
  std::string out;
  char buffer[160];
  for (const EpochMetrics& r : rows) {
    std::snprintf(buffer, sizeof buffer,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                  panel.x(static_cast<double>(r.epoch)), panel.y(value(r)), radius, hollow ? "white" : colour, colour);
    out += buffer;
  }
  return out;
}

// A series: its line and its dots.
std::string curve(const Panel& panel, const std::vector<EpochMetrics>& rows,
                  const std::function<double(const EpochMetrics&)>& value, const char* colour, bool dashed) {
  return polyline(panel, rows, value, colour, dashed) + markers(panel, rows, value, colour, dashed);
}

// s as SVG text: the characters XML gives a meaning replaced by their entities (a title or a
// run named "a&b" must not break the file)
std::string xml_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string text(double x, double y, const std::string& s, const char* anchor = "middle", int size = 12) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\">", x, y, size,
                anchor);
  return buffer + xml_escaped(s) + "</text>\n";
}

// A tick's value with as many decimals as its axis's step has (0.05 -> "0.35", 2 -> "4").
std::string tick_label(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, std::abs(v) < step / 2 ? 0.0 : v);
  return buffer;
}

std::string axes(const Panel& p, const std::string& label) {
  char frame[160];
  std::snprintf(frame, sizeof frame,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", p.left,
                p.top, p.width, p.height);
  std::string out = frame;
  const Axis &x = p.x_axis, &y = p.y_axis;
  for (int64_t i = 0; x.low + static_cast<double>(i) * x.step <= x.high + x.step / 2; i++) {
    const double e = x.low + static_cast<double>(i) * x.step;
    out += text(p.x(e), p.top + p.height + 16, tick_label(e, x.step), "middle", 11);
  }
  for (int64_t i = 0; y.low + static_cast<double>(i) * y.step <= y.high + y.step / 2; i++) {
    const double v = y.low + static_cast<double>(i) * y.step;
    out += text(p.left - 6, p.y(v) + 4, tick_label(v, y.step), "end", 11);
  }
  out += text(p.left + p.width / 2, p.top - 8, label, "middle", 14);
  out += text(p.left + p.width / 2, p.top + p.height + 34, "epoch", "middle", 12);
  return out;
}

// The loss and accuracy panels of the picture, their ranges fitted to every row given.
struct Panels {
  Panel loss, accuracy;
};
Panels fit_panels(const std::vector<const std::vector<EpochMetrics>*>& runs, bool with_train) {
  double epochs = 0, loss_max = 0, acc_min = 1;
  for (const std::vector<EpochMetrics>* rows : runs)
    for (const EpochMetrics& r : *rows) {
      epochs = std::max(epochs, static_cast<double>(r.epoch));
      loss_max = std::max({loss_max, r.test_loss, with_train ? r.train_loss : 0.0});
      acc_min = std::min({acc_min, r.test_acc, with_train ? r.train_acc : 1.0});
    }
  const Axis epoch_axis = round_axis(0, std::max(epochs, 1.0), 1);
  return {Panel{70, 60, 380, 260, epoch_axis, round_axis(0, loss_max > 0 ? loss_max : 1)},
          Panel{560, 60, 380, 260, epoch_axis, round_axis(std::min(acc_min, 0.9), 1)}};
}

std::string svg_start(const std::string& title, const Panels& panels, const char* loss_label,
                      const char* accuracy_label) {
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"980\" height=\"400\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += text(490, 24, title, "middle", 16);
  return svg + axes(panels.loss, loss_label) + axes(panels.accuracy, accuracy_label);
}

// A legend entry at x on the bottom line: a short stroke and a dot in the curve's style, then its name.
std::string legend_entry(double x, const std::string& name, const char* colour, bool dashed) {
  char line[400];
  std::snprintf(line, sizeof line,
                "<line x1=\"%.1f\" y1=\"385\" x2=\"%.1f\" y2=\"385\" stroke=\"%s\" stroke-width=\"2\"%s/>\n"
                "<circle cx=\"%.1f\" cy=\"385\" r=\"3.5\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                x, x + 30, colour, dashed ? " stroke-dasharray=\"6,4\"" : "", x + 15, dashed ? "white" : colour,
                colour);
  return line + text(x + 36, 389, name, "start");
}

void write_svg_file(const std::string& svg, const std::string& path) {  // an earlier plot stays whole on a full disk
  write_whole_file(path, reinterpret_cast<const uint8_t*>(svg.data()), svg.size(), "plot");
}

double test_loss(const EpochMetrics& r) { return r.test_loss; }
double test_acc(const EpochMetrics& r) { return r.test_acc; }

}  // namespace

void write_metrics_svg(const std::vector<EpochMetrics>& rows, const std::string& path, const std::string& title) {
  if (rows.empty()) fail("plot: no metrics to draw for '" + path + "'");
  const Panels p = fit_panels({&rows}, true);
  std::string svg = svg_start(title, p, "loss", "accuracy");
  auto train_loss = [](const EpochMetrics& r) { return r.train_loss; };
  auto train_acc = [](const EpochMetrics& r) { return r.train_acc; };
  svg += curve(p.loss, rows, train_loss, "#1f77b4", true) + curve(p.loss, rows, test_loss, "#d62728", false);
  svg += curve(p.accuracy, rows, train_acc, "#1f77b4", true) + curve(p.accuracy, rows, test_acc, "#d62728", false);
  svg += legend_entry(380, "train", "#1f77b4", true) + legend_entry(480, "test", "#d62728", false);
  write_svg_file(svg + "</svg>\n", path);
}

void write_comparison_svg(const std::vector<NamedRun>& runs, const std::string& path, const std::string& title) {
  static const char* const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                        "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  static_assert(sizeof colours / sizeof colours[0] == max_compared_runs, "a colour per run");
  if (runs.empty() || runs.size() > max_compared_runs)
    fail("plot: a comparison draws 1 to " + std::to_string(max_compared_runs) + " runs, got " +
         std::to_string(runs.size()));
  std::vector<const std::vector<EpochMetrics>*> all;
  for (const NamedRun& run : runs) {
    if (run.rows.empty()) fail("plot: run '" + run.name + "' has no metrics to draw");
    all.push_back(&run.rows);
  }
  const Panels p = fit_panels(all, false);
  std::string svg = svg_start(title, p, "test loss", "test accuracy");
  const double legend_width = 940.0 / static_cast<double>(runs.size());
  for (size_t k = 0; k < runs.size(); k++) {
    svg += curve(p.loss, runs[k].rows, test_loss, colours[k], false);
    svg += curve(p.accuracy, runs[k].rows, test_acc, colours[k], false);
    svg += legend_entry(20 + legend_width * static_cast<double>(k), runs[k].name, colours[k], false);
  }
  write_svg_file(svg + "</svg>\n", path);
}

}  // namespace glimpse
