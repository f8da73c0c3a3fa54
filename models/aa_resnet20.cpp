#include "models/aa_resnet20.h"

#include "layers/augmented_conv2d.h"

namespace glimpse {

std::shared_ptr<ResNet20> aa_resnet20(Rng& rng, int64_t classes) {
  ConvolutionFactory augmented = [](int64_t in, int64_t out, int64_t stride, Rng& r) -> std::shared_ptr<Module> {
    return std::make_shared<AugmentedConv2d>(
        AugmentedConv2d::Options{.in = in, .out = out, .stride = stride, .dk = 16, .dv = 16, .heads = 4, .size = 8}, r);
  };
  return std::make_shared<ResNet20>(rng, ResNet20::Options{.classes = classes, .stage3_conv1 = augmented});
}

}  // namespace glimpse
