// relative_logits: the 2-D relative position logits of attention-augmented convolution
// (Bello et al., ICCV 2019, Sec. 3.2, Eq. 3).
//
// A query at pixel i = (y_i, x_i) scores the key at pixel j = (y_j, x_j) by where j lies relative
// to i, through two learnt tables of offsets, one for width and one for height:
//
//   L[b,i,j] = sum_c q[b,c,i] * (rel_w[x_j - x_i + W-1, c] + rel_h[y_j - y_i + H-1, c])
//   q (B, D, H, W), rel_w (2W-1, D), rel_h (2H-1, D) -> L (B, H*W, H*W),   i, j = y*W + x
//
// (B is images x heads, D the depth of a head's query.) The sum over c does not depend on j
// beyond its offset, so each query is first scored against every row of the two tables,
//   qw[b,i,m] = sum_c q[b,c,i] rel_w[m,c]   (2W-1 values)     qh[b,i,m] = sum_c q[b,c,i] rel_h[m,c]
// and L[b,i,j] = qw[b,i, x_j-x_i+W-1] + qh[b,i, y_j-y_i+H-1] gathers from them: the paper's
// "relative to absolute" step, without materialising a (HW, HW, D) tensor of embeddings.
//
// Backward, from dL (B, HW, HW): scatter back to the offsets, then the two small products:
//   dqw[b,i,m] = sum over j with x_j - x_i + W-1 = m of dL[b,i,j]      (dqh likewise with y)
//   dq[b,c,i]    += sum_m dqw[b,i,m] rel_w[m,c] + sum_m dqh[b,i,m] rel_h[m,c]
//   drel_w[m,c]  += sum_{b,i} dqw[b,i,m] q[b,c,i]                      (drel_h likewise)
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/parallel.h"

namespace glimpse {

namespace {

struct Relative {
  int64_t B, D, H, W;
  int64_t HW() const { return H * W; }
  int64_t widths() const { return 2 * W - 1; }
  int64_t heights() const { return 2 * H - 1; }
};

// ---- kernels ----

void relative_logits_forward(real* L, const real* q, const real* rel_w, const real* rel_h, const Relative& s) {
  const int64_t HW = s.HW();
  parallel_for(s.B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<real> qw(static_cast<size_t>(s.widths())), qh(static_cast<size_t>(s.heights()));
    for (int64_t b = b0; b < b1; b++)
      for (int64_t i = 0; i < HW; i++) {
        const int64_t yi = i / s.W, xi = i % s.W;
        for (int64_t m = 0; m < s.widths(); m++) {
          real total = 0;
          for (int64_t c = 0; c < s.D; c++) total += q[(b * s.D + c) * HW + i] * rel_w[m * s.D + c];
          qw[m] = total;
        }
        for (int64_t m = 0; m < s.heights(); m++) {
          real total = 0;
          for (int64_t c = 0; c < s.D; c++) total += q[(b * s.D + c) * HW + i] * rel_h[m * s.D + c];
          qh[m] = total;
        }
        real* Li = L + (b * HW + i) * HW;
        for (int64_t j = 0; j < HW; j++) Li[j] = qw[j % s.W - xi + s.W - 1] + qh[j / s.W - yi + s.H - 1];
      }
  });
}

// Each of dq, drel_w, drel_h may be null.
void relative_logits_backward(real* dq, real* drel_w, real* drel_h, const real* dL, const real* q, const real* rel_w,
                              const real* rel_h, const Relative& s) {
  const int64_t HW = s.HW(), Mw = s.widths(), Mh = s.heights();
  std::vector<real> dqw(static_cast<size_t>(s.B * HW * Mw), 0), dqh(static_cast<size_t>(s.B * HW * Mh), 0);
  parallel_for(s.B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++)
      for (int64_t i = 0; i < HW; i++) {
        const int64_t yi = i / s.W, xi = i % s.W;
        const real* dLi = dL + (b * HW + i) * HW;
        real* dqwi = dqw.data() + (b * HW + i) * Mw;
        real* dqhi = dqh.data() + (b * HW + i) * Mh;
        for (int64_t j = 0; j < HW; j++) {  // in the forward: L[b,i,j] = qw[x_j-x_i+W-1] + qh[y_j-y_i+H-1]
          dqwi[j % s.W - xi + s.W - 1] += dLi[j];
          dqhi[j / s.W - yi + s.H - 1] += dLi[j];
        }
        if (dq)
          for (int64_t c = 0; c < s.D; c++) {
            real total = 0;
            for (int64_t m = 0; m < Mw; m++) total += dqwi[m] * rel_w[m * s.D + c];
            for (int64_t m = 0; m < Mh; m++) total += dqhi[m] * rel_h[m * s.D + c];
            dq[(b * s.D + c) * HW + i] += total;
          }
      }
  });
  // the tables gather from every query: on the calling thread, in a fixed order
  for (int64_t b = 0; b < s.B; b++)
    for (int64_t c = 0; c < s.D; c++)
      for (int64_t i = 0; i < HW; i++) {
        const real qi = q[(b * s.D + c) * HW + i];
        if (drel_w)
          for (int64_t m = 0; m < Mw; m++) drel_w[m * s.D + c] += dqw[(b * HW + i) * Mw + m] * qi;
        if (drel_h)
          for (int64_t m = 0; m < Mh; m++) drel_h[m * s.D + c] += dqh[(b * HW + i) * Mh + m] * qi;
      }
}

// ---- autograd glue ----

struct RelativeLogitsBackward : Node {
  Tensor q, rel_w, rel_h;  // detached
  Relative s;
  std::string name() const override { return "relative_logits"; }
  void backward(const Tensor& dL) override {
    relative_logits_backward(
        needs_grad(0) ? input_grad(0).data() : nullptr, needs_grad(1) ? input_grad(1).data() : nullptr,
        needs_grad(2) ? input_grad(2).data() : nullptr, dL.data(), q.data(), rel_w.data(), rel_h.data(), s);
  }
};

}  // namespace

Tensor relative_logits(const Tensor& q, const Tensor& rel_w, const Tensor& rel_h) {
  if (q.dim() != 4 || rel_w.dim() != 2 || rel_h.dim() != 2)
    fail("relative_logits: expects q (B, D, H, W), rel_w (2W-1, D) and rel_h (2H-1, D), got " + shape_str(q.shape()) +
         ", " + shape_str(rel_w.shape()) + ", " + shape_str(rel_h.shape()));
  Relative s{.B = q.size(0), .D = q.size(1), .H = q.size(2), .W = q.size(3)};
  if (rel_w.shape() != Shape{s.widths(), s.D} || rel_h.shape() != Shape{s.heights(), s.D})
    fail("relative_logits: for q " + shape_str(q.shape()) + " the tables must be rel_w (" + std::to_string(s.widths()) +
         ", " + std::to_string(s.D) + ") and rel_h (" + std::to_string(s.heights()) + ", " + std::to_string(s.D) +
         "), got " + shape_str(rel_w.shape()) + " and " + shape_str(rel_h.shape()));
  Tensor L = Tensor::empty({s.B, s.HW(), s.HW()});
  relative_logits_forward(L.data(), q.data(), rel_w.data(), rel_h.data(), s);
  auto node = std::make_shared<RelativeLogitsBackward>();
  node->q = q.detach();
  node->rel_w = rel_w.detach();
  node->rel_h = rel_h.detach();
  node->s = s;
  return record(L, node, {q, rel_w, rel_h});
}

}  // namespace glimpse
