#include "models/dasnet.h"

#include <algorithm>

#include "engine/ops.h"

namespace glimpse {

DasNet::DasNet(std::shared_ptr<ResNet20> base_, int64_t passes_) : passes(passes_) {
  if (!base_) fail("DasNet: no base network");
  if (passes < 1) fail("DasNet: passes must be at least 1, got " + std::to_string(passes));
  base = add_module("base", std::move(base_));
  theta = add_buffer("theta", Tensor::zeros({dasnet_gates, dasnet_gates}));
}

void DasNet::set_theta(const std::vector<real>& values) {
  if (static_cast<int64_t>(values.size()) != theta.numel())
    fail("DasNet::set_theta: expected " + std::to_string(theta.numel()) + " values, got " +
         std::to_string(values.size()));
  std::copy(values.begin(), values.end(), theta.data());
}

Tensor DasNet::next_gates(const Tensor& observation) const {
  return 2 * sigmoid(matmul(observation, theta, false, true));  // (N, 784) theta^T
}

// BN(a * conv(x)) for the `first`.. channels of the gates; appends the observation (N, K) and
// advances `first` past this convolution's K channels.
Tensor DasNet::gated_conv_bn(Conv2d& conv, BatchNorm2d& bn, const Tensor& x, const Tensor& gates, int64_t& first,
                             std::vector<Tensor>& observations) {
  Tensor y = conv.forward(x);  // (N, K, H, W)
  const int64_t N = y.shape()[0], K = y.shape()[1];
  Tensor a = reshape(slice(gates, 1, first, first + K), {N, K, 1, 1});
  first += K;
  y = y * a;
  observations.push_back(global_avg_pool2d(y));  // (N, K)
  return bn.forward(y);
}

Tensor DasNet::gated_forward(const Tensor& x, const Tensor& gates, Tensor* observation) {
  if (gates.dim() != 2 || gates.shape()[1] != dasnet_gates || x.dim() != 4 || gates.shape()[0] != x.shape()[0])
    fail("DasNet: gates must be (N, 784) for images (N, 3, 32, 32), got " + shape_str(gates.shape()) + " and " +
         shape_str(x.shape()));
  int64_t first = 0;
  std::vector<Tensor> observations;
  // The same walk as ResNet20::forward and BasicBlock::forward, with every convolution gated.
  Tensor h = relu(gated_conv_bn(*base->conv1, *base->bn1, x, gates, first, observations));
  for (const auto& stage : {base->layer1, base->layer2, base->layer3})
    for (size_t i = 0; i < stage->size(); i++) {
      auto block = std::dynamic_pointer_cast<BasicBlock>((*stage)[i]);
      if (!block || block->attention) fail("DasNet: the base must be a plain resnet20");
      Tensor F = relu(gated_conv_bn(*block->conv1, *block->bn1, h, gates, first, observations));
      F = gated_conv_bn(*block->conv2, *block->bn2, F, gates, first, observations);
      Tensor identity = h;
      if (block->shortcut) {
        auto conv = std::dynamic_pointer_cast<Conv2d>((*block->shortcut)[0]);
        auto bn = std::dynamic_pointer_cast<BatchNorm2d>((*block->shortcut)[1]);
        identity = gated_conv_bn(*conv, *bn, h, gates, first, observations);
      }
      h = relu(F + identity);
    }
  if (first != dasnet_gates) fail("DasNet: the base has " + std::to_string(first) + " channels, not 784");
  if (observation) *observation = concat(observations, 1);  // (N, 784), in the order of the gates
  return base->fc->forward(base->pool->forward(h));
}

Tensor DasNet::forward(const Tensor& x) {
  if (x.dim() != 4) fail("DasNet: expected images (N, 3, 32, 32), got " + shape_str(x.shape()));
  NoGradGuard no_grad;
  base->eval();  // frozen: BN uses its running statistics
  Tensor gates = Tensor::ones({x.shape()[0], dasnet_gates});
  Tensor logits, observation;
  for (int64_t t = 1; t <= passes; t++) {
    logits = gated_forward(x, gates, t < passes ? &observation : nullptr);
    if (t < passes) gates = next_gates(observation);
  }
  return logits;
}

std::vector<real> dasnet_snes_generation(Snes& snes, DasNet& net, const Tensor& images,
                                         const std::vector<int64_t>& labels) {
  NoGradGuard no_grad;
  std::vector<std::vector<real>> candidates = snes.ask();  // p thetas, each 784*784
  std::vector<real> fitness;
  for (const std::vector<real>& candidate : candidates) {
    net.set_theta(candidate);
    fitness.push_back(static_cast<real>(cross_entropy(net.forward(images), labels).item()));
  }
  snes.tell(fitness);
  net.set_theta(snes.mean());
  return fitness;
}

}  // namespace glimpse
