// The soft-attention layers and models of MODELS.md: SEBlock, CBAM, the Residual Attention
// Network's ResUnit and AttentionModule, the spatial transformer; se_resnet20, cbam_resnet20,
// attention56 and stn_mnist. Gradient checks of each block as a whole, forward checks against
// the papers' equations written out here, shapes, parameter counts and a smoke test of learning.
#include <catch2/catch.hpp>

#include <cmath>

#include "io/image_grid.h"
#include "layers/cbam.h"
#include "layers/init.h"
#include "layers/residual_attention.h"
#include "layers/se_block.h"
#include "layers/spatial_transformer.h"
#include "models/cbam_resnet20.h"
#include "models/residual_attention.h"
#include "models/senet.h"
#include "models/stn_mnist.h"
#include "models/stn_paper.h"
#include "models/zoo.h"
#include "tests/model_testing.h"
#include "tests/module_gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;
using Catch::Matchers::Contains;

namespace {

// Every BN of the module gets running statistics away from 0 and 1 (so eval mode is not the
// identity), a small gamma and a beta of +-3 by channel: each ReLU after a BN then passes some
// channels and blocks others, far from its kink, where central differences would be wrong
// (the same trick as test_layers.cpp's BasicBlock check).
void keep_relus_off_their_kinks(Module& m, Rng& rng) {
  for (auto& [name, t] : m.named_buffers()) {
    bool is_var = name.ends_with("running_var");
    fill_uniform(t, is_var ? 0.5f : -0.5f, is_var ? 2.0f : 0.5f, rng);
  }
  int k = 0;
  for (auto& [name, t] : m.named_parameters()) {
    if (t.dim() != 1) continue;  // in a ResUnit or mask head, the 1-D parameters are BN's gamma and beta
    if (name.ends_with("weight")) fill_uniform(t, 0.05f, 0.1f, rng);
    if (name.ends_with("bias")) {
      for (int64_t c = 0; c < t.numel(); c++) t.data()[c] = (c + k) % 2 == 0 ? 3.0f : -3.0f;
      k++;
    }
  }
}

double sigmoid_of(double v) { return 1 / (1 + std::exp(-v)); }

// y = W x + b for one row x, written out.
std::vector<double> affine(const Linear& fc, const std::vector<double>& x) {
  std::vector<double> y(static_cast<size_t>(fc.options.out));
  for (int64_t o = 0; o < fc.options.out; o++) {
    double s = fc.bias.data()[o];
    for (int64_t i = 0; i < fc.options.in; i++)
      s += fc.weight.data()[o * fc.options.in + i] * x[static_cast<size_t>(i)];
    y[static_cast<size_t>(o)] = s;
  }
  return y;
}

std::vector<double> relu_of(std::vector<double> v) {
  for (double& e : v) e = e > 0 ? e : 0;
  return v;
}

}  // namespace

// ---- SEBlock ----

TEST_CASE("SEBlock scales channels by sigmoid(W2 ReLU(W1 avgpool(u)))", "[models][se_block]") {
  Rng rng(1);
  SEBlock se(32, rng);
  CHECK(se.fc1->options.out == 2);               // 32 / 16
  CHECK(SEBlock(8, rng).fc1->options.out == 1);  // max(1, 8 / 16)
  CHECK(se.parameter_count() == (32 * 2 + 2) + (2 * 32 + 32));
  Tensor u = Tensor::normal({2, 32, 3, 5}, 0, 1, rng);
  Tensor y = se(u);
  REQUIRE(y.shape() == u.shape());
  for (int64_t n = 0; n < 2; n++) {
    std::vector<double> z(32, 0.0);
    for (int64_t c = 0; c < 32; c++)
      for (int64_t i = 0; i < 15; i++) z[static_cast<size_t>(c)] += u.data()[(n * 32 + c) * 15 + i] / 15.0;
    std::vector<double> s = affine(*se.fc2, relu_of(affine(*se.fc1, z)));
    for (int64_t c = 0; c < 32; c++)
      for (int64_t i = 0; i < 15; i++) {
        int64_t at = (n * 32 + c) * 15 + i;
        CHECK(y.data()[at] == Approx(sigmoid_of(s[static_cast<size_t>(c)]) * u.data()[at]).margin(1e-5));
      }
  }
  CHECK_THROWS_WITH(se(Tensor::zeros({2, 16, 3, 3})), Contains("expected input (N, 32, H, W), got (2, 16, 3, 3)"));
}

TEST_CASE("SEBlock grad", "[models][se_block][grad]") {
  Rng rng(2);
  SEBlock se(32, rng);  // hidden 2
  CHECK(module_gradcheck(se, Tensor::normal({3, 32, 3, 4}, 0, 1, rng), {.max_entries = 60}));
}

// ---- CBAM ----

TEST_CASE("CBAM: one shared MLP over avg and max, then a 7x7 map of [mean; max]", "[models][cbam]") {
  Rng rng(3);
  CBAM cbam(16, rng);
  CHECK_THAT(cbam.print(), Contains("channel: ChannelAttention(16, reduction=16)  49 parameters"));  // 16*1+1 + 1*16+16
  CHECK_THAT(cbam.print(), Contains("conv: Conv2d(2, 1, kernel=7, padding=3, bias=false)  98 parameters"));
  CHECK(cbam.parameter_count() == 49 + 98 + 2);
  cbam.eval();
  fill_uniform(cbam.spatial->bn->running_mean, -0.3f, 0.3f, rng);
  Tensor x = Tensor::normal({2, 16, 5, 6}, 0, 1, rng);
  Tensor y = cbam(x);
  REQUIRE(y.shape() == x.shape());

  const int64_t C = 16, H = 5, W = 6, HW = H * W;
  auto at = [&](int64_t n, int64_t c, int64_t i) { return x.data()[(n * C + c) * HW + i]; };
  for (int64_t n = 0; n < 2; n++) {
    // channel attention, Eq. 2
    std::vector<double> avg(C, 0.0), mx(C, -1e30);
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < HW; i++) {
        avg[static_cast<size_t>(c)] += at(n, c, i) / HW;
        mx[static_cast<size_t>(c)] = std::max(mx[static_cast<size_t>(c)], static_cast<double>(at(n, c, i)));
      }
    auto& ca = *cbam.channel;
    std::vector<double> a = affine(*ca.fc2, relu_of(affine(*ca.fc1, avg))),
                        b = affine(*ca.fc2, relu_of(affine(*ca.fc1, mx)));
    std::vector<double> f1(static_cast<size_t>(C * HW));  // F'
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < HW; i++)
        f1[static_cast<size_t>(c * HW + i)] =
            sigmoid_of(a[static_cast<size_t>(c)] + b[static_cast<size_t>(c)]) * at(n, c, i);
    // spatial attention, Eq. 3: conv 7x7 over [mean; max] of F', BN (eval), sigmoid
    std::vector<double> pooled(static_cast<size_t>(2 * HW));
    for (int64_t i = 0; i < HW; i++) {
      double s = 0, m = -1e30;
      for (int64_t c = 0; c < C; c++)
        s += f1[static_cast<size_t>(c * HW + i)], m = std::max(m, f1[static_cast<size_t>(c * HW + i)]);
      pooled[static_cast<size_t>(i)] = s / C, pooled[static_cast<size_t>(HW + i)] = m;
    }
    const Tensor& w = cbam.spatial->conv->weight;  // (1, 2, 7, 7)
    double running_mean = cbam.spatial->bn->running_mean.data()[0];
    for (int64_t oy = 0; oy < H; oy++)
      for (int64_t ox = 0; ox < W; ox++) {
        double s = 0;
        for (int64_t k = 0; k < 2; k++)
          for (int64_t ky = 0; ky < 7; ky++)
            for (int64_t kx = 0; kx < 7; kx++) {
              int64_t iy = oy + ky - 3, ix = ox + kx - 3;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              s += w.data()[(k * 7 + ky) * 7 + kx] * pooled[static_cast<size_t>(k * HW + iy * W + ix)];
            }
        double map = sigmoid_of((s - running_mean) / std::sqrt(1 + 1e-5));  // gamma 1, beta 0, running var 1
        for (int64_t c = 0; c < C; c++) {
          int64_t i = oy * W + ox;
          CHECK(y.data()[(n * C + c) * HW + i] == Approx(map * f1[static_cast<size_t>(c * HW + i)]).margin(1e-5));
        }
      }
  }
  Observer seen(cbam);
  cbam(x);
  CHECK(seen.get("spatial.map").shape() == Shape{2, 1, 5, 6});
}

TEST_CASE("CBAM grad", "[models][cbam][grad]") {
  Rng rng(4);
  CBAM cbam(32, rng);
  // Training-mode BN over the one spatial channel; inputs spread so that channel maxima have no ties.
  CHECK(module_gradcheck(cbam, Tensor::normal({2, 32, 4, 4}, 0, 1, rng), {.max_entries = 60}));
}

// ---- Residual Attention Network ----

TEST_CASE("ResUnit: stride on the 3x3, bare 1x1 shortcut on the pre-activated input", "[models][residual_attention]") {
  Rng rng(5);
  ResUnit unit(8, 16, 2, rng);
  CHECK(unit.conv1->options.stride == 1);
  CHECK(unit.conv2->options.stride == 2);
  REQUIRE(unit.shortcut);
  CHECK(unit.shortcut->options.kernel == 1);
  CHECK(unit.shortcut->options.stride == 2);
  // bn1 16 + conv1 8*4 + bn2 8 + conv2 9*4*4 + bn3 8 + conv3 4*16 + shortcut 8*16
  CHECK(unit.parameter_count() == 16 + 32 + 8 + 144 + 8 + 64 + 128);
  unit.eval();
  Tensor x = Tensor::normal({2, 8, 6, 6}, 0, 1, rng);
  Tensor a = relu(unit.bn1->forward(x));
  Tensor F = unit.conv3->forward(
      relu(unit.bn3->forward(unit.conv2->forward(relu(unit.bn2->forward(unit.conv1->forward(a)))))));
  Tensor y = unit(x);
  CHECK(y.shape() == Shape{2, 16, 3, 3});
  CHECK(allclose(y, F + unit.shortcut->forward(a)));
  CHECK_FALSE(ResUnit(16, 16, 1, rng).shortcut);
  CHECK_THROWS_AS(ResUnit(8, 10, 1, rng), Error);
}

TEST_CASE("AttentionModule: mask structure and (1 + M) * T", "[models][residual_attention]") {
  Rng rng(6);
  AttentionModule two(8, 32, 2, rng);
  CHECK(two.down.size() == 2);
  CHECK(two.down[0]->size() == 1);  // r units after the first max-pool
  CHECK(two.down[1]->size() == 2);  // 2r at the deepest scale
  CHECK(two.skip.size() == 1);
  CHECK(two.up.size() == 1);
  CHECK(two.trunk->size() == 2);
  {
    Observer seen(two);
    CHECK(two(Tensor::normal({1, 8, 32, 32}, 0, 1, rng)).shape() == Shape{1, 8, 32, 32});
    CHECK(seen.get("mask").shape() == Shape{1, 8, 32, 32});
  }
  AttentionModule none(8, 8, 0, rng);
  CHECK(none.down.empty());
  REQUIRE(none.mask_units);
  CHECK(none.mask_units->size() == 2);
  CHECK_THROWS_WITH(none(Tensor::zeros({1, 8, 6, 6})), Contains("expected input (N, 8, 8, 8), got (1, 8, 6, 6)"));

  // (1 + M) * T, written out with the module's own parts (eval mode: deterministic)
  AttentionModule one(8, 8, 1, rng);
  one.eval();
  Tensor x = Tensor::normal({2, 8, 8, 8}, 0, 1, rng);
  Tensor h = one.first->forward(x);
  Tensor T = one.trunk->forward(h);
  Tensor m = one.down[0]->forward(max_pool2d(h, {.kernel = 3, .stride = 2, .padding = 1}));  // (2, 8, 4, 4)
  Tensor M = sigmoid(one.mask_head->forward(upsample_bilinear2d(m, 8, 8, true)));
  Observer seen(one);
  CHECK(allclose(one(x), one.last->forward((1.0f + M) * T)));
  CHECK(allclose(seen.get("mask"), M));
}

TEST_CASE("AttentionModule grad", "[models][residual_attention][grad]") {
  Rng rng(7);
  AttentionModule module(8, 8, 1, rng);
  keep_relus_off_their_kinks(module, rng);
  module.eval();
  CHECK(module_gradcheck(module, Tensor::normal({2, 8, 8, 8}, 0, 1, rng), {.max_entries = 12}));
}

// ---- spatial transformer ----

TEST_CASE("SpatialTransformer at initialisation returns its input", "[models][spatial_transformer]") {
  Rng rng(8);
  for (int64_t side : {28, 42, 60}) {
    SpatialTransformer st(side, rng);
    Tensor U = Tensor::uniform({3, 1, side, side}, 0, 1, rng);
    Tensor theta = st.theta(U);
    CHECK(allclose(theta, Tensor::from_data({3, 2, 3}, {1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0})));
    Tensor V = st(U);
    REQUIRE(V.shape() == U.shape());
    double worst = 0;
    for (int64_t i = 0; i < U.numel(); i++)
      worst = std::max(worst, std::abs(static_cast<double>(V.data()[i] - U.data()[i])));
    CHECK(worst < 1e-5);
  }
  CHECK(SpatialTransformer(28, rng).loc_fc1->options.in == 90);
  CHECK(SpatialTransformer(42, rng).loc_fc1->options.in == 490);
  CHECK(SpatialTransformer(60, rng).loc_fc1->options.in == 1210);
  CHECK(SpatialTransformer(18, rng)(Tensor::zeros({1, 1, 18, 18})).shape() ==
        Shape{1, 1, 18, 18});  // the smallest side
  CHECK_THROWS_WITH(SpatialTransformer(17, rng), Contains("the input side must be at least 18, got 17"));
}

// Raises each channel's bias until the smallest input of that channel to the ReLU after it is 1
// (pre: the layer's output, (N, K, ...) or (N, K)): no perturbation of a gradient check then
// crosses a ReLU's kink.
static void raise_bias(const Tensor& pre, const Tensor& bias) {
  int64_t N = pre.shape()[0], K = pre.shape()[1], inner = pre.numel() / (N * K);
  for (int64_t k = 0; k < K; k++) {
    real low = 1e30f;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < inner; i++) low = std::min(low, pre.data()[(n * K + k) * inner + i]);
    if (low < 1) bias.data()[k] += 1 - low;
  }
}

TEST_CASE("SpatialTransformer grad", "[models][spatial_transformer][grad]") {
  Rng rng(9);
  const int64_t S = 22;
  SpatialTransformer st(S, rng);  // a 1x1 map after the localisation convs
  // Bilinear sampling has a kink wherever a sample point crosses a pixel centre line, and at the
  // identity every point sits on one. theta = diag(0.5, 0.5) puts the points of a 22x22 grid at
  // pixel coordinates 0.5 j + 5.25: a quarter pixel from every kink. Small weights in the last
  // linear keep theta depending on the input (the localisation net gets gradient) while moving
  // the points by hundredths of a pixel.
  fill_uniform(st.loc_fc2->weight, -1e-4f, 1e-4f, rng);
  const real theta0[6] = {0.5f, 0, 0, 0, 0.5f, 0};
  for (int i = 0; i < 6; i++) st.loc_fc2->bias.data()[i] = theta0[i];
  // A smooth image (a sum of blobs): the localisation net's feature maps are smooth too, so the
  // values in a 2x2 max-pool window differ by a slope and seldom tie.
  Tensor U = Tensor::empty({2, 1, S, S});
  for (int64_t n = 0; n < 2; n++)
    for (int64_t y = 0; y < S; y++)
      for (int64_t x = 0; x < S; x++) {
        double a = (x - 8.0 - 3 * n) / 5, b = (y - 11.0) / 6, c = (x - 15.0) / 4, d = (y - 7.0 + 2 * n) / 4;
        U.data()[(n * S + y) * S + x] = static_cast<real>(std::exp(-a * a - b * b) + 0.7 * std::exp(-c * c - d * d));
      }
  {
    NoGradGuard no_grad;
    // Every ReLU of the localisation net is kept on: each layer's bias is raised until its
    // smallest input to the ReLU is 1, so no perturbation crosses a ReLU kink.
    raise_bias(max_pool2d(st.loc_conv1->forward(U)), st.loc_conv1->bias);
    Tensor h = max_pool2d(st.loc_conv1->forward(U));
    raise_bias(max_pool2d(st.loc_conv2->forward(h)), st.loc_conv2->bias);
    h = max_pool2d(st.loc_conv2->forward(h));
    raise_bias(st.loc_fc1->forward(flatten(h)), st.loc_fc1->bias);
    Tensor grid = affine_grid(st.theta(U), S, S);
    double nearest = 1;
    for (int64_t i = 0; i < grid.numel(); i++) {
      double p = ((grid.data()[i] + 1) * S - 1) / 2;  // pixel coordinate, align_corners = false
      nearest = std::min(nearest, std::abs(p - std::round(p)));
    }
    REQUIRE(nearest > 0.2);
  }
  // eps = 1e-2 moves a sample point by at most 0.11 pixels; a much smaller eps drowns in the
  // rounding of theta, whose every ulp moves all 484 points at once.
  CHECK(module_gradcheck(st, U, {.max_entries = 40}));
}

// ---- the models ----

TEST_CASE("se_resnet20 and cbam_resnet20: shapes and parameters", "[models][se_resnet20][cbam_resnet20]") {
  Rng rng(10);
  // resnet20 272,474 + SE per block (C*h + h) + (h*C + C), h = max(1, C/16):
  //   C=16, h=1: 49;  C=32, h=2: 162;  C=64, h=4: 580;  3 * (49 + 162 + 580) = 2,373
  auto se = se_resnet20(rng);
  std::printf("se_resnet20: %lld parameters\n", static_cast<long long>(se->parameter_count()));
  CHECK(se->parameter_count() == 272474 + 2373);
  // CBAM adds the same MLPs plus a spatial attention per block: conv 2*7*7 + BN 2 = 100, times 9
  auto cbam = cbam_resnet20(rng);
  std::printf("cbam_resnet20: %lld parameters\n", static_cast<long long>(cbam->parameter_count()));
  CHECK(cbam->parameter_count() == 272474 + 2373 + 900);
  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  CHECK(se->forward(x).shape() == Shape{2, 10});
  Observer seen(*cbam);
  CHECK(cbam->forward(x).shape() == Shape{2, 10});
  CHECK(seen.ending_with(".spatial.map").size() == 9);  // one map per block
  CHECK(seen.get("layer3.2.attention.spatial.map").shape() == Shape{2, 1, 8, 8});
}

TEST_CASE("attention56: shapes and parameters", "[models][attention56]") {
  Rng rng(11);
  // A ResUnit(i -> o, bottleneck b = o/4) has BN 2i + conv i*b + BN 2b + conv 9*b*b + BN 2b + conv b*o,
  // plus i*o for a shortcut. At w = 4:
  //   stem 3*9*4 = 108;  ResUnit(4->16) = 8+16+8+144+8+64+64 = 312
  //   ResUnit(c->c): c=16: 320, c=32: 1,184, c=64: 4,544;   mask head 2 * (2c + c*c)
  //   AttentionModule(16, D=2): (1 + 2 + 1 + [1 + 2] + skip 1 + up 1) * 320 + 2*(32+256) = 9 * 320 + 576 = 3,456
  //   ResUnit(16->32, s2) = 32+128+16+576+16+256+512 = 1,536
  //   AttentionModule(32, D=1): (4 + 2) * 1,184 + 2*(64+1024) = 9,280
  //   ResUnit(32->64, s2) = 64+512+32+2304+32+1024+2048 = 6,016
  //   AttentionModule(64, D=0): (4 + 2) * 4,544 + 2*(128+4096) = 35,712
  //   3 * 4,544 = 13,632;  BN 128;  linear 64*10 + 10 = 650
  //   108 + 312 + 3,456 + 1,536 + 9,280 + 6,016 + 35,712 + 13,632 + 128 + 650 = 70,830
  Attention56 model(4, rng);
  std::printf("attention56 (w=4): %lld parameters\n", static_cast<long long>(model.parameter_count()));
  CHECK(model.parameter_count() == 70830);
  Tensor x = Tensor::normal({2, 3, 32, 32}, 0, 1, rng);
  Observer seen(model);
  CHECK(model(x).shape() == Shape{2, 10});
  CHECK(seen.get("attention1.mask").shape() == Shape{2, 16, 32, 32});
  CHECK(seen.get("attention2.mask").shape() == Shape{2, 32, 16, 16});
  CHECK(seen.get("attention3.mask").shape() == Shape{2, 64, 8, 8});
  Rng rng16(12);
  CHECK(create_model("attention56", rng16, {.width = 16})->parameter_count() == 1081818);
}

TEST_CASE("stn_mnist: shapes and parameters at 28, 42 and 60", "[models][stn_mnist]") {
  Rng rng(13);
  // transformer: conv 8*49+8 = 400, conv 10*8*25+10 = 2,010, linear 10*B*B*32+32, linear 32*6+6 = 198
  // classifier: conv 260, conv 5,020, linear 20*Q*Q*50+50, linear 510
  //   S = 28: B = 3, Q = 4:   5,520 + 21,840 = 27,360
  //   S = 42: B = 7, Q = 7:  18,320 + 54,840 = 73,160
  //   S = 60: B = 11, Q = 12: 41,360 + 149,840 = 191,200
  const int64_t sides[3] = {28, 42, 60}, with[3] = {27360, 73160, 191200}, without[3] = {21840, 54840, 149840};
  for (int i = 0; i < 3; i++) {
    StnMnist stn(sides[i], rng), cnn(sides[i], rng, false);
    std::printf("stn_mnist at %lld: %lld parameters (CNN baseline %lld)\n", static_cast<long long>(sides[i]),
                static_cast<long long>(stn.parameter_count()), static_cast<long long>(cnn.parameter_count()));
    CHECK(stn.parameter_count() == with[i]);
    CHECK(cnn.parameter_count() == without[i]);
    CHECK_FALSE(cnn.transformer);
    Tensor x = Tensor::uniform({3, 1, sides[i], sides[i]}, 0, 1, rng);
    CHECK(stn(x).shape() == Shape{3, 10});
    CHECK(cnn(x).shape() == Shape{3, 10});
  }
  CHECK(create_model("stn_mnist", rng)->parameter_count() == 27360);
}

TEST_CASE("stn_paper: shapes, parameters, and its transformer starts at the identity", "[models][stn_paper]") {
  Rng rng(16);
  // transformer: conv 20*25+20 = 520, conv 20*20*25+20 = 10,020, linear 20*4*4*20+20 = 6,420,
  // linear 20*6+6 = 126: 17,086; classifier: conv 64*81+64 = 5,248, conv 64*64*49+64 = 200,768,
  // linear 64*5*5*10+10 = 16,010: 222,026
  StnPaper stn(42, rng), cnn(42, rng, false);
  CHECK(stn.transformer->parameter_count() == 17086);
  CHECK(cnn.parameter_count() == 222026);
  CHECK(stn.parameter_count() == 239112);
  Tensor U = Tensor::uniform({3, 1, 42, 42}, 0, 1, rng);
  CHECK(stn(U).shape() == Shape{3, 10});
  Tensor V = stn.transformer->forward(U);  // at initialisation theta is the identity
  double worst = 0;
  for (int64_t i = 0; i < U.numel(); i++)
    worst = std::max(worst, std::abs(static_cast<double>(V.data()[i] - U.data()[i])));
  CHECK(worst < 1e-5);
  CHECK(SpatialTransformer(28, rng, SpatialTransformer::Localisation::paper).loc_fc1->options.in == 20);  // 1x1 map
  CHECK_THROWS_WITH(StnPaper(27, rng), Contains("at least 28, got 27"));
}

TEST_CASE("stn_paper's localisation net grad", "[models][stn_paper][grad]") {
  Rng rng(17);
  const int64_t S = 28;  // 14x14 down-sampled: a 1x1 map after the convolutions
  SpatialTransformer st(S, rng, SpatialTransformer::Localisation::paper);
  // as in "SpatialTransformer grad": sample points a quarter pixel from every kink, theta still
  // depending on the input through small weights, every ReLU kept on by raised biases
  fill_uniform(st.loc_fc2->weight, -1e-4f, 1e-4f, rng);
  const real theta0[6] = {0.5f, 0, 0, 0, 0.5f, 0};
  for (int i = 0; i < 6; i++) st.loc_fc2->bias.data()[i] = theta0[i];
  Tensor U = Tensor::empty({2, 1, S, S});
  for (int64_t n = 0; n < 2; n++)
    for (int64_t y = 0; y < S; y++)
      for (int64_t x = 0; x < S; x++) {
        double a = (x - 10.0 - 3 * n) / 6, b = (y - 14.0) / 7, c = (x - 19.0) / 5, d = (y - 9.0 + 2 * n) / 5;
        U.data()[(n * S + y) * S + x] = static_cast<real>(std::exp(-a * a - b * b) + 0.7 * std::exp(-c * c - d * d));
      }
  {
    NoGradGuard no_grad;
    Tensor h = avg_pool2d(U);
    raise_bias(max_pool2d(st.loc_conv1->forward(h)), st.loc_conv1->bias);
    h = max_pool2d(st.loc_conv1->forward(h));
    raise_bias(st.loc_conv2->forward(h), st.loc_conv2->bias);
    h = st.loc_conv2->forward(h);
    raise_bias(st.loc_fc1->forward(flatten(h)), st.loc_fc1->bias);
  }
  CHECK(module_gradcheck(st, U, {.max_entries = 40}));
}

TEST_CASE("stn_mnist loss falls when overfitting one small batch", "[models][stn_mnist]") {
  Rng rng(14);
  StnMnist model(28, rng);
  model.eval();                              // no dropout: the same function at every step
  Tensor x = Tensor::zeros({4, 1, 28, 28});  // four blobs of different places and shapes
  for (int64_t n = 0; n < 4; n++)
    for (int64_t y = 0; y < 28; y++)
      for (int64_t xx = 0; xx < 28; xx++) {
        double a = (xx - 8.0 - 4 * n) / 3, b = (y - 20.0 + 3 * n) / (2 + n);
        x.data()[(n * 28 + y) * 28 + xx] = static_cast<real>(2 * std::exp(-a * a - b * b) - 0.3);
      }
  std::vector<real> losses = overfit(model, x, {0, 7, 2, 9}, 0.03f, 30, false);
  INFO("losses: " << Catch::Detail::stringify(losses));
  CHECK(losses.back() < 0.5f * losses.front());
}

TEST_CASE("se_resnet20 loss falls when overfitting one small batch", "[models][se_resnet20]") {
  Rng rng(15);
  auto model = se_resnet20(rng);
  Tensor x = Tensor::normal({4, 3, 16, 16}, 0, 1, rng);  // 16x16 keeps it quick; the pool makes any size fit
  std::vector<real> losses = overfit(*model, x, {0, 7, 2, 9}, 0.05f, 8, false);
  INFO("losses: " << Catch::Detail::stringify(losses));
  CHECK(losses.back() < 0.5f * losses.front());
}

// ---- pictures of attention ----

TEST_CASE("ImageGrid stretches maps to tiles and colours heat black to white", "[io][image_grid]") {
  ImageGrid grid(1, 2, 4, 2);  // one row of two 4x4 tiles drawn 2x: 8x8 pixels each, 2-pixel borders
  CHECK(grid.image().width == 2 + 2 * (8 + 2));
  CHECK(grid.image().height == 2 + 8 + 2);
  const float map[4] = {0, 1, 1, 0};  // 2x2: each value covers a 4x4 block of the 8x8 tile
  grid.put_heat(0, 1, map, 2, 2);
  auto pixel = [&](int64_t y, int64_t x) {
    const uint8_t* p = grid.image().pixels.data() + (y * grid.image().width + x) * 3;
    return std::vector<int>{p[0], p[1], p[2]};
  };
  const int64_t left = 2 + 8 + 2, top = 2;
  CHECK(pixel(top, left) == std::vector<int>{0, 0, 0});            // 0: black
  CHECK(pixel(top, left + 4) == std::vector<int>{255, 255, 255});  // 1: white
  CHECK(pixel(top + 7, left + 7) == std::vector<int>{0, 0, 0});
  CHECK(pixel(0, 0) == std::vector<int>{128, 128, 128});  // border
  float values[3] = {2, 4, 6};
  normalise_to_unit(values, 3);
  CHECK(values[1] == Approx(0.5));
  CHECK_THROWS_AS(grid.put_grey(1, 0, map, 2, 2), Error);
  grid.mark(0, 1, 0.5, 0.5, 1, 1);  // the bottom-right quarter of tile (0, 1): a box from (4, 4) to (7, 7)
  CHECK(pixel(top + 4, left + 4) == std::vector<int>{0, 255, 255});
  CHECK(pixel(top + 7, left + 5) == std::vector<int>{0, 255, 255});
  CHECK(pixel(top + 5, left + 5) == std::vector<int>{0, 0, 0});  // inside the box: the map as it was
  CHECK_THROWS_AS(grid.mark(0, 2, 0, 0, 1, 1), Error);
}

// Counts the pixels of a rectangle of the image that are dark (text on white).
static int64_t dark_pixels(const Image& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
  int64_t dark = 0;
  for (int64_t y = y0; y < y1; y++)
    for (int64_t x = x0; x < x1; x++) dark += image.pixels[static_cast<size_t>((y * image.width + x) * 3)] < 100;
  return dark;
}

TEST_CASE("draw_text lights pixels inside its box, across or upwards", "[io][image_grid]") {
  Image image{.height = 60, .width = 60, .channels = 3, .pixels = {}};
  image.pixels.assign(60 * 60 * 3, 255);
  const int64_t w = text_width("cat", 2), h = text_height("cat", 2);
  CHECK(w == 2 * text_width("cat", 1));
  CHECK(h == 24);  // a line is 12 font pixels high
  draw_text(image, 5, 5, "cat", 2, Rgb{0, 0, 0});
  CHECK(dark_pixels(image, 5, 5, 5 + w, 5 + h) > 20);
  CHECK(dark_pixels(image, 0, 0, 60, 60) == dark_pixels(image, 5, 5, 5 + w, 5 + h));  // nothing outside the box
  Image turned = image;
  turned.pixels.assign(60 * 60 * 3, 255);
  draw_text(turned, 5, 5, "cat", 2, Rgb{0, 0, 0}, true);  // upwards: h wide, w high
  CHECK(dark_pixels(turned, 5, 5, 5 + h, 5 + w) == dark_pixels(image, 5, 5, 5 + w, 5 + h));
  draw_text(turned, 50, 50, "\xce\xbc and far off the edge", 1, Rgb{0, 0, 0});  // not ASCII, clipped: no crash
}

TEST_CASE("ImageGrid draws its title, labels, captions and colour scale in bands around the tiles",
          "[io][image_grid]") {
  const Image bare = ImageGrid(2, 3, 8, 2).image();  // 2 + 3 * (16 + 2) wide, 2 + 2 * (16 + 2) high
  ImageGrid grid(2, 3, 8, 2,
                 {.title = "T",
                  .columns = {"a", "b", "c"},
                  .rows = {"one", "two"},
                  .caption_lines = 2,
                  .heat_low = "0",
                  .heat_high = "1"});
  const Image& image = grid.image();
  const int64_t row_band = text_width("one", 1) + 8, title_band = 24 + 8, column_band = 12 + 4;
  const int64_t caption_band = 2 * 12 + 4, heat_band = 8 + 12 + 2 + 12;
  CHECK(image.width == bare.width + row_band);
  CHECK(image.height == bare.height + title_band + column_band + 2 * caption_band + heat_band);
  CHECK(dark_pixels(image, 0, 0, image.width, title_band) > 0);                                // the title
  CHECK(dark_pixels(image, row_band, title_band, image.width, title_band + column_band) > 0);  // column labels
  CHECK(dark_pixels(image, 0, title_band + column_band, row_band, image.height) > 0);          // row labels
  // the captions of tile (0, 0): nothing yet, then its two lines
  const int64_t caption_top = title_band + column_band + 2 + 16, caption_left = row_band + 2;
  CHECK(dark_pixels(image, caption_left, caption_top, caption_left + 16, caption_top + caption_band) == 0);
  grid.caption_prediction(0, 0, "3", "5");
  CHECK(dark_pixels(grid.image(), caption_left - 8, caption_top, caption_left + 24, caption_top + 14) > 0);
  const uint8_t* red = nullptr;  // the wrong prediction is red
  for (int64_t y = caption_top + 12; y < caption_top + caption_band && !red; y++)
    for (int64_t x = caption_left - 8; x < caption_left + 24 && !red; x++) {
      const uint8_t* p = grid.image().pixels.data() + (y * image.width + x) * 3;
      if (p[0] > 150 && p[1] < 50) red = p;
    }
  CHECK(red != nullptr);
  CHECK_THROWS_AS(grid.caption(0, 0, 2, "a third line"), Error);
  // the colour scale runs from put_heat's black to its white
  const int64_t bar = image.height - heat_band + 4 + 6;
  const uint8_t* first = image.pixels.data() + (bar * image.width + row_band + 2) * 3;
  const uint8_t* last = image.pixels.data() + (bar * image.width + image.width - 3) * 3;
  CHECK(std::vector<int>{first[0], first[1], first[2]} == std::vector<int>{0, 0, 0});
  CHECK(std::vector<int>{last[0], last[1], last[2]} == std::vector<int>{255, 255, 255});
  CHECK_THROWS_AS(ImageGrid(2, 3, 8, 2, {.columns = {"a", "b"}}), Error);  // a label per column, or none
}
