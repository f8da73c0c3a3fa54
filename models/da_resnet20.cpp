#include "models/da_resnet20.h"

#include "layers/dual_attention.h"

namespace glimpse {

std::shared_ptr<ResNet20> da_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory dual = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<DualAttention>(channels, r);  // after stage 3, before the pool
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .head_attention = dual});
}

}  // namespace glimpse
