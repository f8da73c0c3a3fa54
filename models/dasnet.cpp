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

int64_t policy_size(DasnetPolicy policy) {
  return policy == DasnetPolicy::full ? dasnet_gates * dasnet_gates : dasnet_gates;
}

void DasNet::set_policy(const std::vector<real>& searched, DasnetPolicy policy) {
  if (policy == DasnetPolicy::full) return set_theta(searched);
  if (static_cast<int64_t>(searched.size()) != dasnet_gates)
    fail("DasNet::set_policy: a diagonal policy has 784 values, got " + std::to_string(searched.size()));
  std::fill_n(theta.data(), theta.numel(), real(0));
  for (int64_t c = 0; c < dasnet_gates; c++) theta.data()[c * dasnet_gates + c] = searched[static_cast<size_t>(c)];
}

std::vector<real> DasNet::policy(DasnetPolicy policy) const {
  if (policy == DasnetPolicy::full) return theta.to_vector();
  std::vector<real> diagonal(static_cast<size_t>(dasnet_gates));
  for (int64_t c = 0; c < dasnet_gates; c++) diagonal[static_cast<size_t>(c)] = theta.data()[c * dasnet_gates + c];
  return diagonal;
}

void DasNet::set_theta(const std::vector<real>& values) {
  if (static_cast<int64_t>(values.size()) != theta.numel())
    fail("DasNet::set_theta: expected " + std::to_string(theta.numel()) + " values, got " +
         std::to_string(values.size()));
  std::copy(values.begin(), values.end(), theta.data());
}

Tensor DasNet::next_gates(const Tensor& observation, const Tensor& policy_theta) {
  return 2 * sigmoid(matmul(observation, policy_theta, false, true));  // (N, 784) theta^T
}

Tensor DasNet::gated_forward(const Tensor& x, const Tensor& gates, Tensor* observation) {
  if (gates.dim() != 2 || gates.shape()[1] != dasnet_gates || x.dim() != 4 || gates.shape()[0] != x.shape()[0])
    fail("DasNet: gates must be (N, 784) for images (N, 3, 32, 32), got " + shape_str(gates.shape()) + " and " +
         shape_str(x.shape()));
  // resnet20 calls the gate on each convolution's raw output in the order of the gates: the next
  // K gates scale its K channels, and the gated channels' spatial means are the observation.
  int64_t first = 0;
  std::vector<Tensor> observations;
  ConvolutionGate gate = [&](const Tensor& y) {  // y: (N, K, H, W)
    const int64_t N = y.shape()[0], K = y.shape()[1];
    if (first + K > dasnet_gates) fail("DasNet: the base has more than 784 convolution channels");
    Tensor gated = y * reshape(slice(gates, 1, first, first + K), {N, K, 1, 1});  // a_c * conv(x)
    first += K;
    if (observation) observations.push_back(global_avg_pool2d(gated));  // (N, K)
    return gated;
  };
  Tensor logits = base->forward(x, gate);
  if (first != dasnet_gates) fail("DasNet: the base has " + std::to_string(first) + " channels, not 784");
  if (observation) *observation = concat(observations, 1);  // (N, 784), in the order of the gates
  return logits;
}

DasNet::FirstPass DasNet::first_pass(const Tensor& x) {
  if (x.dim() != 4) fail("DasNet: expected images (N, 3, 32, 32), got " + shape_str(x.shape()));
  base->eval();  // frozen: BN uses its running statistics
  FirstPass first;
  first.logits = gated_forward(x, Tensor::ones({x.shape()[0], dasnet_gates}), &first.observation);
  return first;
}

Tensor DasNet::passes_after(const Tensor& x, const FirstPass& first, const Tensor& policy_theta) {
  base->eval();
  Tensor logits = first.logits, observation = first.observation;
  for (int64_t t = 2; t <= passes; t++)  // the last pass's observation would feed no policy
    logits = gated_forward(x, next_gates(observation, policy_theta), t < passes ? &observation : nullptr);
  return logits;
}

Tensor DasNet::forward(const Tensor& x) {
  NoGradGuard no_grad;
  return passes_after(x, first_pass(x), theta);
}

std::vector<real> dasnet_snes_generation(Snes& snes, DasNet& net, const Tensor& images,
                                         const std::vector<int64_t>& labels, DasnetPolicy policy) {
  NoGradGuard no_grad;
  std::vector<std::vector<real>> candidates = snes.ask();  // p points, each policy_size(policy) numbers
  const DasNet::FirstPass first = net.first_pass(images);  // the same for every candidate
  std::vector<real> fitness;
  for (const std::vector<real>& candidate : candidates) {
    net.set_policy(candidate, policy);
    fitness.push_back(static_cast<real>(cross_entropy(net.passes_after(images, first, net.theta), labels).item()));
  }
  snes.tell(fitness);
  net.set_policy(snes.mean(), policy);
  return fitness;
}

}  // namespace glimpse
