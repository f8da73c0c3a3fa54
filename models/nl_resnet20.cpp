#include "models/nl_resnet20.h"

#include "layers/non_local.h"

namespace glimpse {

std::shared_ptr<ResNet20> nl_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory non_local = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<NonLocal>(channels, r);  // after the second block of stages 2 and 3
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .non_local = non_local});
}

}  // namespace glimpse
