#include "layers/basic_block.h"

#include "engine/ops.h"

namespace glimpse {

BasicBlock::BasicBlock(Options options, Rng& rng) : in(options.in), out(options.out), stride(options.stride) {
  if (in <= 0 || out <= 0 || stride <= 0) fail("BasicBlock: in, out and stride must be positive, got " + describe());
  conv1 = add_module(
      "conv1",
      options.conv1
          ? options.conv1(in, out, stride, rng)
          : std::make_shared<Conv2d>(
                Conv2d::Options{.in = in, .out = out, .kernel = 3, .stride = stride, .padding = 1, .bias = false},
                rng));
  bn1 = add_module("bn1", std::make_shared<BatchNorm2d>(out));
  conv2 = add_module(
      "conv2", std::make_shared<Conv2d>(
                   Conv2d::Options{.in = out, .out = out, .kernel = 3, .stride = 1, .padding = 1, .bias = false}, rng));
  bn2 = add_module("bn2", std::make_shared<BatchNorm2d>(out));
  if (options.attention) attention = add_module("attention", options.attention(out, rng));
  if (stride != 1 || in != out) {  // option B: project x to the branch's shape
    shortcut = add_module("shortcut", std::make_shared<Sequential>());
    shortcut_conv = shortcut->push_back(std::make_shared<Conv2d>(
        Conv2d::Options{.in = in, .out = out, .kernel = 1, .stride = stride, .padding = 0, .bias = false}, rng));
    shortcut_bn = shortcut->push_back(std::make_shared<BatchNorm2d>(out));
  }
}

std::string BasicBlock::describe() const {
  return std::to_string(in) + ", " + std::to_string(out) + (stride != 1 ? ", stride=" + std::to_string(stride) : "");
}

Tensor BasicBlock::forward(const Tensor& x, const ConvolutionGate& gate) {  // x: (N, in, H, W)
  auto gated = [&gate](const Tensor& y) { return gate ? gate(y) : y; };
  Tensor F = bn1->forward_then_relu(gated(conv1->forward(x)));  // (N, out, H/s, W/s)
  F = bn2->forward(gated(conv2->forward(F)));                   // (N, out, H/s, W/s)  the residual F(x)
  if (attention) F = attention->forward(F);                     // A(F), same shape
  Tensor identity = shortcut ? shortcut_bn->forward(gated(shortcut_conv->forward(x))) : x;  // (N, out, H/s, W/s)
  return relu(F + identity);
}

}  // namespace glimpse
