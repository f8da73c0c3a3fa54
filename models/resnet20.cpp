#include "models/resnet20.h"

#include "engine/ops.h"

namespace glimpse {

ResNetStage::ResNetStage(BasicBlock::Options first, int64_t count, Rng& rng,
                         const AttentionFactory& after_second_block) {
  for (int64_t i = 0; i < count; i++) {
    BasicBlock::Options options = first;
    if (i > 0) options.in = first.out, options.stride = 1;
    blocks.push_back(add_module(std::to_string(i), std::make_shared<BasicBlock>(options, rng)));
  }
  if (after_second_block && count >= 2) non_local = add_module("non_local", after_second_block(first.out, rng));
}

Tensor ResNetStage::forward(const Tensor& x, const ConvolutionGate& gate) {
  Tensor h = x;
  for (size_t i = 0; i < blocks.size(); i++) {
    h = blocks[i]->forward(h, gate);
    if (i == 1 && non_local) h = non_local->forward(h);
  }
  return h;
}

ResNet20::ResNet20(Rng& rng) : ResNet20(rng, Options{}) {}

ResNet20::ResNet20(Rng& rng, Options o) {
  const Conv2d::Options stem{.in = 3, .out = 16, .kernel = 3, .stride = 1, .padding = 1, .bias = false};
  conv1 = add_module("conv1", std::make_shared<Conv2d>(stem, rng));
  bn1 = add_module("bn1", std::make_shared<BatchNorm2d>(16));
  auto stage = [&](int64_t in, int64_t out, int64_t stride, const AttentionFactory& non_local,
                   const ConvolutionFactory& first_conv) {
    BasicBlock::Options first{
        .in = in, .out = out, .stride = stride, .attention = o.branch_attention, .conv1 = first_conv};
    return std::make_shared<ResNetStage>(first, 3, rng, non_local);
  };
  layer1 = add_module("layer1", stage(16, 16, 1, nullptr, nullptr));
  layer2 = add_module("layer2", stage(16, 32, 2, o.non_local, nullptr));
  layer3 = add_module("layer3", stage(32, 64, 2, o.non_local, o.stage3_conv1));
  if (o.head_attention) attention = add_module("attention", o.head_attention(64, rng));
  pool = add_module("pool", std::make_shared<GlobalAvgPool>());
  fc = add_module("fc", std::make_shared<Linear>(Linear::Options{.in = 64, .out = o.classes}, rng));
}

Tensor ResNet20::forward(const Tensor& x, const ConvolutionGate& gate) {  // x: (N, 3, 32, 32)
  Tensor h = conv1->forward(x);                                           // (N, 16, 32, 32)
  h = bn1->forward_then_relu(gate ? gate(h) : h);
  h = layer1->forward(h, gate);              // (N, 16, 32, 32)
  h = layer2->forward(h, gate);              // (N, 32, 16, 16)
  h = layer3->forward(h, gate);              // (N, 64, 8, 8)
  if (attention) h = attention->forward(h);  // (N, 64, 8, 8)
  h = pool->forward(h);                      // (N, 64)
  return fc->forward(h);                     // (N, classes) logits
}

}  // namespace glimpse
