// Every public op of the engine, one line each: the table of contents of engine/ops/.
//
// Each op is a free function that computes its output and, when a gradient is needed, records
// a Node holding its backward (autograd.h). Each op file starts with the forward and backward
// math; the gradient check of every op is in tests/test_ops_*.cpp.
// Shapes: N batch, C channels, H/W height/width, K classes (or output channels for conv2d).
#pragma once

#include <functional>
#include <vector>

#include "engine/autograd.h"
#include "engine/random.h"
#include "engine/tensor.h"

namespace glimpse {

// ---- element-wise arithmetic with NumPy broadcasting (ops/arithmetic.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);                            // a + b
Tensor sub(const Tensor& a, const Tensor& b);                            // a - b
Tensor mul(const Tensor& a, const Tensor& b);                            // a * b
Tensor div(const Tensor& a, const Tensor& b);                            // a / b
Tensor neg(const Tensor& x);                                             // -x
Tensor add_scalar(const Tensor& x, real s);                              // x + s
Tensor mul_scalar(const Tensor& x, real s);                              // x * s
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);  // the common shape, or an Error
Tensor sum_to(const Tensor& x, const Shape& shape);                      // sums broadcast axes away (not recorded)

// ---- element-wise functions (ops/elementwise.cpp, ops/activations.cpp) ----
Tensor exp(const Tensor& x);                         // e^x
Tensor log(const Tensor& x);                         // natural log
Tensor sqrt(const Tensor& x);                        // x^(1/2)
Tensor pow(const Tensor& x, real p);                 // x^p
Tensor abs(const Tensor& x);                         // |x|
Tensor clamp(const Tensor& x, real low, real high);  // min(max(x, low), high)
Tensor relu(const Tensor& x);                        // max(x, 0)
Tensor sigmoid(const Tensor& x);                     // 1 / (1 + e^-x)
Tensor tanh(const Tensor& x);                        // (e^x - e^-x) / (e^x + e^-x)

// ---- reductions (ops/reduce.cpp); axes may be negative; empty axes = all axes ----
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor max(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);  // grad to the first maximum
std::vector<int64_t> argmax(const Tensor& x);  // (N, K) -> N indices of the row maxima (not recorded)

// ---- softmax and losses (ops/softmax.cpp, ops/losses.cpp) ----
Tensor softmax(const Tensor& x, int64_t axis);                                   // e^x / sum e^x along axis
Tensor log_softmax(const Tensor& x, int64_t axis);                               // x - log sum e^x along axis
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);  // (N, K), N labels -> mean NLL, fused
Tensor mse_loss(const Tensor& prediction, const Tensor& target);                 // mean (p - t)^2, same shapes

// ---- shape (ops/shape.cpp); outputs are contiguous copies unless said otherwise ----
Tensor reshape(const Tensor& x, const Shape& shape);      // one -1 is inferred; shares storage
Tensor flatten(const Tensor& x, int64_t start_axis = 1);  // (N, C, H, W) -> (N, C*H*W)
Tensor transpose(const Tensor& x, int64_t axis0, int64_t axis1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);  // output axis i = input axis order[i]
Tensor concat(const std::vector<Tensor>& xs, int64_t axis);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);  // [start, end) along axis
Tensor pad(const Tensor& x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
           real value = 0);  // before[i] / after[i] values added on axis i

// ---- linear algebra (ops/matmul.cpp) ----
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false,
              bool transpose_b = false);  // (M,K)(K,N) -> (M,N); here K is the inner size, N the columns
Tensor bmm(const Tensor& a, const Tensor& b, bool transpose_a = false,
           bool transpose_b = false);  // (B,M,K)(B,K,N) -> (B,M,N), B products
Tensor linear(const Tensor& x, const Tensor& w,
              const Tensor& b);  // x (N, in), w (out, in), b (out) or undefined -> x w^T + b

// ---- convolution and pooling (ops/conv2d.cpp, ops/pool.cpp) ----
struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;  // zeros on every side
};
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b,
              Conv2dOptions options = {});  // (N,C,H,W) * (K,C,KH,KW) + b (K) -> (N,K,OH,OW); b may be undefined
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b,
              int64_t padding = 0);  // (N,C,L) * (K,C,KL) + b (K) -> (N,K,OL); direct loops (ops/conv1d.cpp)
struct Pool2dOptions {
  int64_t kernel = 2;
  int64_t stride = 0;   // 0 means stride = kernel
  int64_t padding = 0;  // max pool: -inf padding; avg pool: zeros, counted in the mean (PyTorch's default)
};
Tensor max_pool2d(const Tensor& x, Pool2dOptions options = {});  // (N,C,H,W) -> (N,C,OH,OW); argmax saved
Tensor avg_pool2d(const Tensor& x, Pool2dOptions options = {});  // (N,C,H,W) -> (N,C,OH,OW)
Tensor global_avg_pool2d(const Tensor& x);                       // (N,C,H,W) -> (N,C)
Tensor global_max_pool2d(const Tensor& x);                       // (N,C,H,W) -> (N,C)
Tensor channel_mean(const Tensor& x);                            // (N,C,H,W) -> (N,1,H,W), mean over channels (CBAM)
Tensor channel_max(const Tensor& x);                             // (N,C,H,W) -> (N,1,H,W), max over channels (CBAM)
Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w,
                           bool align_corners);  // (N,C,H,W) -> (N,C,out_h,out_w)

// ---- normalisation and regularisation (ops/batch_norm.cpp, ops/dropout.cpp) ----
// x (N,C,H,W) or (N,C); gamma, beta, running_mean, running_var (C). In training, normalises with
// the batch statistics and updates the running ones in place (momentum as in PyTorch, unbiased
// running variance); in evaluation, normalises with the running statistics.
// `across` (a data-parallel run's, train/data_parallel.h): sums per-channel partial sums over the
// processes in place, so that training normalises over the whole batch (synchronised BN).
using ReplicaSum = std::function<void(double* values, int64_t count)>;
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, real momentum = 0.1f, real eps = 1e-5f,
                  const ReplicaSum& across = {});
// relu(batch_norm(...)), the same numbers, as one op: fewer passes, no relu output of its own
Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, bool training, real momentum = 0.1f, real eps = 1e-5f,
                       const ReplicaSum& across = {});
// x (..., D_1..D_k); gamma, beta (D_1..D_k): each sample normalised over its last k axes, then scaled
// and shifted per position (ops/layer_norm.cpp)
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, real eps = 1e-5f);
// Where a batch's rows sit in the whole batch of a data-parallel step: rows first .. first+N-1 of
// `total` (total 0: the batch is the whole). Dropout then skips the draws of the rows before
// `first` and draws its own: its mask is these rows of the mask one process would draw.
struct RowsOfBatch {
  int64_t first = 0, total = 0;
};
Tensor dropout(const Tensor& x, real p, bool training, Rng& rng,
               RowsOfBatch rows = {});  // zero each value with prob p, scale the rest by 1/(1-p)
Tensor dropout2d(const Tensor& x, real p, bool training, Rng& rng,
                 RowsOfBatch rows = {});  // the same for whole channels of (N,C,H,W)

// ---- sampling and attention (ops/grid_sample.cpp, ops/extract_glimpse.cpp, ops/gaussian.cpp) ----
// theta (N,2,3) -> grid (N,out_h,out_w,2): theta applied to (x, y, 1) of each output pixel's centre,
// the centres in [-1,1] (the grid's points may fall anywhere); align_corners = false
Tensor affine_grid(const Tensor& theta, int64_t out_h, int64_t out_w);
Tensor grid_sample(
    const Tensor& x,
    const Tensor& grid);  // (N,C,H,W), (N,OH,OW,2) -> (N,C,OH,OW); bilinear, zeros outside, align_corners = false
// RAM's glimpse sensor: k square patches centred at l, of side g, 2g, 4g, ..., each average-
// pooled down to g x g; zeros outside the image. l (N,2) = (x, y) in [-1,1] maps to the pixel
// floor((l + 1) / 2 * size), l = 1 to the last one (location_to_pixel). Not differentiable in l;
// gradient flows to x.
Tensor extract_glimpse(const Tensor& x, const Tensor& l, int64_t g, int64_t k);  // (N,C,H,W), (N,2) -> (N, k*C, g, g)
// The centre pixel extract_glimpse reads around, for one coordinate l of a location and an image
// side `size`; outside [-1,1] held within `reach` (the largest patch side) of the image; an Error
// if l is not finite.
int64_t location_to_pixel(real l, int64_t size, int64_t reach);
Tensor gaussian_log_prob(const Tensor& sample, const Tensor& mean,
                         real sigma);  // log N(sample; mean, sigma^2), element-wise

// ---- attention over positions (ops/criss_cross.cpp, ops/relative_logits.cpp) ----
// CCNet: each position's query against the keys of its column (itself skipped) and its row
Tensor criss_cross_logits(const Tensor& Q, const Tensor& K);  // (N,C,H,W) x2 -> (N,H,W,H+W-1)
Tensor criss_cross_sum(const Tensor& A, const Tensor& V);     // weights (N,H,W,H+W-1), values (N,C,H,W) -> (N,C,H,W)
int64_t criss_cross_key(int64_t u, int64_t t, int64_t H, int64_t W);  // the flat index of key t of position u = i*W + j
// attention-augmented convolution: q_i . (rel_w[x_j - x_i] + rel_h[y_j - y_i]) for every pair of pixels
Tensor relative_logits(const Tensor& q, const Tensor& rel_w,
                       const Tensor& rel_h);  // (B,D,H,W), (2W-1,D), (2H-1,D) -> (B,HW,HW)

// ---- operators: shorthands for the ops above ----
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, real s) { return add_scalar(x, s); }
inline Tensor operator+(real s, const Tensor& x) { return add_scalar(x, s); }
inline Tensor operator-(const Tensor& x, real s) { return add_scalar(x, -s); }
inline Tensor operator-(real s, const Tensor& x) { return add_scalar(neg(x), s); }
inline Tensor operator*(const Tensor& x, real s) { return mul_scalar(x, s); }
inline Tensor operator*(real s, const Tensor& x) { return mul_scalar(x, s); }
inline Tensor operator/(const Tensor& x, real s) { return mul_scalar(x, 1 / s); }

}  // namespace glimpse
