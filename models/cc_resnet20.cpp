#include "models/cc_resnet20.h"

#include "layers/criss_cross.h"

namespace glimpse {

std::shared_ptr<ResNet20> cc_resnet20(Rng& rng, int64_t classes) {
  AttentionFactory criss_cross = [](int64_t channels, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<CrissCrossAttention>(channels, r, 2);  // after stage 3, before the pool
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .head_attention = criss_cross});
}

}  // namespace glimpse
