#include "models/zoo.h"

#include <functional>

#include "models/mnist_cnn.h"
#include "models/resnet20.h"

namespace glimpse {

struct ZooEntry {
  const char* name;
  std::function<std::shared_ptr<Module>(Rng&)> create;
};

// One line per model, in the order of MODELS.md.
static const std::vector<ZooEntry>& zoo() {
  static const std::vector<ZooEntry> entries = {
      {"mnist_cnn", [](Rng& rng) { return std::make_shared<MnistCNN>(rng); }},
      {"resnet20", [](Rng& rng) { return std::make_shared<ResNet20>(rng); }},
  };
  return entries;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ZooEntry& entry : zoo()) names.push_back(entry.name);
  return names;
}

std::shared_ptr<Module> create_model(const std::string& name, Rng& rng) {
  for (const ZooEntry& entry : zoo())
    if (name == entry.name) return entry.create(rng);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  fail("create_model: unknown model '" + name + "'; known models: " + known);
}

}  // namespace glimpse
