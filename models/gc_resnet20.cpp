#include "models/gc_resnet20.h"

#include "layers/global_context.h"

namespace glimpse {

std::shared_ptr<ResNet20> gc_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory gc = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<GlobalContext>(channels, r, 4);  // on the branch, before the addition
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .branch_attention = gc});
}

}  // namespace glimpse
