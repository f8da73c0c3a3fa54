// The model zoo: the models of MODELS.md by name, for trainers, benchmarks and checkpoints; all but
// stn_paper, ram and dasnet, which train_stn, train_ram and train_dasnet build.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

// The few knobs a model of the zoo takes; each model reads only its own.
struct ModelOptions {
  int64_t width = 16;       // attention56: the base width w (channels 4w, 8w, 16w)
  int64_t image_side = 28;  // stn_mnist: 28 (MNIST) or 42 (RTS-distorted MNIST)
};

// A new model, initialised from rng; an Error listing the known names if `name` is unknown.
std::shared_ptr<Module> create_model(const std::string& name, Rng& rng, const ModelOptions& options = {});

std::vector<std::string> model_names();        // every model of the zoo, in the order of MODELS.md
std::vector<std::string> mnist_model_names();  // those that take MNIST images (N, 1, 28, 28)
std::vector<std::string> cifar_model_names();  // those that take CIFAR-10 images (N, 3, 32, 32)

}  // namespace glimpse
