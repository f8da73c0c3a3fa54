// plot_metrics: draws trainers' metrics CSVs (--log) as SVG pictures of loss and accuracy per epoch.
//   build/plot_metrics runs/mnist.csv runs/mnist.svg ["title"]           one run: train and test
//   build/plot_metrics --compare runs/cifar.svg runs/resnet20.csv runs/se_resnet20.csv ...
//                                                  several runs: their test curves, named by file
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/dataset.h"
#include "train/flags.h"
#include "train/plot.h"

constexpr const char* kUsage =
    "usage: plot_metrics METRICS.csv OUT.svg [TITLE]             one run: train and test curves\n"
    "       plot_metrics --compare OUT.svg A.csv B.csv ...   several runs' test curves (at most 8, named by file)\n"
    "  the CSVs are the trainers' --log files; OUT.svg shows loss and accuracy per epoch\n";

static int usage_error(const std::string& message) {
  if (!message.empty()) std::fprintf(stderr, "plot_metrics: %s\n", message.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

int main(int argc, char** argv) {
  // --help prints the usage (status 0); a first argument that is a flag other than --compare is
  // a usage error (the title, free text, may start with anything)
  for (int i = 1; i < argc; i++) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (std::string(argv[i]) == "--version") {
      std::printf("%s\n", glimpse::version_line("plot_metrics").c_str());
      return 0;
    }
  }
  const bool compare = argc >= 2 && std::string(argv[1]) == "--compare";
  if (argc >= 2 && !compare && std::string(argv[1]).starts_with("--"))
    return usage_error("unknown flag '" + std::string(argv[1]) + "'");
  if (compare ? argc < 4 : argc < 3 || argc > 4) return usage_error("");
  if (compare && static_cast<size_t>(argc - 3) > glimpse::max_compared_runs)
    return usage_error("--compare draws at most " + std::to_string(glimpse::max_compared_runs) + " runs, got " +
                       std::to_string(argc - 3));
  // OUT.svg is argv[2] either way; over one of the CSVs it draws, it would replace a run's log
  const std::string out = argv[2];
  for (int i = compare ? 3 : 1; i < (compare ? argc : 2); i++)
    if (glimpse::same_file(argv[i], out))
      return usage_error(out + " is also the metrics CSV " + argv[i] + ", which it draws; write the picture elsewhere");
  try {
    if (compare) {
      std::vector<glimpse::NamedRun> runs;
      for (int i = 3; i < argc; i++)
        runs.push_back({std::filesystem::path(argv[i]).stem().string(), glimpse::read_metrics_csv(argv[i])});
      glimpse::write_comparison_svg(runs, out, "test loss and accuracy per epoch");
    } else {
      glimpse::write_metrics_svg(glimpse::read_metrics_csv(argv[1]), out, argc == 4 ? argv[3] : argv[1]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plot_metrics: %s\n", e.what());
    return 1;
  }
  return 0;
}
