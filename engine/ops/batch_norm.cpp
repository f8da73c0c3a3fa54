// batch_norm: normalise each channel over the batch (Ioffe & Szegedy 2015, Algorithm 1).
//
// x (N, C, H, W) or (N, C); gamma, beta, running_mean, running_var (C). For each channel c the
// M = N*H*W values x_i (every image, every pixel) are normalised together:
//
//   training:  mean = (1/M) sum_i x_i,   var = (1/M) sum_i (x_i - mean)^2   (biased, two passes)
//   eval:      mean = running_mean,      var = running_var
//   inv_std = 1 / sqrt(var + eps),   xhat_i = (x_i - mean) * inv_std,   y_i = gamma * xhat_i + beta
//
// In training the running statistics move towards the batch ones, in place, as in PyTorch:
//   running_mean = (1 - momentum) * running_mean + momentum * mean
//   running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)
// This update is a side effect on buffers, not part of the graph: it has no gradient. It happens
// whenever training is true, even inside a NoGradGuard (PyTorch does the same), and is skipped when
// the running tensors are undefined (track_running_stats = False). gamma / beta may be undefined:
// then they are 1 / 0 and get no gradient.
//
// Backward, per channel, with dy the incoming gradient and sums over the M values i:
//   dbeta  += sum_i dy_i
//   dgamma += sum_i dy_i * xhat_i
//   eval:      mean and var are constants, so  dx_i += gamma * inv_std * dy_i
//   training:  mean and var depend on every x_j. With dxhat_i = gamma * dy_i,
//     dvar   = sum_i dxhat_i * (x_i - mean) * (-1/2) * inv_std^3
//     dmean  = -inv_std * sum_i dxhat_i             (the dvar term through mean vanishes:
//                                                    sum_i (x_i - mean) = 0)
//     dx_i   = dxhat_i * inv_std + dvar * 2 (x_i - mean) / M + dmean / M
//   and substituting x_i - mean = xhat_i / inv_std, everything collapses to
//     dx_i  += (1/M) * gamma * inv_std * (M * dy_i - sum_j dy_j - xhat_i * sum_j dy_j * xhat_j)
//   which needs only the two sums already computed for dgamma and dbeta.
// Saved for backward: x (a handle, no copy), and the mean and inv_std used per channel; xhat is
// recomputed from them rather than stored (it would be a second tensor the size of x).
//
// batch_norm_relu: relu(batch_norm(x)) as one op, in fewer passes (the block conv -> BN -> relu
// of every ResNet), the same numbers. The forward writes max(y, 0) where batch_norm wrote y; the
// backward lets the gradient through the relu, g_i = dy_i where the output is positive and 0
// where the relu cut it, and runs batch_norm's backward on g: no relu output of its own, and g
// is written once where the relu's input gradient was zeroed and then added into.
//
// Synchronised BN (a data-parallel run, `across` given): each process holds a share of the batch,
// and the sums over i above run over every process's values: M, the two sums of the statistics
// and the two sums of dx are added across the processes, so each normalises as one process would
// over the whole batch. dgamma and dbeta stay this process's sums, as every parameter's gradient
// does until the run averages them.
#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "engine/ops/lane_sum.h"
#include "engine/parallel.h"

namespace glimpse {

// The layout seen as (N, C, HW): channel c is N blocks of HW values, one per image.
struct NormShape {
  int64_t N, C, HW;
  int64_t M() const { return N * HW; }  // values per channel
  const real* block(const real* t, int64_t n, int64_t c) const { return t + (n * C + c) * HW; }
  real* block(real* t, int64_t n, int64_t c) const { return t + (n * C + c) * HW; }
};

// channels per parallel task: about 16k values each
static int64_t channel_grain(const NormShape& g) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, g.M()));
}

// ---- kernels ----

// A channel's values are N blocks of HW, one per image, at a stride of C * HW: in layers of many
// values (resnet20's first stage: 512 KB a channel, 8 MB the tensor) a pass over the whole tensor
// leaves little of it in the core's cache for the next. So each channel's passes (its statistics,
// then its normalisation; its two gradient sums, then its dx) run one after the other in one task,
// while the channel is still in cache. Only synchronised BN splits them into phases over every
// channel: its sums must be added across the processes before the next pass can start.

// sum_i term(x_i) over channel c: each image's block summed in float (lane_sum), the blocks in double
template <typename Term>
static double channel_sum(const real* x, const NormShape& g, int64_t c, const Term& term) {
  double total = 0;
  for (int64_t n = 0; n < g.N; n++) {
    const real* x_b = g.block(x, n, c);
    total += lane_sum(g.HW, [x_b, &term](int64_t i) { return term(x_b[i]); });
  }
  return total;
}

// The terms of the two passes of the statistics: the values, then their squared deviations
static real value(real v) { return v; }
static auto squared_deviation_from(real mean) {
  return [mean](real v) { return (v - mean) * (v - mean); };
}

// mean and biased variance of channel c over its M values, in two passes (no cancellation of
// sum x^2 - M mean^2)
static void channel_statistics(real& mean, real& var, const real* x, const NormShape& g, int64_t c, double M) {
  mean = static_cast<real>(channel_sum(x, g, c, value) / M);
  var = static_cast<real>(channel_sum(x, g, c, squared_deviation_from(mean)) / M);
}

// The same over a data-parallel run's whole batch: each pass's sums and M added across the
// processes (`across`) before the next pass, so a phase over every channel at a time.
static void statistics_across(real* mean, real* var, const real* x, const NormShape& g, double M,
                              const ReplicaSum& across) {
  std::vector<double> totals(static_cast<size_t>(g.C));
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) totals[static_cast<size_t>(c)] = channel_sum(x, g, c, value);
  });
  across(totals.data(), g.C);
  for (int64_t c = 0; c < g.C; c++) mean[c] = static_cast<real>(totals[static_cast<size_t>(c)] / M);
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++)
      totals[static_cast<size_t>(c)] = channel_sum(x, g, c, squared_deviation_from(mean[c]));
  });
  across(totals.data(), g.C);
  for (int64_t c = 0; c < g.C; c++) var[c] = static_cast<real>(totals[static_cast<size_t>(c)] / M);
}

// y = gamma * (x - mean) * inv_std + beta over channel c; gamma / beta null means 1 / 0.
// relu_after: y = max(that, 0) (a NaN stays NaN, as relu's).
static void normalise_channel(real* y, const real* x, real mean, real inv_std, const real* gamma, const real* beta,
                              bool relu_after, const NormShape& g, int64_t c) {
  const real scale = (gamma ? gamma[c] : 1) * inv_std;  // y = scale * x + shift
  const real shift = (beta ? beta[c] : 0) - scale * mean;
  for (int64_t n = 0; n < g.N; n++) {
    const real* x_b = g.block(x, n, c);
    real* y_b = g.block(y, n, c);
    for (int64_t i = 0; i < g.HW; i++) y_b[i] = scale * x_b[i] + shift;
    if (relu_after)
      for (int64_t i = 0; i < g.HW; i++) y_b[i] = y_b[i] < 0 ? 0 : y_b[i];
  }
}

// The two sums of the backward over channel c: sum_i dy_i and sum_i dy_i * xhat_i.
struct GradientSums {
  double dy = 0, dy_xhat = 0;
};
static GradientSums channel_gradient_sums(const real* dy, const real* x, real mean, real inv_std, const NormShape& g,
                                          int64_t c) {
  GradientSums sums;
  for (int64_t n = 0; n < g.N; n++) {
    const real* dy_b = g.block(dy, n, c);
    const real* x_b = g.block(x, n, c);
    sums.dy += lane_sum(g.HW, [dy_b](int64_t i) { return dy_b[i]; });
    sums.dy_xhat += lane_sum(g.HW, [dy_b, x_b, mean](int64_t i) { return dy_b[i] * (x_b[i] - mean); });
  }
  sums.dy_xhat *= inv_std;  // the sum above was of dy * (x - mean)
  return sums;
}

// dx += its formula of the header over channel c, for training (with the sums over M values) or eval
static void channel_input_gradient(real* dx, const real* dy, const real* x, real mean, real inv_std, const real* gamma,
                                   bool training, const GradientSums& sums, double M, const NormShape& g, int64_t c) {
  const real k = (gamma ? gamma[c] : 1) * inv_std;  // gamma * inv_std
  // dx_i += k * (dy_i - mean(dy) - xhat_i * mean(dy * xhat)) in training, k * dy_i in eval
  const real mean_dy = training ? static_cast<real>(sums.dy / M) : 0;
  const real mean_dy_xhat = training ? static_cast<real>(sums.dy_xhat / M) : 0;
  for (int64_t n = 0; n < g.N; n++) {
    const real* dy_b = g.block(dy, n, c);
    const real* x_b = g.block(x, n, c);
    real* dx_b = g.block(dx, n, c);
    for (int64_t i = 0; i < g.HW; i++) {
      const real xhat = (x_b[i] - mean) * inv_std;
      dx_b[i] += k * (dy_b[i] - mean_dy - xhat * mean_dy_xhat);
    }
  }
}

// batch_norm_relu's gradient through its relu: g_i = dy_i where the output y_i is positive, else 0.
// Written, not added: g is a buffer of its own, where the relu's input gradient was zeroed first.
static void through_relu(real* g, const real* dy, const real* y, int64_t n) {
  parallel_for(n, int64_t{1} << 15, [=](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const real d = dy[i];  // read whatever the sign: a select, not a branch, so the loop vectorises
      g[i] = y[i] > 0 ? d : 0;
    }
  });
}

// ---- autograd glue ----

struct BatchNormBackward : Node {
  Tensor x, gamma;                  // saved inputs (gamma may be undefined)
  Tensor relu_y;                    // batch_norm_relu: its saved output, detached; undefined for batch_norm
  std::vector<real> mean, inv_std;  // the statistics the forward normalised with, (C)
  bool training = false;            // were they the batch's own (then they depend on x)?
  NormShape g;
  double M = 0;       // values per channel the statistics were taken over
  ReplicaSum across;  // a data-parallel run's: the dx sums are the whole batch's too
  std::string name() const override { return relu_y.defined() ? "batch_norm_relu" : "batch_norm"; }
  void backward(const Tensor& dy) override {
    if (!relu_y.defined()) return normalisation_backward(dy);
    Tensor reaching = Tensor::empty(dy.shape());  // the gradient that reaches the normalisation's output
    through_relu(reaching.data(), dy.data(), relu_y.data(), reaching.numel());
    normalisation_backward(reaching);
  }
  void normalisation_backward(const Tensor& dy) {
    real* dgamma = needs_grad(1) ? input_grad(1).data() : nullptr;
    real* dbeta = needs_grad(2) ? input_grad(2).data() : nullptr;
    real* dx = needs_grad(0) ? input_grad(0).data() : nullptr;
    const real* gamma_c = gamma.defined() ? gamma.data() : nullptr;
    std::vector<GradientSums> sums(static_cast<size_t>(g.C));
    // dgamma and dbeta are this process's sums (a data-parallel run averages parameter gradients)
    auto sum_channel = [&](int64_t c) {
      GradientSums& s = sums[static_cast<size_t>(c)];
      s = channel_gradient_sums(dy.data(), x.data(), mean[c], inv_std[c], g, c);
      if (dgamma) dgamma[c] += static_cast<real>(s.dy_xhat);
      if (dbeta) dbeta[c] += static_cast<real>(s.dy);
    };
    auto dx_channel = [&](int64_t c) {
      channel_input_gradient(dx, dy.data(), x.data(), mean[c], inv_std[c], gamma_c, training,
                             sums[static_cast<size_t>(c)], M, g, c);
    };
    const bool sums_across = training && across && dx;
    parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) {
        sum_channel(c);
        if (dx && !sums_across) dx_channel(c);  // while the channel is in cache
      }
    });
    if (!sums_across) return;
    std::vector<double> dy_sums(sums.size()), dy_xhat_sums(sums.size());  // every process's sums
    for (size_t c = 0; c < sums.size(); c++) dy_sums[c] = sums[c].dy, dy_xhat_sums[c] = sums[c].dy_xhat;
    across(dy_sums.data(), g.C);
    across(dy_xhat_sums.data(), g.C);
    for (size_t c = 0; c < sums.size(); c++) sums[c] = {dy_sums[c], dy_xhat_sums[c]};
    parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) dx_channel(c);
    });
  }
};

static void check_channels(const std::string& op, const Tensor& t, int64_t C, const char* what, const Tensor& x) {
  if (t.defined() && t.shape() != Shape{C})
    fail(op + ": " + what + " must be (" + std::to_string(C) + ") for input " + shape_str(x.shape()) + ", got " +
         shape_str(t.shape()));
}

// batch_norm and batch_norm_relu: the checks, the statistics, the forward and the node
static Tensor normalise(const std::string& op, bool relu_after, const Tensor& x, const Tensor& gamma,
                        const Tensor& beta, const Tensor& running_mean, const Tensor& running_var, bool training,
                        real momentum, real eps, const ReplicaSum& across) {
  if (x.dim() != 2 && x.dim() != 4) fail(op + ": input must be (N, C) or (N, C, H, W), got " + shape_str(x.shape()));
  const NormShape g{x.size(0), x.size(1), x.dim() == 4 ? x.size(2) * x.size(3) : 1};
  check_channels(op, gamma, g.C, "gamma", x);
  check_channels(op, beta, g.C, "beta", x);
  check_channels(op, running_mean, g.C, "running_mean", x);
  check_channels(op, running_var, g.C, "running_var", x);
  if (running_mean.defined() != running_var.defined())
    fail(op + ": running_mean and running_var must be both given or both undefined");
  if (!training && !running_mean.defined()) fail(op + ": evaluation needs running statistics");
  double M = static_cast<double>(g.M());  // values per channel: every process's in a data-parallel run
  if (training && across) across(&M, 1);
  if (training && M < 2)
    fail(op + ": training needs more than one value per channel, got input " + shape_str(x.shape()));

  auto node = std::make_shared<BatchNormBackward>();
  node->mean.resize(g.C), node->inv_std.resize(g.C);
  real *mean = node->mean.data(), *inv_std = node->inv_std.data();
  std::vector<real> var(g.C);
  if (training && across) statistics_across(mean, var.data(), x.data(), g, M, across);
  if (!training) {
    for (int64_t c = 0; c < g.C; c++) mean[c] = running_mean.data()[c], var[c] = running_var.data()[c];
  }
  Tensor y = Tensor::empty(x.shape());
  const real* gamma_c = gamma.defined() ? gamma.data() : nullptr;
  const real* beta_c = beta.defined() ? beta.data() : nullptr;
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      if (training && !across) channel_statistics(mean[c], var[c], x.data(), g, c, M);
      inv_std[c] = 1 / std::sqrt(var[c] + eps);
      normalise_channel(y.data(), x.data(), mean[c], inv_std[c], gamma_c, beta_c, relu_after, g, c);
    }
  });
  if (training && running_mean.defined()) {  // in place, outside the graph
    const real unbiased = static_cast<real>(M) / static_cast<real>(M - 1);
    for (int64_t c = 0; c < g.C; c++) {
      running_mean.data()[c] = (1 - momentum) * running_mean.data()[c] + momentum * mean[c];
      running_var.data()[c] = (1 - momentum) * running_var.data()[c] + momentum * var[c] * unbiased;
    }
  }
  node->x = x.detach();
  if (relu_after) node->relu_y = y.detach();
  node->gamma = gamma.defined() ? gamma.detach() : Tensor();
  node->training = training;
  node->g = g;
  node->M = M;
  node->across = training ? across : ReplicaSum();
  return record(y, node, {x, gamma, beta},
                OpSettings()
                    .with_int("training", training)
                    .with_real("eps", eps)
                    .with_constant(running_mean)
                    .with_constant(running_var));
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, real momentum, real eps, const ReplicaSum& across) {
  return normalise("batch_norm", false, x, gamma, beta, running_mean, running_var, training, momentum, eps, across);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, bool training, real momentum, real eps, const ReplicaSum& across) {
  return normalise("batch_norm_relu", true, x, gamma, beta, running_mean, running_var, training, momentum, eps, across);
}

}  // namespace glimpse
