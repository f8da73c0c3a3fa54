// The model zoo: every model of MODELS.md by name, for trainers, benchmarks and checkpoints.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/random.h"
#include "layers/module.h"

namespace glimpse {

// A new model, initialised from rng; an Error listing the known names if `name` is unknown.
std::shared_ptr<Module> create_model(const std::string& name, Rng& rng);
std::vector<std::string> model_names();  // in the order of MODELS.md

}  // namespace glimpse
