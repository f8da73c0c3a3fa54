#include "models/ram.h"

#include <cstdio>
#include <string>

#include "engine/ops.h"

namespace glimpse {

RecurrentAttentionModel::RecurrentAttentionModel(RamOptions options_, Rng& rng)
    : options(options_), rng_(rng.next_u64()) {
  const RamOptions& o = options;
  if (o.glimpse_side <= 0 || o.scales <= 0 || o.glimpses <= 0 || o.image_side <= 0 || o.channels <= 0 ||
      o.classes <= 0 || !(o.location_sigma > 0))
    fail("RecurrentAttentionModel: every option must be positive, got " + describe());
  auto make_linear = [&](const char* name, int64_t in, int64_t out) {
    return add_module(name, std::make_shared<Linear>(Linear::Options{.in = in, .out = out}, rng));
  };
  const int64_t retina = o.scales * o.channels * o.glimpse_side * o.glimpse_side;
  glimpse_what = make_linear("glimpse_what", retina, 128);
  glimpse_where = make_linear("glimpse_where", 2, 128);
  glimpse_what_out = make_linear("glimpse_what_out", 128, 256);
  glimpse_where_out = make_linear("glimpse_where_out", 128, 256);
  core_hidden = make_linear("core_hidden", 256, 256);
  core_glimpse = make_linear("core_glimpse", 256, 256);
  location_mean = make_linear("location_mean", 256, 2);
  baseline = make_linear("baseline", 256, 1);
  action = make_linear("action", 256, o.classes);
}

std::string RecurrentAttentionModel::describe() const {
  char sigma[32];
  std::snprintf(sigma, sizeof sigma, "%g", static_cast<double>(options.location_sigma));
  return "g=" + std::to_string(options.glimpse_side) + ", k=" + std::to_string(options.scales) +
         ", T=" + std::to_string(options.glimpses) + ", sigma=" + sigma +
         ", side=" + std::to_string(options.image_side);
}

Tensor RecurrentAttentionModel::sensor(const Tensor& x, const Tensor& l) const {
  return extract_glimpse(x, l, options.glimpse_side, options.scales);
}

// B) the glimpse network: "what" (the retina) and "where" (the location) mixed into g_t.
Tensor RecurrentAttentionModel::glimpse_network(const Tensor& x, const Tensor& l) {
  Tensor retina = flatten(sensor(x, l));                                          // (N, k*C*g*g)
  Tensor h_g = relu(glimpse_what->forward(retina));                               // (N, 128)
  Tensor h_l = relu(glimpse_where->forward(l));                                   // (N, 128)
  return relu(glimpse_what_out->forward(h_g) + glimpse_where_out->forward(h_l));  // (N, 256)
}

RamOutput RecurrentAttentionModel::run(const Tensor& x, Rng& rng, LocationChoice choice) {
  const Shape& s = x.shape();
  if (s.size() != 4 || s[1] != options.channels || s[2] != options.image_side || s[3] != options.image_side)
    fail("RecurrentAttentionModel: expected images (N, " + std::to_string(options.channels) + ", " +
         std::to_string(options.image_side) + ", " + std::to_string(options.image_side) + "), got " + shape_str(s));
  const int64_t N = s[0], T = options.glimpses;
  const real sigma = options.location_sigma;

  RamOutput out;
  Tensor l = Tensor::uniform({N, 2}, -1, 1, rng);  // l_1 ~ U[-1,1]^2
  Tensor h = Tensor::zeros({N, 256});              // h_0
  std::vector<Tensor> log_pis, baselines;
  for (int64_t t = 1; t <= T; t++) {
    out.locations.push_back(l);
    Tensor g = glimpse_network(x, l);                              // A, B) g_t (N, 256)
    h = relu(core_hidden->forward(h) + core_glimpse->forward(g));  // C) h_t (N, 256)
    if (t == T) break;
    // The location network's action: l_{t+1} ~ N(mean_t, sigma^2), sampled outside the graph.
    Tensor h_policy = options.reinforce_into_core ? h : h.detach();
    Tensor mean = tanh(location_mean->forward(h_policy));  // (N, 2)
    Tensor sample = mean.detach().clone();
    real* p = sample.data();
    if (choice == LocationChoice::sampled)
      for (int64_t i = 0; i < 2 * N; i++) p[i] += sigma * static_cast<real>(rng.normal());
    log_pis.push_back(sum(gaussian_log_prob(sample, mean, sigma), {1}, true));  // (N, 1) log pi(l_{t+1})
    baselines.push_back(baseline->forward(h_policy));                           // (N, 1) b_t
    l = clamp(sample, -1, 1);  // after the log-probability is taken: read inside the image
  }
  out.log_probs = log_softmax(action->forward(h), 1);  // (N, classes), from h_T
  if (T > 1) {
    out.location_log_probs = concat(log_pis, 1);  // (N, T-1)
    out.baselines = concat(baselines, 1);         // (N, T-1)
  }
  return out;
}

RamLoss ram_loss(const RamOutput& output, const std::vector<int64_t>& labels) {
  const int64_t N = output.log_probs.shape()[0];
  if (static_cast<int64_t>(labels.size()) != N)
    fail("ram_loss: " + std::to_string(labels.size()) + " labels for a batch of " + std::to_string(N));
  RamLoss loss;
  // The action network: cross-entropy of the final label (log_softmax is idempotent, so the
  // log-probabilities serve as logits).
  Tensor classification = cross_entropy(output.log_probs, labels);
  loss.total = classification;
  loss.classification = classification.item();

  // The reward: R = 1 when the final label is right, else 0. A number, not part of the graph.
  loss.predicted = argmax(output.log_probs.detach());
  std::vector<real> reward(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; n++) reward[n] = loss.predicted[n] == labels[n] ? 1 : 0;
  for (real r : reward) loss.reward += r / static_cast<double>(N);
  if (!output.location_log_probs.defined()) return loss;  // T = 1: no location was chosen

  // REINFORCE (Williams 1992; Mnih et al. 2014, Eq. 2 with a baseline). The policy pi(l | h)
  // has no gradient path from the reward, but
  //     d/dtheta E[R] = E[ R * d/dtheta log pi(l) ]
  // (the log-derivative trick: d pi = pi * d log pi), and subtracting a baseline b_t that does
  // not depend on the action keeps the estimate unbiased while lowering its variance:
  //     d/dtheta E[R] ~= 1/N sum_n sum_t d/dtheta log pi(l_t^n) * (R^n - b_t^n)
  // We minimise, so the surrogate whose gradient is minus that estimate is
  //     L_reinforce = -1/N sum_n sum_t log pi(l_t^n) * (R^n - b_t^n).detach()
  // The advantage (R - b_t) is a constant here: only log pi carries the gradient, into the
  // location network (and, with RamOptions::reinforce_into_core, through h_t into the core
  // and glimpse networks).
  const int64_t steps = output.location_log_probs.shape()[1];
  Tensor target = Tensor::empty({N, steps});  // R repeated over the steps
  Tensor advantage = Tensor::empty({N, steps});
  const real* b = output.baselines.data();
  for (int64_t n = 0; n < N; n++)
    for (int64_t t = 0; t < steps; t++) {
      target.data()[n * steps + t] = reward[n];
      advantage.data()[n * steps + t] = reward[n] - b[n * steps + t];
    }
  Tensor reinforce = -(sum(output.location_log_probs * advantage) / static_cast<real>(N));
  // The baseline learns E[R | h_t] by least squares: mean over (n, t) of (b_t - R)^2.
  Tensor baseline_error = mse_loss(output.baselines, target);
  loss.total = loss.total + reinforce + baseline_error;
  loss.reinforce = reinforce.item();
  loss.baseline = baseline_error.item();
  return loss;
}

}  // namespace glimpse
