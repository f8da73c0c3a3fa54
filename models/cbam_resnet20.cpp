#include "models/cbam_resnet20.h"

#include "layers/cbam.h"

namespace glimpse {

std::shared_ptr<ResNet20> cbam_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory cbam = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<CBAM>(channels, r, 16);  // on the branch, before the addition
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .branch_attention = cbam});
}

}  // namespace glimpse
