// dasnet: the Deep Attention Selective Network of Stollenga, Masci, Gomez & Schmidhuber, "Deep
// Networks with Internal Selective Attention through Feedback Connections", NIPS 2014, on a
// trained resnet20 (MODELS.md). The CNN is frozen; a policy looks at what every channel of
// every convolution did and re-weights the channels for the next look at the same image.
//
//   gates a (N, 784): one per output channel of the 21 convolutions of resnet20, in the order
//     conv1 (16) | layer1: 3 x [conv1 16, conv2 16] | layer2: [conv1 32, conv2 32, shortcut 32],
//     2 x [conv1 32, conv2 32] | layer3: the same with 64            = 16 + 96 + 224 + 448 = 784
//   a gated convolution:  y = BN(a_c * conv(x))          the gate acts on the raw output, before BN
//   observation o (N, 784): the spatial mean of each gated channel, a_c * conv(x)
//
//   a_1 = 1;  for t = 1..T (T = 5):  logits_t, o_t = resnet20 gated by a_t (x)
//                                    a_{t+1} = 2 * sigmoid(o_t theta^T)     theta (784, 784), no bias
//   output: logits_T
//
// With theta = 0 every gate stays 2 * sigmoid(0) = 1: the frozen network, exactly. theta is not
// trained by back-propagation but by SNES (examples/train_dasnet.cpp), so the whole pass runs
// without a graph. The gated pass is resnet20's own forward with a gate on every convolution
// (models/resnet20.h), and a resnet20 checkpoint loads into base.
#pragma once
#include <memory>
#include <vector>

#include "layers/module.h"
#include "models/resnet20.h"
#include "optim/snes.h"

namespace glimpse {

constexpr int64_t dasnet_gates = 784;  // output channels of resnet20's 21 convolutions

// What SNES searches (train_dasnet --policy): every entry of theta, the paper's policy, or its
// diagonal alone, each channel's next gate set by its own observation,
//   a_{t+1,c} = 2 sigmoid(theta_cc o_t,c):
// 784 numbers instead of 614,656, a compact policy that hundreds of generations can move.
enum class DasnetPolicy { full, diagonal };
int64_t policy_size(DasnetPolicy policy);  // 614,656 or 784

class DasNet : public Module {
 public:
  explicit DasNet(std::shared_ptr<ResNet20> base, int64_t passes = 5);
  std::string type_name() const override { return "DasNet"; }
  std::string describe() const override { return "passes=" + std::to_string(passes); }
  // (N, 3, 32, 32) -> (N, 10) logits of the last pass; no graph, base in evaluation mode.
  // forward(x) = passes_after(x, first_pass(x), theta).
  Tensor forward(const Tensor& x) override;
  // Pass 1 has every gate at one whatever theta is: a generation of SNES runs it once for all
  // its candidates (dasnet_snes_generation), and only the passes after it for each. Both record
  // a graph where gradients are on (tools/dasnet_backprop trains `policy_theta` through them).
  struct FirstPass {
    Tensor logits, observation;  // (N, 10), (N, 784)
  };
  FirstPass first_pass(const Tensor& x);
  // passes 2..T with the gates of `policy_theta` (this net's theta, or one derived from it): logits of T
  Tensor passes_after(const Tensor& x, const FirstPass& first, const Tensor& policy_theta);
  // One pass of the base with the given gates (N, 784); fills `observation` (N, 784) if given.
  Tensor gated_forward(const Tensor& x, const Tensor& gates, Tensor* observation = nullptr);
  // a = 2 * sigmoid(o theta^T): the policy, (N, 784) -> (N, 784), with this net's theta or another.
  Tensor next_gates(const Tensor& observation) const { return next_gates(observation, theta); }
  static Tensor next_gates(const Tensor& observation, const Tensor& policy_theta);
  void set_theta(const std::vector<real>& values);  // 784*784 values, row-major
  // theta from the numbers a policy searches (diagonal: zero off the diagonal), and back.
  void set_policy(const std::vector<real>& searched, DasnetPolicy policy);
  std::vector<real> policy(DasnetPolicy policy) const;

  std::shared_ptr<ResNet20> base;  // child "base": frozen
  int64_t passes;
  Tensor theta;  // (784, 784), buffer "theta"; zeros at the start
};

// One generation of the paper's Algorithm 1: draw p candidate thetas from SNES, score each by
// the cross-entropy of the last pass on the same batch (lower is better; the first pass is run
// once for all), tell SNES. Leaves
// net.theta at the new SNES mean. Returns the fitness of every candidate, in ask() order.
// `policy`: what SNES's points are (policy_size numbers each).
std::vector<real> dasnet_snes_generation(Snes& snes, DasNet& net, const Tensor& images,
                                         const std::vector<int64_t>& labels, DasnetPolicy policy = DasnetPolicy::full);

}  // namespace glimpse
