// How far early training carries a rounding-sized difference: resnet20 trained twice from seed 3
// on CIFAR-10 (batch 16, SGD lr 0.01 momentum 0.9, weight decay 5e-4, crops and flips, as
// train_cifar without its warm-up), the second time with one weight of the first convolution
// changed by a relative 1e-7, about one float rounding. Prints, after each step, the largest
// difference between the two runs' weights relative to 1 + |weight|.
//
// It is the yardstick of the data-parallel tests: R processes add the batch's gradients in
// another order than one process does, so their runs may part by as much as these two do.
//
//   build/rounding_growth [DATA_DIR] [STEPS]      default: the bundled sample, 8 steps
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "io/data_loader.h"
#include "io/dataset.h"
#include "models/zoo.h"
#include "optim/sgd.h"
#include "train/data_paths.h"
#include "train/flags.h"

using namespace glimpse;

namespace {

struct Run {
  std::shared_ptr<Module> model;
  std::unique_ptr<SGD> sgd;
  std::unique_ptr<DataLoader> loader;
};

Run start(const ImageDataset& set, double change) {
  Rng rng(3);
  Run run;
  run.model = create_model("resnet20", rng);
  run.model->parameters()[0].data()[0] *= static_cast<real>(1 + change);
  run.sgd =
      std::make_unique<SGD>(run.model->parameters(), SgdOptions{.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f});
  run.loader = std::make_unique<DataLoader>(set, LoaderOptions{.batch_size = 16,
                                                               .shuffle = true,
                                                               .seed = 3,
                                                               .crop_padding = 4,
                                                               .horizontal_flip = true,
                                                               .mean = cifar10_mean,
                                                               .stddev = cifar10_stddev});
  run.loader->start_epoch(0);
  return run;
}

void step(Run& run) {
  Batch batch;
  if (!run.loader->next(batch)) fail("rounding_growth: the data set is smaller than the steps asked for");
  Tensor loss = cross_entropy(run.model->forward(batch.images), batch.labels);
  run.sgd->zero_grad();
  backward(loss);
  run.sgd->step();
}

double largest_difference(Module& a, Module& b) {
  std::vector<Tensor> pa = a.parameters(), pb = b.parameters();
  double largest = 0;
  for (size_t i = 0; i < pa.size(); i++)
    for (int64_t j = 0; j < pa[i].numel(); j++) {
      const double x = pa[i].data()[j], y = pb[i].data()[j];
      largest = std::max(largest, std::abs(x - y) / (1 + std::abs(x)));
    }
  return largest;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags("rounding_growth",
              "Trains resnet20 twice from weights one rounding apart and prints how far the runs part, step by step.");
  const std::vector<std::string>& arguments =
      flags.add_positional("[DATA_DIR [STEPS]]", "CIFAR-10 (default: the bundled sample) and the steps (default: 8)");
  flags.parse(argc, argv);
  if (arguments.size() > 2) flags.usage_error("at most two arguments: DATA_DIR and STEPS");
  int steps = 8;
  if (arguments.size() == 2) {
    char* end = nullptr;
    const long parsed = std::strtol(arguments[1].c_str(), &end, 10);
    if (*end != '\0' || parsed < 1 || parsed > 100000)
      flags.usage_error("STEPS '" + arguments[1] + "': a whole number from 1 to 100000");
    steps = static_cast<int>(parsed);
  }
  try {
    const std::string dir = !arguments.empty() ? arguments[0] : repository_root() + "/data/sample/cifar10";
    ImageDataset set = load_cifar10_dir(dir, true);
    Run plain = start(set, 0), changed = start(set, 1e-7);
    std::printf("step  largest weight difference (one weight changed by 1e-7 at the start)\n");
    for (int s = 1; s <= steps; s++) {
      step(plain);
      step(changed);
      std::printf("%4d  %.3g\n", s, largest_difference(*plain.model, *changed.model));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rounding_growth: %s\n", e.what());
    return 1;
  }
  return 0;
}
