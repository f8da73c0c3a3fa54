// layer_norm: normalise each sample over its last axes (Ba, Kiros & Hinton 2016, Eq. 4).
//
// x (..., D_1, ..., D_k); gamma, beta (D_1, ..., D_k): the last k axes of x, M = D_1 * ... * D_k
// values per row. Each row (one sample's M values x_1..x_M) is normalised on its own:
//
//   mean = (1/M) sum_i x_i,   var = (1/M) sum_i (x_i - mean)^2   (biased, two passes)
//   inv_std = 1 / sqrt(var + eps),   xhat_i = (x_i - mean) * inv_std,   y_i = gamma_i * xhat_i + beta_i
//
// Unlike batch_norm, the statistics are each sample's own, so training and evaluation compute the
// same thing and there are no running statistics; gamma and beta are per position, not per channel.
//
// Backward, per row, with dy the incoming gradient and dxhat_i = gamma_i * dy_i:
//   dbeta_i  += dy_i                  dgamma_i += dy_i * xhat_i          (summed over the rows)
//   dx_i     += (1/M) * inv_std * (M * dxhat_i - sum_j dxhat_j - xhat_i * sum_j dxhat_j * xhat_j)
// the same collapse of the mean and variance terms as batch_norm's (engine/ops/batch_norm.cpp),
// with gamma inside the sums since it varies along the row.
// Saved for backward: x (a handle), gamma, and each row's mean and inv_std; xhat is recomputed.
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

constexpr int64_t layer_norm_grain = 1 << 14;  // values per parallel task

int64_t rows_per_task(int64_t M) { return std::max<int64_t>(1, layer_norm_grain / std::max<int64_t>(1, M)); }

// ---- kernels: R rows of M values ----

void layer_norm_forward(real* y, real* mean, real* inv_std, const real* x, const real* gamma, const real* beta,
                        int64_t R, int64_t M, real eps) {
  parallel_for(R, rows_per_task(M), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const real* xr = x + r * M;
      real* yr = y + r * M;
      double total = 0, squares = 0;
      for (int64_t i = 0; i < M; i++) total += xr[i];
      const real m = static_cast<real>(total / static_cast<double>(M));
      for (int64_t i = 0; i < M; i++) squares += static_cast<double>(xr[i] - m) * (xr[i] - m);
      const real s = 1 / std::sqrt(static_cast<real>(squares / static_cast<double>(M)) + eps);
      for (int64_t i = 0; i < M; i++) yr[i] = gamma[i] * (xr[i] - m) * s + beta[i];
      mean[r] = m;
      inv_std[r] = s;
    }
  });
}

// dx (may be null) += the formula of the header, row by row; dgamma, dbeta (may be null) += their
// sums over the rows, on the calling thread (they gather from every row).
void layer_norm_backward(real* dx, real* dgamma, real* dbeta, const real* dy, const real* x, const real* mean,
                         const real* inv_std, const real* gamma, int64_t R, int64_t M) {
  if (dx)
    parallel_for(R, rows_per_task(M), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        const real* xr = x + r * M;
        const real* dyr = dy + r * M;
        double sum_dxhat = 0, sum_dxhat_xhat = 0;
        for (int64_t i = 0; i < M; i++) {
          const real dxhat = gamma[i] * dyr[i], xhat = (xr[i] - mean[r]) * inv_std[r];
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * xhat;
        }
        real* dxr = dx + r * M;
        for (int64_t i = 0; i < M; i++) {
          const real dxhat = gamma[i] * dyr[i], xhat = (xr[i] - mean[r]) * inv_std[r];
          dxr[i] +=
              inv_std[r] / static_cast<real>(M) *
              (static_cast<real>(M) * dxhat - static_cast<real>(sum_dxhat) - xhat * static_cast<real>(sum_dxhat_xhat));
        }
      }
    });
  for (int64_t r = 0; r < R; r++)
    for (int64_t i = 0; i < M; i++) {
      if (dgamma) dgamma[i] += dy[r * M + i] * (x[r * M + i] - mean[r]) * inv_std[r];
      if (dbeta) dbeta[i] += dy[r * M + i];
    }
}

// ---- autograd glue ----

struct LayerNormBackward : Node {
  Tensor x, gamma, mean, inv_std;  // x and gamma detached; mean, inv_std (R)
  int64_t R, M;
  std::string name() const override { return "layer_norm"; }
  void backward(const Tensor& dy) override {
    layer_norm_backward(needs_grad(0) ? input_grad(0).data() : nullptr, needs_grad(1) ? input_grad(1).data() : nullptr,
                        needs_grad(2) ? input_grad(2).data() : nullptr, dy.data(), x.data(), mean.data(),
                        inv_std.data(), gamma.data(), R, M);
  }
};

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, real eps) {
  const Shape& row = gamma.shape();
  const int64_t k = static_cast<int64_t>(row.size());
  const bool rows_fit = k >= 1 && x.dim() >= k && Shape(x.shape().end() - k, x.shape().end()) == row;
  if (!rows_fit || beta.shape() != row)
    fail("layer_norm: gamma and beta must have the shape of x's last axes, got x " + shape_str(x.shape()) + ", gamma " +
         shape_str(gamma.shape()) + ", beta " + shape_str(beta.shape()));
  const int64_t M = gamma.numel(), R = M > 0 ? x.numel() / M : 0;
  Tensor y = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({R}), inv_std = Tensor::empty({R});
  layer_norm_forward(y.data(), mean.data(), inv_std.data(), x.data(), gamma.data(), beta.data(), R, M, eps);
  auto node = std::make_shared<LayerNormBackward>();
  node->x = x.detach();
  node->gamma = gamma.detach();
  node->mean = mean;
  node->inv_std = inv_std;
  node->R = R, node->M = M;
  return record(y, node, {x, gamma, beta}, OpSettings().with_real("eps", eps));
}

}  // namespace glimpse
