#include "models/senet.h"

#include "layers/se_block.h"

namespace glimpse {

std::shared_ptr<ResNet20> se_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory se = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<SEBlock>(channels, r, 16);  // on the branch, before the addition
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .branch_attention = se});
}

}  // namespace glimpse
