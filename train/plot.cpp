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

std::string number(double v, const char* format) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string axes(const Panel& p, const std::string& label, const char* tick_format) {
  char frame[160];
  std::snprintf(frame, sizeof frame,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", p.left,
                p.top, p.width, p.height);
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
  acc_min = std::floor(acc_min * 10) / 10;
  if (acc_min >= 1) acc_min = 0.9;
  return {Panel{70, 60, 380, 260, std::max(epochs, 1.0), 0, loss_max > 0 ? loss_max * 1.05 : 1},
          Panel{560, 60, 380, 260, std::max(epochs, 1.0), acc_min, 1}};
}

std::string svg_start(const std::string& title, const Panels& panels, const char* loss_label,
                      const char* accuracy_label) {
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"980\" height=\"400\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += text(490, 24, title, "middle", 16);
  return svg + axes(panels.loss, loss_label, "%.3g") + axes(panels.accuracy, accuracy_label, "%.2f");
}

// A legend entry at x on the bottom line: a short stroke in the curve's style, then its name.
std::string legend_entry(double x, const std::string& name, const char* colour, bool dashed) {
  char line[200];
  std::snprintf(line, sizeof line,
                "<line x1=\"%.1f\" y1=\"385\" x2=\"%.1f\" y2=\"385\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", x, x + 30,
                colour, dashed ? " stroke-dasharray=\"6,4\"" : "");
  return line + text(x + 36, 389, name, "start");
}

void write_svg_file(const std::string& svg, const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) fail("plot: cannot write '" + path + "'");
  const bool written = std::fputs(svg.c_str(), file) >= 0;
  if (std::fclose(file) != 0 || !written) fail("plot: writing '" + path + "' failed");
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
  svg += polyline(p.loss, rows, train_loss, "#1f77b4", true) + polyline(p.loss, rows, test_loss, "#d62728", false);
  svg +=
      polyline(p.accuracy, rows, train_acc, "#1f77b4", true) + polyline(p.accuracy, rows, test_acc, "#d62728", false);
  svg += legend_entry(380, "train", "#1f77b4", true) + legend_entry(480, "test", "#d62728", false);
  write_svg_file(svg + "</svg>\n", path);
}

void write_comparison_svg(const std::vector<NamedRun>& runs, const std::string& path, const std::string& title) {
  static const char* const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                        "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  constexpr size_t most_runs = sizeof colours / sizeof colours[0];
  if (runs.empty() || runs.size() > most_runs)
    fail("plot: a comparison draws 1 to " + std::to_string(most_runs) + " runs, got " + std::to_string(runs.size()));
  std::vector<const std::vector<EpochMetrics>*> all;
  for (const NamedRun& run : runs) {
    if (run.rows.empty()) fail("plot: run '" + run.name + "' has no metrics to draw");
    all.push_back(&run.rows);
  }
  const Panels p = fit_panels(all, false);
  std::string svg = svg_start(title, p, "test loss", "test accuracy");
  const double legend_width = 940.0 / static_cast<double>(runs.size());
  for (size_t k = 0; k < runs.size(); k++) {
    svg += polyline(p.loss, runs[k].rows, test_loss, colours[k], false);
    svg += polyline(p.accuracy, runs[k].rows, test_acc, colours[k], false);
    svg += legend_entry(20 + legend_width * static_cast<double>(k), runs[k].name, colours[k], false);
  }
  write_svg_file(svg + "</svg>\n", path);
}

}  // namespace glimpse
