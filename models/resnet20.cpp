#include "models/resnet20.h"

#include "engine/ops.h"

namespace glimpse {

// One stage: `blocks` BasicBlocks of `out` channels, the first with the stage's stride.
static std::shared_ptr<Sequential> make_stage(int64_t in, int64_t out, int64_t stride, int blocks, Rng& rng,
                                              const AttentionFactory& attention) {
  auto stage = std::make_shared<Sequential>();
  for (int i = 0; i < blocks; i++)
    stage->push_back(std::make_shared<BasicBlock>(
        BasicBlock::Options{.in = i == 0 ? in : out, .out = out, .stride = i == 0 ? stride : 1, .attention = attention},
        rng));
  return stage;
}

ResNet20::ResNet20(Rng& rng, AttentionFactory attention, int64_t classes) {
  conv1 = add_module("conv1", std::make_shared<Conv2d>(
                                  Conv2d::Options{.in = 3, .out = 16, .kernel = 3, .stride = 1, .padding = 1, .bias = false},
                                  rng));
  bn1 = add_module("bn1", std::make_shared<BatchNorm2d>(16));
  layer1 = add_module("layer1", make_stage(16, 16, 1, 3, rng, attention));
  layer2 = add_module("layer2", make_stage(16, 32, 2, 3, rng, attention));
  layer3 = add_module("layer3", make_stage(32, 64, 2, 3, rng, attention));
  pool = add_module("pool", std::make_shared<GlobalAvgPool>());
  fc = add_module("fc", std::make_shared<Linear>(Linear::Options{.in = 64, .out = classes}, rng));
}

Tensor ResNet20::forward(const Tensor& x) {                // x: (N, 3, 32, 32)
  Tensor h = relu(bn1->forward(conv1->forward(x)));        // (N, 16, 32, 32)
  h = layer1->forward(h);                                  // (N, 16, 32, 32)
  h = layer2->forward(h);                                  // (N, 32, 16, 16)
  h = layer3->forward(h);                                  // (N, 64, 8, 8)
  h = pool->forward(h);                                    // (N, 64)
  return fc->forward(h);                                   // (N, classes) logits
}

}  // namespace glimpse
