// matmul (all four transpose combinations) and linear: values against a triple-loop GEMM,
// backward by gradcheck, errors for mismatched shapes.
#include <catch2/catch.hpp>

#include <array>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

// C = op(A) op(B) by the definition, in double.
Tensor matmul_reference(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  auto at = [&](const Tensor& t, bool transposed, int64_t i, int64_t j) {
    return double(transposed ? t.data()[j * t.size(1) + i] : t.data()[i * t.size(1) + j]);
  };
  const int64_t M = transpose_a ? a.size(1) : a.size(0), K = transpose_a ? a.size(0) : a.size(1);
  const int64_t N = transpose_b ? b.size(0) : b.size(1);
  Tensor c = Tensor::empty({M, N});
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double total = 0;
      for (int64_t k = 0; k < K; k++) total += at(a, transpose_a, i, k) * at(b, transpose_b, k, j);
      c.data()[i * N + j] = static_cast<real>(total);
    }
  return c;
}

// A stored as op(A) (rows, cols) asks for: transposed storage swaps them.
Shape stored(int64_t rows, int64_t cols, bool transposed) { return transposed ? Shape{cols, rows} : Shape{rows, cols}; }

}  // namespace

TEST_CASE("matmul forward", "[ops][matmul]") {
  Tensor a = Tensor::from_data({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_data({3, 2}, {7, 8, 9, 10, 11, 12});
  CHECK(allclose(matmul(a, b), Tensor::from_data({2, 2}, {58, 64, 139, 154})));

  Rng rng(80);
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 5, 2}, {7, 4, 9}, {1, 6, 5}, {70, 50, 40}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("M " << M << " K " << K << " N " << N << " ta " << ta << " tb " << tb);
        Tensor A = Tensor::normal(stored(M, K, ta), 0, 1, rng), B = Tensor::normal(stored(K, N, tb), 0, 1, rng);
        CHECK(allclose(matmul(A, B, ta, tb), matmul_reference(A, B, ta, tb), 1e-4, 1e-4));
      }
  // large enough for the blocked parallel GEMM, in both split directions
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{300, 64, 50}, {40, 64, 300}}) {
    Tensor A = Tensor::normal({M, K}, 0, 1, rng), B = Tensor::normal({N, K}, 0, 1, rng);
    CHECK(allclose(matmul(A, B, false, true), matmul_reference(A, B, false, true), 1e-4, 1e-4));
  }
}

TEST_CASE("matmul errors", "[ops][matmul]") {
  CHECK_THROWS_WITH(matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})),
                    Catch::Contains("matmul") && Catch::Contains("(2, 3)") && Catch::Contains("(4, 5)"));
  CHECK_THROWS_WITH(matmul(Tensor::zeros({2, 3}), Tensor::zeros({5, 2}), false, true), Catch::Contains("(5, 2)^T"));
  CHECK_THROWS_WITH(matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({4, 5})), Catch::Contains("2-D"));
  CHECK(allclose(matmul(Tensor::zeros({2, 0}), Tensor::zeros({0, 3})), Tensor::zeros({2, 3})));
}

TEST_CASE("matmul grad", "[ops][matmul][grad]") {
  Rng rng(81);
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 5, 2}, {4, 3, 6}, {1, 7, 1}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("M " << M << " K " << K << " N " << N << " ta " << ta << " tb " << tb);
        Tensor A = Tensor::normal(stored(M, K, ta), 0, 1, rng), B = Tensor::normal(stored(K, N, tb), 0, 1, rng);
        CHECK(gradcheck([ta, tb](auto& in) { return matmul(in[0], in[1], ta, tb); }, {A, B}));
      }
  Tensor X = Tensor::normal({4, 3}, 0, 1, rng);  // X^T X: one tensor as both operands
  CHECK(gradcheck([](auto& in) { return matmul(in[0], in[0], true, false); }, {X}));
}

TEST_CASE("linear forward", "[ops][linear]") {
  Rng rng(82);
  Tensor x = Tensor::normal({5, 4}, 0, 1, rng), w = Tensor::normal({3, 4}, 0, 1, rng),
         b = Tensor::normal({3}, 0, 1, rng);
  Tensor expected = matmul_reference(x, w, false, true);
  CHECK(allclose(linear(x, w, Tensor()), expected, 1e-5, 1e-4));
  for (int64_t n = 0; n < 5; n++)
    for (int64_t k = 0; k < 3; k++) expected.data()[n * 3 + k] += b.data()[k];
  CHECK(allclose(linear(x, w, b), expected, 1e-5, 1e-4));
  CHECK_THROWS_WITH(linear(x, Tensor::zeros({3, 5}), b), Catch::Contains("linear") && Catch::Contains("(3, 5)"));
  CHECK_THROWS_WITH(linear(x, w, Tensor::zeros({4})), Catch::Contains("linear") && Catch::Contains("bias"));
}

TEST_CASE("linear grad", "[ops][linear][grad]") {
  Rng rng(83);
  for (auto [N, in, out] : std::vector<std::array<int64_t, 3>>{{1, 3, 2}, {5, 4, 3}, {2, 7, 1}}) {
    Tensor x = Tensor::normal({N, in}, 0, 1, rng), w = Tensor::normal({out, in}, 0, 1, rng);
    Tensor b = Tensor::normal({out}, 0, 1, rng);
    CHECK(gradcheck([](auto& inputs) { return linear(inputs[0], inputs[1], inputs[2]); }, {x, w, b}));
    CHECK(gradcheck([](auto& inputs) { return linear(inputs[0], inputs[1], Tensor()); }, {x, w}));
  }
}
