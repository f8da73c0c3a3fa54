// conv2d: forward against a direct 7-loop convolution, backward by gradcheck, shape errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/ops/conv2d.h"
#include "engine/parallel.h"
#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

// The definition, written out: out[n,k,oh,ow] = b[k] + sum_{c,kh,kw} w[k,c,kh,kw] * x[n,c,ih,iw]
static Tensor conv2d_reference(const Tensor& x, const Tensor& w, const Tensor& b, int64_t s, int64_t p) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t K = w.size(0), KH = w.size(2), KW = w.size(3);
  const int64_t OH = (H + 2 * p - KH) / s + 1, OW = (W + 2 * p - KW) / s + 1;
  Tensor out = Tensor::zeros({N, K, OH, OW});
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          double total = b.defined() ? b.data()[k] : 0;
          for (int64_t c = 0; c < C; c++)
            for (int64_t kh = 0; kh < KH; kh++)
              for (int64_t kw = 0; kw < KW; kw++) {
                int64_t ih = oh * s - p + kh, iw = ow * s - p + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;  // zero padding
                total +=
                    double(w.data()[((k * C + c) * KH + kh) * KW + kw]) * x.data()[((n * C + c) * H + ih) * W + iw];
              }
          out.data()[((n * K + k) * OH + oh) * OW + ow] = static_cast<real>(total);
        }
  return out;
}

struct ConvCase {
  Shape x, w;
  int64_t stride, padding;
  bool bias;
};

// batch > 1, uneven image sizes, stride 1 and 2, padding 0/1/2, kernels 1/3/5 (and 3x2), bias or not
static const std::vector<ConvCase> conv_cases = {
    {{2, 3, 7, 5}, {4, 3, 3, 3}, 1, 1, true},
    {{2, 3, 7, 5}, {4, 3, 3, 3}, 2, 1, false},
    {{3, 2, 6, 7}, {3, 2, 5, 5}, 2, 2, true},
    {{2, 2, 4, 5}, {2, 2, 3, 3}, 1, 2, false},
    {{2, 4, 5, 6}, {3, 4, 1, 1}, 1, 0, true},   // pointwise: no im2col
    {{2, 4, 5, 6}, {3, 4, 1, 1}, 2, 0, false},  // 1x1 with stride: im2col subsamples
    {{2, 3, 6, 5}, {2, 3, 3, 2}, 1, 0, true},   // a non-square kernel
    {{2, 3, 6, 5}, {3, 3, 3, 3}, 1, 0, false},  // no padding
    {{2, 2, 7, 6}, {3, 2, 5, 5}, 1, 2, true},   // 5x5, stride 1
    {{2, 2, 4, 5}, {3, 2, 3, 3}, 1, 3, false},  // padding wider than the kernel's reach
    // K <= 2 output channels run the direct loops (direct_few_outputs), not im2col + GEMM
    {{2, 2, 9, 8}, {1, 2, 7, 7}, 1, 3, false},  // CBAM's spatial attention: 2 -> 1, 7x7
    {{2, 3, 7, 6}, {2, 3, 3, 3}, 2, 1, true},   // direct with stride 2
    {{2, 2, 5, 4}, {1, 2, 1, 1}, 1, 0, false},  // direct pointwise
};

TEST_CASE("conv2d forward", "[ops][conv2d]") {
  Rng rng(11);
  for (const ConvCase& c : conv_cases) {
    Tensor x = Tensor::normal(c.x, 0, 1, rng), w = Tensor::normal(c.w, 0, 1, rng);
    Tensor b = c.bias ? Tensor::normal({c.w[0]}, 0, 1, rng) : Tensor();
    CHECK(allclose(conv2d(x, w, b, {.stride = c.stride, .padding = c.padding}),
                   conv2d_reference(x, w, b, c.stride, c.padding), 1e-4));
  }
  // a batch that does not divide into the image chunks evenly (17 images, chunks of 2)
  Tensor x = Tensor::normal({17, 2, 5, 4}, 0, 1, rng), w = Tensor::normal({3, 2, 3, 3}, 0, 1, rng);
  Tensor b = Tensor::normal({3}, 0, 1, rng);
  CHECK(allclose(conv2d(x, w, b, {.stride = 1, .padding = 1}), conv2d_reference(x, w, b, 1, 1), 1e-4));
}

TEST_CASE("conv2d grad", "[ops][conv2d][grad]") {
  Rng rng(12);
  for (const ConvCase& c : conv_cases) {
    CAPTURE(shape_str(c.x), shape_str(c.w), c.stride, c.padding, c.bias);
    Tensor x = Tensor::normal(c.x, 0, 1, rng), w = Tensor::normal(c.w, 0, 1, rng);
    Conv2dOptions options{.stride = c.stride, .padding = c.padding};
    if (c.bias) {
      Tensor b = Tensor::normal({c.w[0]}, 0, 1, rng);
      CHECK(gradcheck([&](auto& in) { return conv2d(in[0], in[1], in[2], options); }, {x, w, b}));
    } else {
      CHECK(gradcheck([&](auto& in) { return conv2d(in[0], in[1], Tensor(), options); }, {x, w}));
    }
  }
}

// The first layer of a network: the input needs no gradient, the weight and bias still get theirs.
TEST_CASE("conv2d weight grad without input grad", "[ops][conv2d][grad]") {
  Rng rng(13);
  Tensor x = Tensor::normal({3, 2, 6, 5}, 0, 1, rng);
  Tensor w = Tensor::normal({4, 2, 3, 3}, 0, 1, rng).set_requires_grad(true);
  Tensor b = Tensor::normal({4}, 0, 1, rng).set_requires_grad(true);
  Tensor r = Tensor::normal({3, 4, 3, 3}, 0, 1, rng);
  auto weight_and_bias_grads = [&](bool input_needs_grad) {
    Tensor xi = x.clone().set_requires_grad(input_needs_grad);
    w.zero_grad(), b.zero_grad();
    Tensor y = conv2d(xi, w, b, {.stride = 2, .padding = 1});
    backward_weighted(y, r);
    CHECK(xi.grad().defined() == input_needs_grad);
    return std::pair{w.grad().clone(), b.grad().clone()};
  };
  auto [dw_alone, db_alone] = weight_and_bias_grads(false);
  auto [dw_with_dx, db_with_dx] = weight_and_bias_grads(true);
  CHECK(allclose(dw_alone, dw_with_dx, 0, 0));
  CHECK(allclose(db_alone, db_with_dx, 0, 0));
}

// dw sums over images in per-chunk partials added in a fixed order: bit-identical for any thread count.
TEST_CASE("conv2d weight grad is deterministic across thread counts", "[ops][conv2d]") {
  Rng rng(14);
  Tensor x = Tensor::normal({37, 3, 8, 8}, 0, 1, rng);
  Tensor w = Tensor::normal({8, 3, 3, 3}, 0, 1, rng);
  Tensor r = Tensor::normal({37, 8, 8, 8}, 0, 1, rng);
  auto weight_grad = [&](int threads) {
    set_num_threads(threads);
    Tensor wi = w.clone().set_requires_grad(true);
    Tensor y = conv2d(x, wi, Tensor(), {.stride = 1, .padding = 1});
    backward_weighted(y, r);
    return wi.grad().clone();
  };
  const int threads_before = num_threads();
  Tensor dw_one = weight_grad(1), dw_two = weight_grad(2);
  set_num_threads(threads_before);
  CHECK(allclose(dw_one, dw_two, 0, 0));
}

// The gradients of L = sum(conv2d(x, w, b) * r), from the definition: each product
// w[k,c,kh,kw] * x[n,c,ih,iw] inside out[n,k,oh,ow] sends r[n,k,oh,ow] * w to dx, r * x to dw.
static std::pair<Tensor, Tensor> conv2d_reference_grads(const Tensor& x, const Tensor& w, const Tensor& r, int64_t s,
                                                        int64_t p) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t K = w.size(0), KH = w.size(2), KW = w.size(3), OH = r.size(2), OW = r.size(3);
  std::vector<double> dx(x.numel(), 0), dw(w.numel(), 0);
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++)
          for (int64_t c = 0; c < C; c++)
            for (int64_t kh = 0; kh < KH; kh++)
              for (int64_t kw = 0; kw < KW; kw++) {
                int64_t ih = oh * s - p + kh, iw = ow * s - p + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t pixel = ((n * C + c) * H + ih) * W + iw, tap = ((k * C + c) * KH + kh) * KW + kw;
                const double dout = r.data()[((n * K + k) * OH + oh) * OW + ow];
                dx[pixel] += dout * w.data()[tap];
                dw[tap] += dout * x.data()[pixel];
              }
  Tensor dx_t = Tensor::empty(x.shape()), dw_t = Tensor::empty(w.shape());
  std::copy(dx.begin(), dx.end(), dx_t.data());
  std::copy(dw.begin(), dw.end(), dw_t.data());
  return {dx_t, dw_t};
}

// 3x3, stride 1 or 2, padding 1 with K (and C) a multiple of 16 runs the direct 3x3 kernels
// (direct_3x3, engine/ops/conv2d_3x3.cpp): output, dx, dw and db against the definition, on maps
// whose padded grid is and is not a whole number of 16-position blocks (sides 8, 9, 16, 32, 5;
// at stride 2 even and odd sides, whose parity planes differ in size), and with C = 5 (direct
// forward, im2col backward).
TEST_CASE("conv2d direct 3x3 against the definition", "[ops][conv2d]") {
  Rng rng(15);
  const std::vector<int64_t> sizes = {8, 9, 16, 32, 5};
  const std::vector<std::pair<int64_t, int64_t>> channels = {{16, 16}, {16, 32}, {32, 16}, {32, 32}, {5, 16}};  // C, K
  int case_index = 0;
  for (int64_t stride : {1, 2})
    for (int64_t H : sizes)
      for (int64_t W : sizes) {
        auto [C, K] = channels[case_index % channels.size()];
        const int64_t N = case_index % 2 ? 3 : 1;
        const bool bias = case_index % 3 != 0;
        case_index++;
        CAPTURE(stride, N, C, K, H, W, bias);
        const int64_t OH = (H - 1) / stride + 1, OW = (W - 1) / stride + 1;
        Tensor x = Tensor::normal({N, C, H, W}, 0, 1, rng).set_requires_grad(true);
        Tensor w = Tensor::normal({K, C, 3, 3}, 0, 1.0 / std::sqrt(C * 9.0), rng).set_requires_grad(true);
        Tensor b = bias ? Tensor::normal({K}, 0, 1, rng).set_requires_grad(true) : Tensor();
        Tensor r = Tensor::normal({N, K, OH, OW}, 0, 1, rng);
        Tensor y = conv2d(x, w, b, {.stride = stride, .padding = 1});
        REQUIRE(y.shape() == Shape{N, K, OH, OW});
        CHECK(allclose(y, conv2d_reference(x, w, b, stride, 1), 1e-4));
        backward_weighted(y, r);
        auto [dx, dw] = conv2d_reference_grads(x, w, r, stride, 1);
        CHECK(allclose(x.grad(), dx, 1e-4));
        CHECK(allclose(w.grad(), dw, 1e-3));  // sums of N*OH*OW products of size ~1
        if (bias) {
          Tensor db = Tensor::zeros({K});
          for (int64_t i = 0; i < r.numel(); i++) db.data()[i / (OH * OW) % K] += r.data()[i];  // r is (N, K, OH, OW)
          CHECK(allclose(b.grad(), db, 1e-3));
        }
      }
}

// The direct 3x3 path by finite differences, also when x feeds two convolutions (dx accumulates).
TEST_CASE("conv2d direct 3x3 grad", "[ops][conv2d][grad]") {
  Rng rng(16);
  Tensor x = Tensor::normal({2, 16, 5, 5}, 0, 1, rng), b = Tensor::normal({16}, 0, 1, rng);
  Tensor w = Tensor::normal({16, 16, 3, 3}, 0, 0.1, rng), w2 = Tensor::normal({32, 16, 3, 3}, 0, 0.1, rng);
  Conv2dOptions options{.stride = 1, .padding = 1};
  CHECK(gradcheck([&](auto& in) { return conv2d(in[0], in[1], in[2], options); }, {x, w, b}));
  CHECK(gradcheck([&](auto& in) { return conv2d(in[0], in[1], Tensor(), options); },
                  {Tensor::normal({1, 16, 4, 7}, 0, 1, rng), w2}));
  // x feeds two convolutions: the second backward adds its dx to the first's
  CHECK(gradcheck(
      [&](auto& in) { return conv2d(in[0], in[1], in[2], options) + conv2d(in[0], in[3], Tensor(), options); },
      {x, w, b, Tensor::normal({16, 16, 3, 3}, 0, 0.1, rng)}));
  // stride 2: the forward and dw through the parity planes, dx through four parity convolutions
  const Conv2dOptions halving{.stride = 2, .padding = 1};
  CHECK(gradcheck([&](auto& in) { return conv2d(in[0], in[1], in[2], halving); },
                  {x, w2, Tensor::normal({32}, 0, 1, rng)}));
  CHECK(gradcheck([&](auto& in) { return conv2d(in[0], in[1], Tensor(), halving); },
                  {Tensor::normal({1, 16, 6, 4}, 0, 1, rng), w}));
}

// A batch of more than 16 images puts several images in a chunk (ImageChunks: 37 images, 13 chunks
// of 3 and the last of 1): every path's loop over a chunk's images, forward and backward,
// against the definition. The cases above use batches of 1 to 3, one image per chunk.
TEST_CASE("conv2d with several images per chunk, every path, against the definition", "[ops][conv2d]") {
  Rng rng(17);
  using Path = ConvolutionPath;
  struct PathCase {
    Path path;  // forward and backward
    int64_t C, K, kernel, stride, padding;
  };
  const std::vector<PathCase> cases = {{Path::direct_3x3, 16, 16, 3, 1, 1},
                                       {Path::direct_3x3, 16, 32, 3, 2, 1},
                                       {Path::im2col_gemm, 3, 4, 3, 1, 1},
                                       {Path::pointwise_gemm, 8, 4, 1, 1, 0},
                                       {Path::direct_few_outputs, 2, 1, 7, 1, 3}};
  const int64_t N = 37, H = 6, W = 5;
  for (const PathCase& c : cases) {
    CAPTURE(static_cast<int>(c.path), c.C, c.K, c.kernel, c.stride);
    ConvShape g{};
    g.N = N, g.C = c.C, g.H = H, g.W = W, g.K = c.K, g.KH = c.kernel, g.KW = c.kernel, g.stride = c.stride,
    g.padding = c.padding;
    REQUIRE(choose_path(g).forward == c.path);
    REQUIRE(choose_path(g).backward == c.path);
    const int64_t OH = (H + 2 * c.padding - c.kernel) / c.stride + 1,
                  OW = (W + 2 * c.padding - c.kernel) / c.stride + 1;
    Tensor x = Tensor::normal({N, c.C, H, W}, 0, 1, rng).set_requires_grad(true);
    Tensor w = Tensor::normal({c.K, c.C, c.kernel, c.kernel}, 0, 0.3, rng).set_requires_grad(true);
    Tensor b = Tensor::normal({c.K}, 0, 1, rng).set_requires_grad(true);
    Tensor r = Tensor::normal({N, c.K, OH, OW}, 0, 1, rng);
    Tensor y = conv2d(x, w, b, {.stride = c.stride, .padding = c.padding});
    CHECK(allclose(y, conv2d_reference(x, w, b, c.stride, c.padding), 1e-4));
    backward_weighted(y, r);
    auto [dx, dw] = conv2d_reference_grads(x, w, r, c.stride, c.padding);
    CHECK(allclose(x.grad(), dx, 1e-4));
    CHECK(allclose(w.grad(), dw, 1e-3));  // sums of N*OH*OW products
    Tensor db = Tensor::zeros({c.K});
    for (int64_t i = 0; i < r.numel(); i++) db.data()[i / (OH * OW) % c.K] += r.data()[i];
    CHECK(allclose(b.grad(), db, 1e-3));
  }
}

// choose_path() takes the same path for a shape as it always did: the tests above check each
// path's numbers, this one which shapes reach it.
TEST_CASE("conv2d chooses its path from the shape", "[ops][conv2d]") {
  using Path = ConvolutionPath;
  auto paths = [](int64_t C, int64_t K, int64_t kernel, int64_t stride, int64_t padding) {
    ConvShape g{};
    g.N = 2, g.C = C, g.H = 8, g.W = 8, g.K = K, g.KH = kernel, g.KW = kernel, g.stride = stride, g.padding = padding;
    const ConvolutionPaths p = choose_path(g);
    return std::pair{p.forward, p.backward};
  };
  CHECK(paths(16, 16, 3, 1, 1) == std::pair{Path::direct_3x3, Path::direct_3x3});   // ResNet's 3x3
  CHECK(paths(3, 16, 3, 1, 1) == std::pair{Path::direct_3x3, Path::im2col_gemm});   // the stem
  CHECK(paths(16, 8, 3, 1, 1) == std::pair{Path::im2col_gemm, Path::im2col_gemm});  // K not a multiple of 16
  CHECK(paths(16, 32, 3, 2, 1) == std::pair{Path::direct_3x3, Path::direct_3x3});   // ResNet's stride-2 3x3
  CHECK(paths(8, 32, 3, 2, 1) == std::pair{Path::direct_3x3, Path::im2col_gemm});
  CHECK(paths(16, 32, 3, 3, 1) == std::pair{Path::im2col_gemm, Path::im2col_gemm});  // stride 3
  CHECK(paths(64, 16, 1, 1, 0) == std::pair{Path::pointwise_gemm, Path::pointwise_gemm});
  CHECK(paths(16, 32, 1, 2, 0) == std::pair{Path::im2col_gemm, Path::im2col_gemm});              // 1x1 with a stride
  CHECK(paths(2, 1, 7, 1, 3) == std::pair{Path::direct_few_outputs, Path::direct_few_outputs});  // CBAM
  CHECK(paths(4, 2, 1, 1, 0) == std::pair{Path::direct_few_outputs, Path::direct_few_outputs});
}

TEST_CASE("conv2d errors", "[ops][conv2d]") {
  Tensor x = Tensor::zeros({2, 3, 5, 5});
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor()),
                    Catch::Contains("conv2d") && Catch::Contains("input channels"));
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 3, 7, 7}), Tensor(), {.padding = 0}),
                    Catch::Contains("larger than the padded input"));
  CHECK_NOTHROW(conv2d(x, Tensor::zeros({4, 3, 7, 7}), Tensor(), {.padding = 1}));
  CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({4, 3, 3, 3}), Tensor::zeros({3})), Catch::Contains("bias"));
  CHECK_THROWS_AS(conv2d(Tensor::zeros({3, 5, 5}), Tensor::zeros({4, 3, 3, 3}), Tensor()), Error);
  CHECK_THROWS_AS(conv2d(x, Tensor::zeros({4, 3, 3}), Tensor()), Error);
  CHECK_THROWS_AS(conv2d(x, Tensor::zeros({4, 3, 3, 3}), Tensor(), {.stride = 0}), Error);
  CHECK_THROWS_AS(conv2d(x, Tensor::zeros({4, 3, 3, 3}), Tensor(), {.padding = -1}), Error);
}
