#include "models/eca_resnet20.h"

#include "layers/eca.h"

namespace glimpse {

std::shared_ptr<ResNet20> eca_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory eca = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<ECA>(channels, r);  // on the branch, before the addition
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .branch_attention = eca});
}

}  // namespace glimpse
