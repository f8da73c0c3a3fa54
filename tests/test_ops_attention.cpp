// The ops that the attention layers of ECA, GCNet, the non-local block, DANet, CCNet and
// attention-augmented convolution need: bmm, layer_norm, conv1d, criss_cross_logits /
// criss_cross_sum and relative_logits. Each forward against a naive reference in double that
// follows the definition, each backward by gradcheck, and the errors for bad shapes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

double at4(const Tensor& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  const Shape& s = t.shape();
  return t.data()[((a * s[1] + b) * s[2] + c) * s[3] + d];
}

// C[i] = op(A[i]) op(B[i]), by the definition.
Tensor bmm_reference(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  auto at = [](const Tensor& t, bool transposed, int64_t n, int64_t i, int64_t j) {
    const int64_t rows = t.size(1), cols = t.size(2);
    return double(transposed ? t.data()[(n * rows + j) * cols + i] : t.data()[(n * rows + i) * cols + j]);
  };
  const int64_t B = a.size(0), M = ta ? a.size(2) : a.size(1), K = ta ? a.size(1) : a.size(2);
  const int64_t N = tb ? b.size(1) : b.size(2);
  Tensor c = Tensor::empty({B, M, N});
  for (int64_t n = 0; n < B; n++)
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double total = 0;
        for (int64_t k = 0; k < K; k++) total += at(a, ta, n, i, k) * at(b, tb, n, k, j);
        c.data()[(n * M + i) * N + j] = static_cast<real>(total);
      }
  return c;
}

Shape stored(int64_t B, int64_t rows, int64_t cols, bool transposed) {
  return transposed ? Shape{B, cols, rows} : Shape{B, rows, cols};
}

// Each row of M values normalised with its own mean and biased variance, in double.
Tensor layer_norm_reference(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  const int64_t M = gamma.numel(), R = x.numel() / M;
  Tensor y = Tensor::empty(x.shape());
  for (int64_t r = 0; r < R; r++) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < M; i++) mean += double(x.data()[r * M + i]) / M;
    for (int64_t i = 0; i < M; i++) var += (x.data()[r * M + i] - mean) * (x.data()[r * M + i] - mean) / M;
    for (int64_t i = 0; i < M; i++)
      y.data()[r * M + i] =
          static_cast<real>(gamma.data()[i] * (x.data()[r * M + i] - mean) / std::sqrt(var + eps) + beta.data()[i]);
  }
  return y;
}

// y[n,k,o] = b[k] + sum_{c,j} w[k,c,j] x[n,c,o+j-p], reading x through an explicitly padded copy.
Tensor conv1d_reference(const Tensor& x, const Tensor& w, const Tensor& b, int64_t p) {
  const int64_t N = x.size(0), C = x.size(1), L = x.size(2), K = w.size(0), KL = w.size(2), OL = L + 2 * p - KL + 1;
  std::vector<double> padded(static_cast<size_t>(N * C * (L + 2 * p)), 0.0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < L; i++) padded[(n * C + c) * (L + 2 * p) + i + p] = x.data()[(n * C + c) * L + i];
  Tensor y = Tensor::empty({N, K, OL});
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t o = 0; o < OL; o++) {
        double total = b.defined() ? b.data()[k] : 0;
        for (int64_t c = 0; c < C; c++)
          for (int64_t j = 0; j < KL; j++)
            total += w.data()[(k * C + c) * KL + j] * padded[(n * C + c) * (L + 2 * p) + o + j];
        y.data()[(n * K + k) * OL + o] = static_cast<real>(total);
      }
  return y;
}

// The keys of (i, j) in CCNet's order: its column from the top with itself left out, then its row.
std::vector<std::array<int64_t, 2>> criss_cross_keys(int64_t i, int64_t j, int64_t H, int64_t W) {
  std::vector<std::array<int64_t, 2>> keys;
  for (int64_t row = 0; row < H; row++)
    if (row != i) keys.push_back({row, j});
  for (int64_t col = 0; col < W; col++) keys.push_back({i, col});
  return keys;
}

Tensor criss_cross_logits_reference(const Tensor& Q, const Tensor& K) {
  const int64_t N = Q.size(0), C = Q.size(1), H = Q.size(2), W = Q.size(3), T = H + W - 1;
  Tensor E = Tensor::empty({N, H, W, T});
  for (int64_t n = 0; n < N; n++)
    for (int64_t i = 0; i < H; i++)
      for (int64_t j = 0; j < W; j++) {
        auto keys = criss_cross_keys(i, j, H, W);
        for (int64_t t = 0; t < T; t++) {
          double e = 0;
          for (int64_t c = 0; c < C; c++) e += at4(Q, n, c, i, j) * at4(K, n, c, keys[t][0], keys[t][1]);
          E.data()[((n * H + i) * W + j) * T + t] = static_cast<real>(e);
        }
      }
  return E;
}

Tensor criss_cross_sum_reference(const Tensor& A, const Tensor& V) {
  const int64_t N = V.size(0), C = V.size(1), H = V.size(2), W = V.size(3), T = H + W - 1;
  Tensor out = Tensor::empty(V.shape());
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < H; i++)
        for (int64_t j = 0; j < W; j++) {
          auto keys = criss_cross_keys(i, j, H, W);
          double total = 0;
          for (int64_t t = 0; t < T; t++)
            total += A.data()[((n * H + i) * W + j) * T + t] * at4(V, n, c, keys[t][0], keys[t][1]);
          out.data()[((n * C + c) * H + i) * W + j] = static_cast<real>(total);
        }
  return out;
}

// L[b,i,j] = q_i . (rel_w[x_j - x_i + W-1] + rel_h[y_j - y_i + H-1]), one pair of pixels at a time.
Tensor relative_logits_reference(const Tensor& q, const Tensor& rel_w, const Tensor& rel_h) {
  const int64_t B = q.size(0), D = q.size(1), H = q.size(2), W = q.size(3);
  Tensor L = Tensor::empty({B, H * W, H * W});
  for (int64_t b = 0; b < B; b++)
    for (int64_t yi = 0; yi < H; yi++)
      for (int64_t xi = 0; xi < W; xi++)
        for (int64_t yj = 0; yj < H; yj++)
          for (int64_t xj = 0; xj < W; xj++) {
            double total = 0;
            for (int64_t c = 0; c < D; c++)
              total += at4(q, b, c, yi, xi) *
                       (rel_w.data()[(xj - xi + W - 1) * D + c] + rel_h.data()[(yj - yi + H - 1) * D + c]);
            L.data()[(b * H * W + yi * W + xi) * H * W + yj * W + xj] = static_cast<real>(total);
          }
  return L;
}

}  // namespace

TEST_CASE("bmm forward", "[ops][bmm]") {
  Rng rng(301);
  for (auto [B, M, K, N] : std::vector<std::array<int64_t, 4>>{{1, 1, 1, 1}, {3, 4, 5, 2}, {5, 16, 8, 64}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("B " << B << " M " << M << " K " << K << " N " << N << " ta " << ta << " tb " << tb);
        Tensor A = Tensor::normal(stored(B, M, K, ta), 0, 1, rng), Bt = Tensor::normal(stored(B, K, N, tb), 0, 1, rng);
        CHECK(allclose(bmm(A, Bt, ta, tb), bmm_reference(A, Bt, ta, tb), 1e-4, 1e-4));
      }
  CHECK(allclose(bmm(Tensor::zeros({2, 3, 0}), Tensor::zeros({2, 0, 4})), Tensor::zeros({2, 3, 4})));
}

TEST_CASE("bmm grad", "[ops][bmm][grad]") {
  Rng rng(302);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      INFO("ta " << ta << " tb " << tb);
      Tensor A = Tensor::normal(stored(3, 4, 5, ta), 0, 1, rng), B = Tensor::normal(stored(3, 5, 2, tb), 0, 1, rng);
      CHECK(gradcheck([ta, tb](auto& in) { return bmm(in[0], in[1], ta, tb); }, {A, B}));
    }
  Tensor X = Tensor::normal({2, 4, 3}, 0, 1, rng);  // X X^T per pair: one tensor as both operands (DANet's CAM)
  CHECK(gradcheck([](auto& in) { return bmm(in[0], in[0], false, true); }, {X}));
}

TEST_CASE("bmm errors", "[ops][bmm]") {
  CHECK_THROWS_WITH(bmm(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})), Catch::Contains("same batch"));
  CHECK_THROWS_WITH(bmm(Tensor::zeros({2, 3, 4}), Tensor::zeros({2, 5, 4})), Catch::Contains("inner sizes"));
  CHECK_THROWS_WITH(bmm(Tensor::zeros({3, 4}), Tensor::zeros({4, 5})), Catch::Contains("3-D"));
}

TEST_CASE("layer_norm forward", "[ops][layer_norm]") {
  Rng rng(303);
  for (Shape row : std::vector<Shape>{{5}, {4, 1, 1}, {3, 2, 2}}) {
    Shape shape = {3};
    shape.insert(shape.end(), row.begin(), row.end());
    Tensor x = Tensor::normal(shape, 2, 3, rng), gamma = Tensor::normal(row, 1, 0.5, rng),
           beta = Tensor::normal(row, 0, 1, rng);
    INFO("x " << shape_str(shape));
    CHECK(allclose(layer_norm(x, gamma, beta), layer_norm_reference(x, gamma, beta, 1e-5), 1e-4, 1e-4));
  }
  // every row comes out with mean 0 and variance 1 when gamma = 1, beta = 0
  Tensor x = Tensor::normal({4, 6}, 5, 2, rng);
  Tensor y = layer_norm(x, Tensor::ones({6}), Tensor::zeros({6}));
  for (int64_t r = 0; r < 4; r++) {
    double mean = 0, square = 0;
    for (int64_t i = 0; i < 6; i++)
      mean += y.data()[r * 6 + i] / 6.0, square += y.data()[r * 6 + i] * y.data()[r * 6 + i] / 6.0;
    CHECK(std::abs(mean) < 1e-5);
    CHECK(std::abs(square - 1) < 1e-3);
  }
}

TEST_CASE("layer_norm grad", "[ops][layer_norm][grad]") {
  Rng rng(304);
  // a row of one axis, of three with two of size 1, and of three (each value its own gamma, beta);
  // two leading axes in the last
  for (Shape row : std::vector<Shape>{{5}, {4, 1, 1}, {3, 2, 2}}) {
    Shape shape = row.size() == 3 && row[1] > 1 ? Shape{2, 2} : Shape{3};
    shape.insert(shape.end(), row.begin(), row.end());
    Tensor x = Tensor::normal(shape, 0, 1, rng), gamma = Tensor::normal(row, 1, 0.5, rng),
           beta = Tensor::normal(row, 0, 1, rng);
    CHECK(gradcheck([](auto& in) { return layer_norm(in[0], in[1], in[2]); }, {x, gamma, beta}));
  }
}

TEST_CASE("layer_norm errors", "[ops][layer_norm]") {
  CHECK_THROWS_WITH(layer_norm(Tensor::zeros({2, 3}), Tensor::ones({4}), Tensor::zeros({4})),
                    Catch::Contains("last axes") && Catch::Contains("(2, 3)"));
  CHECK_THROWS_WITH(layer_norm(Tensor::zeros({2, 3}), Tensor::ones({3}), Tensor::zeros({2})), Catch::Contains("beta"));
}

TEST_CASE("conv1d forward", "[ops][conv1d]") {
  // a 3-tap moving sum with zero padding, worked out by hand
  Tensor x = Tensor::from_data({1, 1, 4}, {1, 2, 3, 4});
  CHECK(allclose(conv1d(x, Tensor::ones({1, 1, 3}), Tensor(), 1), Tensor::from_data({1, 1, 4}, {3, 6, 9, 7})));
  Rng rng(305);
  for (auto [N, C, L, K, KL, p] :
       std::vector<std::array<int64_t, 6>>{{2, 1, 16, 1, 3, 1}, {3, 2, 7, 4, 3, 0}, {1, 3, 5, 2, 5, 2}}) {
    Tensor xs = Tensor::normal({N, C, L}, 0, 1, rng), w = Tensor::normal({K, C, KL}, 0, 1, rng),
           b = Tensor::normal({K}, 0, 1, rng);
    CHECK(allclose(conv1d(xs, w, b, p), conv1d_reference(xs, w, b, p), 1e-5, 1e-4));
    CHECK(allclose(conv1d(xs, w, Tensor(), p), conv1d_reference(xs, w, Tensor(), p), 1e-5, 1e-4));
  }
}

TEST_CASE("conv1d grad", "[ops][conv1d][grad]") {
  Rng rng(306);
  Tensor x = Tensor::normal({2, 2, 6}, 0, 1, rng), w = Tensor::normal({3, 2, 3}, 0, 1, rng),
         b = Tensor::normal({3}, 0, 1, rng);
  CHECK(gradcheck([](auto& in) { return conv1d(in[0], in[1], in[2], 1); }, {x, w, b}));
  Tensor y = Tensor::normal({3, 1, 16}, 0, 1, rng), k = Tensor::normal({1, 1, 3}, 0, 1, rng);  // ECA's shape
  CHECK(gradcheck([](auto& in) { return conv1d(in[0], in[1], Tensor(), 1); }, {y, k}));
  // no padding, and a 5-wide kernel with padding 2 (the forward's other cases)
  CHECK(gradcheck([](auto& in) { return conv1d(in[0], in[1], in[2], 0); }, {x, w, b}));
  CHECK(gradcheck(
      [](auto& in) { return conv1d(in[0], in[1], in[2], 2); },
      {Tensor::normal({2, 3, 7}, 0, 1, rng), Tensor::normal({2, 3, 5}, 0, 1, rng), Tensor::normal({2}, 0, 1, rng)}));
}

TEST_CASE("conv1d errors", "[ops][conv1d]") {
  CHECK_THROWS_WITH(conv1d(Tensor::zeros({1, 2, 5}), Tensor::zeros({1, 3, 3}), Tensor()), Catch::Contains("(1, 3, 3)"));
  CHECK_THROWS_WITH(conv1d(Tensor::zeros({1, 1, 2}), Tensor::zeros({1, 1, 5}), Tensor()), Catch::Contains("longer"));
  CHECK_THROWS_WITH(conv1d(Tensor::zeros({1, 1, 5}), Tensor::zeros({2, 1, 3}), Tensor::zeros({3})),
                    Catch::Contains("bias"));
}

TEST_CASE("criss_cross_logits and criss_cross_sum forward", "[ops][criss_cross]") {
  Rng rng(307);
  for (auto [N, C, H, W] : std::vector<std::array<int64_t, 4>>{{1, 1, 1, 1}, {2, 3, 4, 5}, {2, 8, 8, 8}}) {
    INFO("N " << N << " C " << C << " H " << H << " W " << W);
    Tensor Q = Tensor::normal({N, C, H, W}, 0, 1, rng), K = Tensor::normal({N, C, H, W}, 0, 1, rng);
    CHECK(allclose(criss_cross_logits(Q, K), criss_cross_logits_reference(Q, K), 1e-5, 1e-4));
    Tensor A = Tensor::normal({N, H, W, H + W - 1}, 0, 1, rng), V = Tensor::normal({N, C, H, W}, 0, 1, rng);
    CHECK(allclose(criss_cross_sum(A, V), criss_cross_sum_reference(A, V), 1e-5, 1e-4));
  }
  // a position's own key appears once: with all-ones weights, the sum over the cross counts
  // every value of the column and the row, the centre once
  Tensor V = Tensor::zeros({1, 1, 3, 3});
  V.data()[4] = 1;  // the centre (1, 1)
  Tensor out = criss_cross_sum(Tensor::ones({1, 3, 3, 5}), V);
  CHECK(out.data()[4] == 1);  // the centre sees itself once
  CHECK(out.data()[1] == 1);  // (0, 1) sees it in its column
  CHECK(out.data()[0] == 0);  // (0, 0) does not: neither its row nor its column
}

TEST_CASE("criss_cross grad", "[ops][criss_cross][grad]") {
  Rng rng(308);
  Tensor Q = Tensor::normal({2, 3, 3, 4}, 0, 1, rng), K = Tensor::normal({2, 3, 3, 4}, 0, 1, rng);
  CHECK(gradcheck([](auto& in) { return criss_cross_logits(in[0], in[1]); }, {Q, K}));
  Tensor A = Tensor::normal({2, 3, 4, 6}, 0, 1, rng), V = Tensor::normal({2, 3, 3, 4}, 0, 1, rng);
  CHECK(gradcheck([](auto& in) { return criss_cross_sum(in[0], in[1]); }, {A, V}));
  // 18 channels: the weights' gradient sums over channels in lanes (lane_sum) and a remainder
  Tensor A18 = Tensor::normal({1, 2, 3, 4}, 0, 1, rng), V18 = Tensor::normal({1, 18, 2, 3}, 0, 1, rng);
  CHECK(gradcheck([](auto& in) { return criss_cross_sum(in[0], in[1]); }, {A18, V18}));
  Tensor X = Tensor::normal({1, 2, 3, 3}, 0, 1, rng);  // queries, keys and values all one tensor
  CHECK(gradcheck([](auto& in) { return criss_cross_sum(softmax(criss_cross_logits(in[0], in[0]), -1), in[0]); }, {X}));
}

TEST_CASE("criss_cross errors", "[ops][criss_cross]") {
  CHECK_THROWS_WITH(criss_cross_logits(Tensor::zeros({1, 2, 3, 3}), Tensor::zeros({1, 2, 3, 4})),
                    Catch::Contains("one shape"));
  CHECK_THROWS_WITH(criss_cross_sum(Tensor::zeros({1, 3, 3, 6}), Tensor::zeros({1, 2, 3, 3})),
                    Catch::Contains("(1, 3, 3, 6)"));
  CHECK_THROWS_WITH(criss_cross_logits(Tensor::zeros({2, 3, 3}), Tensor::zeros({2, 3, 3})),
                    Catch::Contains("(N, C, H, W), got (2, 3, 3)"));
}

// The keys of a position, as the ops and the ONNX export number them: the column first (the
// position itself skipped), then the whole row (the position itself included), so that every
// position of the cross is a key exactly once.
TEST_CASE("criss_cross_key numbers the column, then the row", "[ops][criss_cross]") {
  // 3 x 4 positions; u = 6 is (1, 2): column (0, 2), (2, 2); row (1, 0) .. (1, 3)
  std::vector<int64_t> keys;
  for (int64_t t = 0; t < 3 + 4 - 1; t++) keys.push_back(criss_cross_key(6, t, 3, 4));
  CHECK(keys == std::vector<int64_t>{2, 10, 4, 5, 6, 7});
  for (auto [H, W] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 5}, {4, 4}, {6, 3}})
    for (int64_t u = 0; u < H * W; u++) {
      std::vector<int64_t> cross;  // the positions of u's column and row, u once
      for (int64_t v = 0; v < H * W; v++)
        if (v % W == u % W || v / W == u / W) cross.push_back(v);
      std::vector<int64_t> got;
      for (int64_t t = 0; t < H + W - 1; t++) got.push_back(criss_cross_key(u, t, H, W));
      std::sort(got.begin(), got.end());
      CHECK(got == cross);
    }
}

TEST_CASE("relative_logits forward", "[ops][relative_logits]") {
  Rng rng(309);
  for (auto [B, D, H, W] : std::vector<std::array<int64_t, 4>>{{1, 1, 1, 1}, {2, 3, 3, 4}, {4, 4, 8, 8}}) {
    INFO("B " << B << " D " << D << " H " << H << " W " << W);
    Tensor q = Tensor::normal({B, D, H, W}, 0, 1, rng);
    Tensor rel_w = Tensor::normal({2 * W - 1, D}, 0, 1, rng), rel_h = Tensor::normal({2 * H - 1, D}, 0, 1, rng);
    CHECK(allclose(relative_logits(q, rel_w, rel_h), relative_logits_reference(q, rel_w, rel_h), 1e-5, 1e-4));
  }
}

TEST_CASE("relative_logits grad", "[ops][relative_logits][grad]") {
  Rng rng(310);
  Tensor q = Tensor::normal({2, 3, 3, 4}, 0, 1, rng), rel_w = Tensor::normal({7, 3}, 0, 1, rng),
         rel_h = Tensor::normal({5, 3}, 0, 1, rng);
  CHECK(gradcheck([](auto& in) { return relative_logits(in[0], in[1], in[2]); }, {q, rel_w, rel_h}));
}

TEST_CASE("relative_logits errors", "[ops][relative_logits]") {
  CHECK_THROWS_WITH(relative_logits(Tensor::zeros({1, 2, 3, 3}), Tensor::zeros({5, 2}), Tensor::zeros({4, 2})),
                    Catch::Contains("rel_h (5, 2)"));
  CHECK_THROWS_WITH(relative_logits(Tensor::zeros({2, 3, 3}), Tensor::zeros({5, 2}), Tensor::zeros({5, 2})),
                    Catch::Contains("(B, D, H, W)"));
}
