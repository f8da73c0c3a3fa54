#include "models/zoo.h"

#include <functional>

#include "models/aa_resnet20.h"
#include "models/cbam_resnet20.h"
#include "models/cc_resnet20.h"
#include "models/da_resnet20.h"
#include "models/eca_resnet20.h"
#include "models/gc_resnet20.h"
#include "models/mnist_cnn.h"
#include "models/nl_resnet20.h"
#include "models/residual_attention.h"
#include "models/resnet20.h"
#include "models/senet.h"
#include "models/stn_mnist.h"

namespace glimpse {

namespace {

enum class Dataset { mnist, cifar10 };

struct ZooEntry {
  const char* name;
  Dataset dataset;
  std::function<std::shared_ptr<Module>(Rng&, const ModelOptions&)> create;
};

// One line per model, in the order of MODELS.md.
const std::vector<ZooEntry>& zoo() {
  static const std::vector<ZooEntry> entries = {
      {"mnist_cnn", Dataset::mnist, [](Rng& rng, const ModelOptions&) { return std::make_shared<MnistCNN>(rng); }},
      {"resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return std::make_shared<ResNet20>(rng); }},
      {"se_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return se_resnet20(rng); }},
      {"cbam_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return cbam_resnet20(rng); }},
      {"attention56", Dataset::cifar10,
       [](Rng& rng, const ModelOptions& o) { return std::make_shared<Attention56>(o.width, rng); }},
      {"stn_mnist", Dataset::mnist,
       [](Rng& rng, const ModelOptions& o) { return std::make_shared<StnMnist>(o.image_side, rng); }},
      {"eca_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return eca_resnet20(rng); }},
      {"gc_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return gc_resnet20(rng); }},
      {"nl_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return nl_resnet20(rng); }},
      {"da_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return da_resnet20(rng); }},
      {"cc_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return cc_resnet20(rng); }},
      {"aa_resnet20", Dataset::cifar10, [](Rng& rng, const ModelOptions&) { return aa_resnet20(rng); }},
  };
  return entries;
}

std::vector<std::string> names_for(bool all, Dataset dataset) {
  std::vector<std::string> names;
  for (const ZooEntry& entry : zoo())
    if (all || entry.dataset == dataset) names.emplace_back(entry.name);
  return names;
}

}  // namespace

std::vector<std::string> model_names() { return names_for(true, Dataset::mnist); }
std::vector<std::string> mnist_model_names() { return names_for(false, Dataset::mnist); }
std::vector<std::string> cifar_model_names() { return names_for(false, Dataset::cifar10); }

std::shared_ptr<Module> create_model(const std::string& name, Rng& rng, const ModelOptions& options) {
  for (const ZooEntry& entry : zoo())
    if (name == entry.name) return entry.create(rng, options);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  fail("create_model: unknown model '" + name + "'; known models: " + known);
}

}  // namespace glimpse
