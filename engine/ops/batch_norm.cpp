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

// sum_{i < n} term(i) in 8 interleaved partial sums. One running sum would be a chain of
// dependent additions, each waiting for the last (the compiler may not reorder float additions);
// 8 independent ones fill a vector register and run 8 at a time. Still a fixed order: the same
// result on every run and at every thread count.
template <typename Term>
static real lane_sum(int64_t n, const Term& term) {
  constexpr int lanes = 8;
  real partial[lanes] = {};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int j = 0; j < lanes; j++) partial[j] += term(i + j);
  real total = 0;
  for (; i < n; i++) total += term(i);
  for (real lane : partial) total += lane;
  return total;
}

// sum_i f(x_i) of each channel: each image's block summed in float (lane_sum), the blocks in double
template <typename Term>
static std::vector<double> channel_sums(const real* x, const NormShape& g, const Term& term) {
  std::vector<double> sums(static_cast<size_t>(g.C));
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      double total = 0;
      for (int64_t n = 0; n < g.N; n++) {
        const real* x_b = g.block(x, n, c);
        total += lane_sum(g.HW, [x_b, c, &term](int64_t i) { return term(x_b[i], c); });
      }
      sums[static_cast<size_t>(c)] = total;
    }
  });
  return sums;
}

// mean and biased variance of each channel over M values, in two passes (no cancellation of
// sum x^2 - M mean^2). In a data-parallel run (`across` given) the sums and M are the whole
// batch's: every process's added together.
static void batch_norm_statistics(real* mean, real* var, const real* x, const NormShape& g, double M,
                                  const ReplicaSum& across) {
  std::vector<double> totals = channel_sums(x, g, [](real v, int64_t) { return v; });
  if (across) across(totals.data(), g.C);
  for (int64_t c = 0; c < g.C; c++) mean[c] = static_cast<real>(totals[static_cast<size_t>(c)] / M);
  std::vector<double> squares = channel_sums(x, g, [mean](real v, int64_t c) { return (v - mean[c]) * (v - mean[c]); });
  if (across) across(squares.data(), g.C);
  for (int64_t c = 0; c < g.C; c++) var[c] = static_cast<real>(squares[static_cast<size_t>(c)] / M);
}

// y = gamma * (x - mean) * inv_std + beta, per channel; gamma / beta null means 1 / 0.
// relu_after: y = max(that, 0) (a NaN stays NaN, as relu's).
static void batch_norm_forward(real* y, const real* x, const real* mean, const real* inv_std, const real* gamma,
                               const real* beta, bool relu_after, const NormShape& g) {
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      const real scale = (gamma ? gamma[c] : 1) * inv_std[c];  // y = scale * x + shift
      const real shift = (beta ? beta[c] : 0) - scale * mean[c];
      for (int64_t n = 0; n < g.N; n++) {
        const real* x_b = g.block(x, n, c);
        real* y_b = g.block(y, n, c);
        for (int64_t i = 0; i < g.HW; i++) y_b[i] = scale * x_b[i] + shift;
        if (relu_after)
          for (int64_t i = 0; i < g.HW; i++) y_b[i] = y_b[i] < 0 ? 0 : y_b[i];
      }
    }
  });
}

// The two sums of the backward, per channel: sum_i dy_i and sum_i dy_i * xhat_i.
struct GradientSums {
  std::vector<double> dy, dy_xhat;
};
static GradientSums batch_norm_gradient_sums(const real* dy, const real* x, const real* mean, const real* inv_std,
                                             const NormShape& g) {
  GradientSums sums{std::vector<double>(static_cast<size_t>(g.C)), std::vector<double>(static_cast<size_t>(g.C))};
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      const real mean_c = mean[c];
      double sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t n = 0; n < g.N; n++) {
        const real* dy_b = g.block(dy, n, c);
        const real* x_b = g.block(x, n, c);
        sum_dy += lane_sum(g.HW, [dy_b](int64_t i) { return dy_b[i]; });
        sum_dy_xhat += lane_sum(g.HW, [dy_b, x_b, mean_c](int64_t i) { return dy_b[i] * (x_b[i] - mean_c); });
      }
      sums.dy[static_cast<size_t>(c)] = sum_dy;
      sums.dy_xhat[static_cast<size_t>(c)] = sum_dy_xhat * inv_std[c];  // the sum above was of dy * (x - mean)
    }
  });
  return sums;
}

// dx += its formula of the header, for training (with the sums over M values) or eval
static void batch_norm_input_gradient(real* dx, const real* dy, const real* x, const real* mean, const real* inv_std,
                                      const real* gamma, bool training, const GradientSums& sums, double M,
                                      const NormShape& g) {
  parallel_for(g.C, channel_grain(g), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      const real mean_c = mean[c], inv_std_c = inv_std[c];  // locals: dx below may not alias them
      const real k = (gamma ? gamma[c] : 1) * inv_std_c;    // gamma * inv_std
      // dx_i += k * (dy_i - mean(dy) - xhat_i * mean(dy * xhat)) in training, k * dy_i in eval
      const real mean_dy = training ? static_cast<real>(sums.dy[static_cast<size_t>(c)] / M) : 0;
      const real mean_dy_xhat = training ? static_cast<real>(sums.dy_xhat[static_cast<size_t>(c)] / M) : 0;
      for (int64_t n = 0; n < g.N; n++) {
        const real* dy_b = g.block(dy, n, c);
        const real* x_b = g.block(x, n, c);
        real* dx_b = g.block(dx, n, c);
        for (int64_t i = 0; i < g.HW; i++) {
          const real xhat = (x_b[i] - mean_c) * inv_std_c;
          dx_b[i] += k * (dy_b[i] - mean_dy - xhat * mean_dy_xhat);
        }
      }
    }
  });
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
    GradientSums sums = batch_norm_gradient_sums(dy.data(), x.data(), mean.data(), inv_std.data(), g);
    // dgamma and dbeta from this process's values (a data-parallel run averages parameter gradients)
    if (needs_grad(2)) add_to(input_grad(2).data(), sums.dy);
    if (needs_grad(1)) add_to(input_grad(1).data(), sums.dy_xhat);
    if (!needs_grad(0)) return;
    if (training && across) {
      across(sums.dy.data(), g.C);
      across(sums.dy_xhat.data(), g.C);
    }
    batch_norm_input_gradient(input_grad(0).data(), dy.data(), x.data(), mean.data(), inv_std.data(),
                              gamma.defined() ? gamma.data() : nullptr, training, sums, M, g);
  }
  static void add_to(real* grad, const std::vector<double>& sums) {
    for (size_t c = 0; c < sums.size(); c++) grad[c] += static_cast<real>(sums[c]);
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
  if (training) {
    std::vector<real> var(g.C);
    batch_norm_statistics(node->mean.data(), var.data(), x.data(), g, M, across);
    for (int64_t c = 0; c < g.C; c++) node->inv_std[c] = 1 / std::sqrt(var[c] + eps);
    if (running_mean.defined()) {  // in place, outside the graph
      const real unbiased = static_cast<real>(M) / static_cast<real>(M - 1);
      for (int64_t c = 0; c < g.C; c++) {
        running_mean.data()[c] = (1 - momentum) * running_mean.data()[c] + momentum * node->mean[c];
        running_var.data()[c] = (1 - momentum) * running_var.data()[c] + momentum * var[c] * unbiased;
      }
    }
  } else {
    for (int64_t c = 0; c < g.C; c++) {
      node->mean[c] = running_mean.data()[c];
      node->inv_std[c] = 1 / std::sqrt(running_var.data()[c] + eps);
    }
  }
  Tensor y = Tensor::empty(x.shape());
  batch_norm_forward(y.data(), x.data(), node->mean.data(), node->inv_std.data(),
                     gamma.defined() ? gamma.data() : nullptr, beta.defined() ? beta.data() : nullptr, relu_after, g);
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
