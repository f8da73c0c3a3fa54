// The models of MODELS.md: their structure, sizes, output shapes, the zoo, and a smoke test of
// learning on each ("loss falls when overfitting one small batch").
#include <catch2/catch.hpp>

#include <algorithm>

#include "layers/sigmoid.h"
#include "models/mnist_cnn.h"
#include "models/resnet20.h"
#include "models/zoo.h"
#include "tests/gradcheck.h"
#include "tests/model_testing.h"

using namespace glimpse;
using namespace glimpse::testing;
using Catch::Matchers::Contains;

namespace {

bool has_name(const std::vector<NamedTensor>& list, const std::string& name) {
  auto names = names_of(list);
  return std::find(names.begin(), names.end(), name) != names.end();
}

int count_of(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) count++;
  return count;
}

}  // namespace

// ---- mnist_cnn ----

TEST_CASE("mnist_cnn parameters", "[models][mnist_cnn]") {
  Rng rng(1);
  MnistCNN model(rng);
  CHECK(names_of(model.named_parameters()) == std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight",
                                                                       "conv2.bias", "fc1.weight", "fc1.bias",
                                                                       "fc2.weight", "fc2.bias"});
  CHECK(model.named_buffers().empty());
  // conv1  32*1*5*5 + 32        =       832
  // conv2  64*32*5*5 + 64       =    51,264
  // fc1    3136*512 + 512       = 1,606,144
  // fc2    512*10 + 10          =     5,130
  //                               1,663,370
  CHECK(model.parameter_count() == 1663370);
  std::string tree = model.print();
  CHECK_THAT(tree, Contains("MnistCNN  1,663,370 parameters\n"));
  CHECK_THAT(tree, Contains("\n  conv2: Conv2d(32, 64, kernel=5, padding=2)  51,264 parameters\n"));
  CHECK_THAT(tree, Contains("\n  fc1: Linear(3136, 512)  1,606,144 parameters\n"));
  CHECK_THAT(tree, Contains("\n  dropout: Dropout(p=0.5)\n"));
}

TEST_CASE("mnist_cnn output shape", "[models][mnist_cnn]") {
  Rng rng(2);
  MnistCNN model(rng);
  Tensor x = Tensor::normal({4, 1, 28, 28}, 0, 1, rng);
  CHECK(model(x).shape() == Shape{4, 10});
  model.eval();
  Tensor a = model(x), b = model(x);
  CHECK(a.shape() == Shape{4, 10});
  CHECK(a.to_vector() == b.to_vector());  // no dropout in eval: the same answer twice
}

TEST_CASE("mnist_cnn loss falls when overfitting one small batch", "[models][mnist_cnn]") {
  Rng rng(3);
  MnistCNN model(rng);
  Tensor x = Tensor::normal({4, 1, 28, 28}, 0, 1, rng);
  std::vector<real> losses = overfit(model, x, {3, 1, 4, 1}, 0.02f, 12, true);  // in training mode: with dropout
  INFO("losses: " << Catch::Detail::stringify(losses));
  real last_three = (losses[9] + losses[10] + losses[11]) / 3;  // dropout makes single steps noisy
  CHECK(last_three < 0.6f * losses.front());
}

// ---- resnet20 ----

TEST_CASE("resnet20 parameters, option B shortcuts", "[models][resnet20]") {
  Rng rng(4);
  ResNet20 model(rng);
  // stem    conv 3*16*9 = 432, BN 32                                           =     464
  // layer1  3 blocks x (2 convs 16*16*9 = 2,304, 2 BNs 32)  = 3 x 4,672        =  14,016
  // layer2  block 1: 16*32*9 + 32*32*9 + 2 BNs 64 + shortcut 16*32 + BN 64
  //                  = 4,608 + 9,216 + 128 + 576                   = 14,528
  //         blocks 2, 3: 2 x (2 x 9,216 + 128)                     = 37,120   =  51,648
  // layer3  block 1: 32*64*9 + 64*64*9 + 2 BNs 128 + shortcut 32*64 + BN 128
  //                  = 18,432 + 36,864 + 256 + 2,176               = 57,728
  //         blocks 2, 3: 2 x (2 x 36,864 + 256)                    = 147,968  = 205,696
  // fc      64*10 + 10                                                         =     650
  //                                                                              272,474
  // He et al. 2016, Table 6 give 0.27M for option A (parameter-free shortcuts):
  // 272,474 - 576 - 2,176 = 269,722; both round to 0.27M.
  CHECK(model.parameter_count() == 272474);
  // 21 convolutions and 21 BNs (stem 1, blocks 18, shortcuts 2), fc (weight, bias)
  CHECK(model.named_parameters().size() == 21 + 21 * 2 + 2);
  CHECK(model.named_buffers().size() == 21 * 2);
  auto params = model.named_parameters();
  CHECK(params.front().first == "conv1.weight");
  CHECK(params.back().first == "fc.bias");
  CHECK(has_name(params, "layer1.0.conv1.weight"));
  CHECK(has_name(params, "layer2.0.shortcut.0.weight"));
  CHECK(has_name(params, "layer3.2.bn2.bias"));
  CHECK_FALSE(has_name(params, "layer1.0.shortcut.0.weight"));  // identity where the shape is kept
  CHECK_FALSE(has_name(params, "layer2.1.shortcut.0.weight"));
  CHECK(has_name(model.named_buffers(), "layer3.0.shortcut.1.running_var"));
}

TEST_CASE("resnet20 print shows the stages", "[models][resnet20]") {
  Rng rng(5);
  ResNet20 model(rng);
  std::string tree = model.print();
  CHECK_THAT(tree, Contains("ResNet20  272,474 parameters\n"));
  CHECK_THAT(tree, Contains("\n  conv1: Conv2d(3, 16, kernel=3, padding=1, bias=false)  432 parameters\n"));
  CHECK_THAT(tree, Contains("\n  layer2: ResNetStage  51,648 parameters\n"));
  CHECK_THAT(tree, Contains("\n    0: BasicBlock(16, 32, stride=2)  14,528 parameters\n"));
  CHECK_THAT(tree, Contains("\n      shortcut: Sequential  576 parameters\n"));
  CHECK_THAT(tree, Contains("\n  fc: Linear(64, 10)  650 parameters\n"));
  CHECK(count_of(tree, "BasicBlock(") == 9);
}

TEST_CASE("resnet20 output shape", "[models][resnet20]") {
  Rng rng(6);
  ResNet20 model(rng);
  Tensor x = Tensor::normal({4, 3, 32, 32}, 0, 1, rng);
  CHECK(model(x).shape() == Shape{4, 10});
  model.eval();
  CHECK(model(x).shape() == Shape{4, 10});
}

TEST_CASE("resnet20 takes an attention module in every block", "[models][resnet20]") {
  Rng rng(7);
  std::vector<int64_t> channels;
  ResNet20 model(rng, {.branch_attention = [&](int64_t c, Rng&) -> std::shared_ptr<Module> {
                   channels.push_back(c);
                   return std::make_shared<Sigmoid>();
                 }});
  CHECK(channels == std::vector<int64_t>{16, 16, 16, 32, 32, 32, 64, 64, 64});
  CHECK(count_of(model.print(), "attention: Sigmoid") == 9);
  CHECK(model.parameter_count() == 272474);  // a Sigmoid has no parameters
  CHECK(model(Tensor::normal({2, 3, 16, 16}, 0, 1, rng)).shape() == Shape{2, 10});
}

TEST_CASE("resnet20 loss falls when overfitting one small batch", "[models][resnet20]") {
  Rng rng(8);
  ResNet20 model(rng);
  Tensor x = Tensor::normal({4, 3, 16, 16}, 0, 1, rng);  // 16x16 keeps it quick; the pool makes any size fit
  std::vector<real> losses = overfit(model, x, {0, 7, 2, 9}, 0.05f, 8, true);
  INFO("losses: " << Catch::Detail::stringify(losses));
  CHECK(losses.back() < 0.5f * losses.front());
}

// ---- the zoo ----

TEST_CASE("zoo creates models by name", "[models][zoo]") {
  CHECK(model_names() == std::vector<std::string>{"mnist_cnn", "resnet20", "se_resnet20", "cbam_resnet20",
                                                  "attention56", "stn_mnist", "eca_resnet20", "gc_resnet20",
                                                  "nl_resnet20", "da_resnet20", "cc_resnet20", "aa_resnet20"});
  CHECK(mnist_model_names() == std::vector<std::string>{"mnist_cnn", "stn_mnist"});
  CHECK(cifar_model_names() == std::vector<std::string>{"resnet20", "se_resnet20", "cbam_resnet20", "attention56",
                                                        "eca_resnet20", "gc_resnet20", "nl_resnet20", "da_resnet20",
                                                        "cc_resnet20", "aa_resnet20"});
  Rng rng(9);
  CHECK(create_model("mnist_cnn", rng)->type_name() == "MnistCNN");
  CHECK(create_model("resnet20", rng)->parameter_count() == 272474);
  CHECK_THROWS_WITH(
      create_model("resnet21", rng),
      "create_model: unknown model 'resnet21'; known models: mnist_cnn, resnet20, se_resnet20, cbam_resnet20, "
      "attention56, stn_mnist, eca_resnet20, gc_resnet20, nl_resnet20, da_resnet20, cc_resnet20, aa_resnet20");
}

TEST_CASE("zoo: stn_mnist takes the image side of RTS MNIST", "[models][zoo]") {
  Rng rng(11);
  CHECK(create_model("stn_mnist", rng)->parameter_count() == 27360);  // 28x28, as in bench/README.md
  auto rts = create_model("stn_mnist", rng, {.image_side = 42});
  CHECK(rts->parameter_count() == 73160);
  rts->eval();
  CHECK(rts->forward(Tensor::normal({2, 1, 42, 42}, 0, 1, rng)).shape() == Shape{2, 10});
}

TEST_CASE("zoo: a seed fixes the whole model", "[models][zoo]") {
  Rng a(10), b(10);
  auto x = create_model("resnet20", a), y = create_model("resnet20", b);
  auto sx = x->state(), sy = y->state();
  REQUIRE(sx.size() == sy.size());
  for (size_t i = 0; i < sx.size(); i++) {
    CHECK(sx[i].first == sy[i].first);
    CHECK(sx[i].second.to_vector() == sy[i].second.to_vector());
  }
}
