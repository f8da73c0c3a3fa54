// ram: the Recurrent Attention Model of Mnih, Heess, Graves & Kavukcuoglu, "Recurrent Models of
// Visual Attention", NIPS 2014 (Fig. 1), as specified in MODELS.md. It never sees the whole
// image: at each of T steps it reads a small retina-like glimpse at a location it chose itself.
//
//   A) glimpse sensor   rho(x, l)  = k patches of g x g around l (scales g, 2g, 4g, ...)  extract_glimpse
//   B) glimpse network  h_g = ReLU(linear(rho -> 128))                      "what"
//                       h_l = ReLU(linear(l -> 128))                        "where"
//                       g_t = ReLU(linear(h_g -> 256) + linear(h_l -> 256))
//   C) core network     h_t = ReLU(linear(h_{t-1} -> 256) + linear(g_t -> 256)),  h_0 = 0
//      location net     mean_t = tanh(linear(h_t -> 2)),  l_{t+1} ~ N(mean_t, sigma^2)  (sigma = 0.17)
//      baseline         b_t = linear(h_t -> 1)                              (predicts the reward)
//      action net       log p(y | x) = log_softmax(linear(h_T -> 10))       (only at the last step)
//
//   l_1 ~ U[-1,1]^2;  for t = 1..T:  g_t = glimpse_net(x, l_t);   h_t = core(h_{t-1}, g_t);
//                                    if t < T: sample l_{t+1} from the location net, take its
//                                              log-probability, then clamp it to [-1,1]
//
// The choice of l is not differentiable (a crop), so the location net is not trained by back-
// propagation through the sensor: the sample is detached, and its log-probability
// log pi(l_t) = log N(l_t; mean_t, sigma^2) (differentiable in mean_t) feeds the REINFORCE term
// of ram_loss (below). The T-1 sampled locations are the actions; the first is not (it is
// drawn uniformly, not by the policy).
//
// Shapes: x (N, C, S, S), S the image side (28 MNIST, 60 translated/cluttered).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/random.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace glimpse {

struct RamOptions {
  int64_t glimpse_side = 8;     // g: side of each patch after pooling (8 for MNIST, 12 for 60x60)
  int64_t scales = 1;           // k: patches of side g, 2g, ..., 2^(k-1) g (1 for MNIST, 3 for 60x60)
  int64_t glimpses = 6;         // T >= 1
  real location_sigma = 0.17f;  // standard deviation of the location policy
  int64_t image_side = 28;      // S (the sensor itself works on any size; this checks the input)
  int64_t channels = 1;         // C
  int64_t classes = 10;
  // Whether the REINFORCE and baseline gradients also flow back through h_t into the core and
  // glimpse networks (the paper trains everything jointly), or only train the location and
  // baseline heads, which read h_t detached (as most re-implementations do). Detached is the
  // default: the noisy REINFORCE gradient through the core trained far less stably
  // (docs/RESULTS.md, "RAM").
  bool reinforce_into_core = false;
};

// What one pass gives the loss and the pictures.
struct RamOutput {
  Tensor log_probs;               // (N, classes): log_softmax of the action network at step T
  Tensor location_log_probs;      // (N, T-1): log pi(l_{t+1} | h_t), summed over (x, y); undefined if T = 1
  Tensor baselines;               // (N, T-1): b_t, the predicted reward at steps 1..T-1; undefined if T = 1
  std::vector<Tensor> locations;  // T tensors (N, 2): the clamped locations read, l_1 .. l_T (no graph)
};

// How a pass picks l_2 .. l_T: drawn from the policy N(mean_t, sigma^2) (training, and the
// stochastic evaluation), or the policy's mean itself (a deterministic path for evaluation).
// l_1 is drawn uniformly either way.
enum class LocationChoice { sampled, mean };

class RecurrentAttentionModel : public Module {
 public:
  RecurrentAttentionModel(RamOptions options, Rng& rng);
  std::string type_name() const override { return "RecurrentAttentionModel"; }
  std::string describe() const override;

  // One pass with locations drawn from `rng` (the first uniformly, the rest from the policy,
  // or with LocationChoice::mean the policy's means).
  RamOutput run(const Tensor& x, Rng& rng, LocationChoice choice = LocationChoice::sampled);
  RamOutput run(const Tensor& x) { return run(x, rng_); }  // with the model's own Rng
  // A) the glimpse sensor: x (N, C, S, S), l (N, 2) -> (N, k*C, g, g)
  Tensor sensor(const Tensor& x, const Tensor& l) const;
  // The log-probabilities (N, classes) of one pass, drawing locations from the model's own Rng
  // (re-seeded by Module::reseed): a stochastic classifier.
  Tensor forward(const Tensor& x) override { return run(x, rng_).log_probs; }

  RamOptions options;
  // B) glimpse network
  std::shared_ptr<Linear> glimpse_what;       // k*C*g*g -> 128  (h_g)
  std::shared_ptr<Linear> glimpse_where;      // 2 -> 128        (h_l)
  std::shared_ptr<Linear> glimpse_what_out;   // 128 -> 256
  std::shared_ptr<Linear> glimpse_where_out;  // 128 -> 256
  // C) core network and its heads
  std::shared_ptr<Linear> core_hidden;    // 256 -> 256  (h_{t-1})
  std::shared_ptr<Linear> core_glimpse;   // 256 -> 256  (g_t)
  std::shared_ptr<Linear> location_mean;  // 256 -> 2
  std::shared_ptr<Linear> baseline;       // 256 -> 1
  std::shared_ptr<Linear> action;         // 256 -> classes

 private:
  Tensor glimpse_network(const Tensor& x, const Tensor& l);  // -> g_t (N, 256)
  void reseed_self(uint64_t seed) override { rng_.seed(seed); }
  Rng rng_;
};

// The hybrid loss of Mnih et al. (Sec. 3.2 and 4): cross-entropy for the action network,
// REINFORCE for the location network, a squared error for the baseline.
struct RamLoss {
  Tensor total;                    // the scalar to back-propagate
  double classification = 0;       // cross-entropy of the final label
  double reinforce = 0;            // the REINFORCE surrogate
  double baseline = 0;             // mean squared error of b_t against R
  double reward = 0;               // mean R over the batch = training accuracy
  std::vector<int64_t> predicted;  // argmax of the log-probabilities
};
RamLoss ram_loss(const RamOutput& output, const std::vector<int64_t>& labels);

}  // namespace glimpse
