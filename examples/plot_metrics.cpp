// plot_metrics: draws a trainer's metrics CSV (--log) as an SVG of loss and accuracy per epoch.
//   build/plot_metrics runs/mnist.csv runs/mnist.svg ["title"]
#include <cstdio>
#include <string>

#include "train/plot.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: plot_metrics METRICS.csv OUT.svg [TITLE]\n");
    return 2;
  }
  try {
    glimpse::write_metrics_svg(glimpse::read_metrics_csv(argv[1]), argv[2], argc == 4 ? argv[3] : argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plot_metrics: %s\n", e.what());
    return 1;
  }
  return 0;
}
