// The Module registry, the layers and their initialisation.
#include <catch2/catch.hpp>

#include <cmath>

#include "layers/avg_pool2d.h"
#include "layers/basic_block.h"
#include "layers/batchnorm2d.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/dropout2d.h"
#include "layers/flatten.h"
#include "layers/global_avg_pool.h"
#include "layers/init.h"
#include "layers/linear.h"
#include "layers/max_pool2d.h"
#include "layers/relu.h"
#include "layers/sequential.h"
#include "layers/sigmoid.h"
#include "tests/gradcheck.h"
#include "tests/model_testing.h"
#include "tests/module_gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;
using Catch::Matchers::Contains;

namespace {

// A module with a parameter, a buffer and two children, registered interleaved.
struct Toy : Module {
  explicit Toy(Rng& rng) {
    scale = add_parameter("scale", Tensor::ones({3}));
    first = add_module("first", std::make_shared<Linear>(Linear::Options{.in = 4, .out = 3}, rng));
    count = add_buffer("count", Tensor::zeros({1}));
    second = add_module("second", std::make_shared<BatchNorm2d>(3));
  }
  std::string type_name() const override { return "Toy"; }
  void register_twice() { add_parameter("scale", Tensor::zeros({1})); }
  void register_dotted() { add_buffer("a.b", Tensor::zeros({1})); }
  void register_clash_with_child() { add_parameter("first", Tensor::zeros({1})); }

  Tensor scale, count;
  std::shared_ptr<Linear> first;
  std::shared_ptr<BatchNorm2d> second;
};

double mean_of(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); i++) s += t.data()[i];
  return s / static_cast<double>(t.numel());
}

double std_of(const Tensor& t) {
  double m = mean_of(t), s = 0;
  for (int64_t i = 0; i < t.numel(); i++) s += (t.data()[i] - m) * (t.data()[i] - m);
  return std::sqrt(s / static_cast<double>(t.numel()));
}

}  // namespace

// ---- the registry ----

TEST_CASE("module registers names in order, own tensors before children's", "[layers][module]") {
  Rng rng(1);
  Toy toy(rng);
  CHECK(names_of(toy.named_parameters()) ==
        std::vector<std::string>{"scale", "first.weight", "first.bias", "second.weight", "second.bias"});
  CHECK(names_of(toy.named_buffers()) ==
        std::vector<std::string>{"count", "second.running_mean", "second.running_var"});
  CHECK(names_of(toy.state()) == std::vector<std::string>{"scale", "first.weight", "first.bias", "second.weight",
                                                          "second.bias", "count", "second.running_mean",
                                                          "second.running_var"});
  REQUIRE(toy.children().size() == 2);
  CHECK(toy.children()[0].first == "first");
  CHECK(toy.children()[1].second.get() == toy.second.get());
  CHECK(toy.parameter_count() == 3 + (4 * 3 + 3) + (3 + 3));
}

TEST_CASE("module parameters are the layer's own tensors", "[layers][module]") {
  Rng rng(2);
  Linear layer({.in = 5, .out = 2}, rng);
  std::vector<Tensor> params = layer.parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].same(layer.weight));
  CHECK(params[1].same(layer.bias));
  for (const Tensor& p : params) CHECK(p.requires_grad());

  params[0].data()[3] = 42;  // an optimiser's in-place update reaches the layer
  CHECK(layer.weight.data()[3] == 42);

  Linear no_bias({.in = 5, .out = 2, .bias = false}, rng);
  CHECK(no_bias.parameters().size() == 1);
  CHECK_FALSE(no_bias.bias.defined());
}

TEST_CASE("module rejects repeated, dotted and empty names", "[layers][module]") {
  Rng rng(3);
  Toy toy(rng);
  CHECK_THROWS_WITH(toy.register_twice(), Contains("'scale' is already registered"));
  CHECK_THROWS_WITH(toy.register_dotted(), Contains("contains '.'"));
  CHECK_THROWS_WITH(toy.register_clash_with_child(), Contains("'first' is already registered"));
  CHECK(toy.named_parameters().size() == 5);  // nothing was added by the failed calls
}

TEST_CASE("module buffers are not parameters", "[layers][module][batchnorm2d]") {
  BatchNorm2d bn(4);
  CHECK(names_of(bn.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(names_of(bn.named_buffers()) == std::vector<std::string>{"running_mean", "running_var"});
  CHECK(bn.parameter_count() == 8);
  for (const auto& [name, b] : bn.named_buffers()) CHECK_FALSE(b.requires_grad());
  CHECK(bn.named_buffers()[0].second.same(bn.running_mean));
}

TEST_CASE("module train and eval reach every child", "[layers][module]") {
  Rng rng(4);
  Sequential net;
  auto inner = net.push_back(std::make_shared<Sequential>());
  auto bn = inner->push_back(std::make_shared<BatchNorm2d>(2));
  auto drop = net.push_back(std::make_shared<Dropout>(0.5f, rng));
  CHECK(net.is_training());
  CHECK(bn->is_training());
  net.eval();
  CHECK_FALSE(net.is_training());
  CHECK_FALSE(bn->is_training());
  CHECK_FALSE(drop->is_training());
  net.train();
  CHECK(bn->is_training());
  CHECK(drop->is_training());
}

TEST_CASE("module zero_grad drops every gradient", "[layers][module]") {
  Rng rng(5);
  Toy toy(rng);
  Tensor x = Tensor::normal({2, 4}, 0, 1, rng);
  backward(sum(toy.first->forward(x) * toy.scale));
  for (const Tensor& p : toy.first->parameters()) CHECK(p.grad().defined());
  toy.zero_grad();
  for (const Tensor& p : toy.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("module reseed repeats the dropout masks", "[layers][module][dropout]") {
  Rng rng(24);
  Sequential net;
  auto first = net.push_back(std::make_shared<Dropout>(0.5f, rng));
  auto second = net.push_back(std::make_shared<Dropout>(0.5f, rng));
  Tensor x = Tensor::ones({64});
  net.reseed(5);
  std::vector<real> a1 = (*first)(x).to_vector(), a2 = (*second)(x).to_vector();
  net.reseed(5);
  CHECK((*first)(x).to_vector() == a1);  // the same seed, the same masks
  CHECK((*second)(x).to_vector() == a2);
  CHECK(a1 != a2);  // siblings draw different masks
  net.reseed(6);
  CHECK((*first)(x).to_vector() != a1);
}

TEST_CASE("module print shows the tree with parameter counts", "[layers][module]") {
  Rng rng(6);
  BasicBlock block({.in = 8, .out = 16, .stride = 2}, rng);
  std::string tree = block.print();
  CHECK_THAT(tree, Contains("BasicBlock(8, 16, stride=2)  3,680 parameters\n"));
  CHECK_THAT(tree, Contains("\n  conv1: Conv2d(8, 16, kernel=3, stride=2, padding=1, bias=false)  1,152 parameters\n"));
  CHECK_THAT(tree, Contains("\n  bn2: BatchNorm2d(16)  32 parameters\n"));
  CHECK_THAT(tree, Contains("\n  shortcut: Sequential  160 parameters\n"));
  CHECK_THAT(tree, Contains("\n    0: Conv2d(8, 16, kernel=1, stride=2, bias=false)  128 parameters\n"));
  CHECK_THAT(tree, Contains("\n    1: BatchNorm2d(16)  32 parameters\n"));

  Sequential head;
  head.push_back(std::make_shared<Flatten>());
  head.push_back(std::make_shared<Dropout>(0.25f, rng));
  head.push_back(std::make_shared<Linear>(Linear::Options{.in = 4, .out = 2, .bias = false}, rng));
  CHECK(head.print() ==
        "Sequential  8 parameters\n"
        "  0: Flatten\n"
        "  1: Dropout(p=0.25)\n"
        "  2: Linear(4, 2, bias=false)  8 parameters\n");
}

TEST_CASE("module without a single-input forward says so", "[layers][module]") {
  Rng rng(7);
  Toy toy(rng);
  CHECK_THROWS_WITH(toy.forward(Tensor::zeros({1, 4})), "Toy takes no single input");
}

// ---- initialisation ----

TEST_CASE("init: Kaiming normal fan_out for convolutions, zero bias", "[layers][init]") {
  Rng rng(8);
  Conv2d conv({.in = 64, .out = 128, .kernel = 3, .padding = 1}, rng);  // 73,728 weights
  CHECK(fan_out(conv.weight) == 128 * 9);
  CHECK(fan_in(conv.weight) == 64 * 9);
  double expected = std::sqrt(2.0 / (128 * 9));
  CHECK(std_of(conv.weight) == Approx(expected).epsilon(0.02));
  CHECK(std::abs(mean_of(conv.weight)) < 0.02 * expected);
  for (real b : conv.bias.to_vector()) CHECK(b == 0);
}

TEST_CASE("init: PyTorch's default for linear layers", "[layers][init]") {
  Rng rng(9);
  Linear fc({.in = 400, .out = 300}, rng);
  double bound = 1 / std::sqrt(400.0);
  double low = 1, high = -1;
  for (const Tensor& p : {fc.weight, fc.bias})
    for (real v : p.to_vector()) {
      low = std::min<double>(low, v);
      high = std::max<double>(high, v);
    }
  CHECK(low >= -bound);
  CHECK(high <= bound);
  CHECK(low < -0.99 * bound);  // the whole interval is used
  CHECK(high > 0.99 * bound);
  CHECK(std_of(fc.weight) == Approx(bound / std::sqrt(3.0)).epsilon(0.02));  // uniform: std = bound / sqrt(3)
  CHECK(std_of(fc.bias) == Approx(bound / std::sqrt(3.0)).epsilon(0.15));    // only 300 values
}

TEST_CASE("init: BN gamma 1, beta 0, running statistics 0 and 1", "[layers][init][batchnorm2d]") {
  BatchNorm2d bn(3);
  CHECK(bn.gamma.to_vector() == std::vector<real>{1, 1, 1});
  CHECK(bn.beta.to_vector() == std::vector<real>{0, 0, 0});
  CHECK(bn.running_mean.to_vector() == std::vector<real>{0, 0, 0});
  CHECK(bn.running_var.to_vector() == std::vector<real>{1, 1, 1});
}

TEST_CASE("init: a seed fixes every weight", "[layers][init]") {
  Rng a(10), b(10), c(11);
  BasicBlock x({.in = 4, .out = 8, .stride = 2}, a), y({.in = 4, .out = 8, .stride = 2}, b),
      z({.in = 4, .out = 8, .stride = 2}, c);
  auto px = x.parameters(), py = y.parameters(), pz = z.parameters();
  REQUIRE(px.size() == py.size());
  for (size_t i = 0; i < px.size(); i++) CHECK(px[i].to_vector() == py[i].to_vector());
  CHECK(px[0].to_vector() != pz[0].to_vector());
}

// ---- the layers ----

TEST_CASE("Linear forward matches x W^T + b", "[layers][linear]") {
  Rng rng(12);
  Linear fc({.in = 3, .out = 2}, rng);
  Tensor x = Tensor::normal({4, 3}, 0, 1, rng);
  Tensor expected = Tensor::empty({4, 2});
  for (int n = 0; n < 4; n++)
    for (int o = 0; o < 2; o++) {
      double s = fc.bias.data()[o];
      for (int i = 0; i < 3; i++) s += x.data()[n * 3 + i] * fc.weight.data()[o * 3 + i];
      expected.data()[n * 2 + o] = static_cast<real>(s);
    }
  CHECK(allclose(fc(x), expected));
  CHECK_THROWS_WITH(fc(Tensor::zeros({4, 5})), Contains("Linear(3, 2): expected input (N, 3), got (4, 5)"));
}

TEST_CASE("Linear grad", "[layers][linear][grad]") {
  Rng rng(13);
  Linear fc({.in = 6, .out = 4}, rng);
  CHECK(module_gradcheck(fc, Tensor::normal({3, 6}, 0, 1, rng)));
  Linear no_bias({.in = 5, .out = 3, .bias = false}, rng);
  CHECK(module_gradcheck(no_bias, Tensor::normal({2, 5}, 0, 1, rng)));
}

TEST_CASE("Conv2d forward shape and errors", "[layers][conv2d]") {
  Rng rng(14);
  Conv2d conv({.in = 3, .out = 5, .kernel = 3, .stride = 2, .padding = 1}, rng);
  CHECK(conv(Tensor::zeros({2, 3, 9, 8})).shape() == Shape{2, 5, 5, 4});
  CHECK(conv.parameter_count() == 5 * 3 * 9 + 5);
  CHECK_THROWS_WITH(conv(Tensor::zeros({2, 4, 9, 8})), Contains("expected input (N, 3, H, W), got (2, 4, 9, 8)"));
  CHECK_THROWS_AS(Conv2d({.in = 3, .out = 0}, rng), Error);
}

TEST_CASE("Conv2d grad", "[layers][conv2d][grad]") {
  Rng rng(15);
  Conv2d conv({.in = 2, .out = 3, .kernel = 3, .stride = 2, .padding = 1}, rng);
  CHECK(module_gradcheck(conv, Tensor::normal({2, 2, 5, 6}, 0, 1, rng)));
  Conv2d pointwise({.in = 3, .out = 2, .kernel = 1, .bias = false}, rng);
  CHECK(module_gradcheck(pointwise, Tensor::normal({1, 3, 4, 4}, 0, 1, rng)));
}

TEST_CASE("BatchNorm2d normalises in training and uses running statistics in eval", "[layers][batchnorm2d]") {
  Rng rng(16);
  BatchNorm2d bn(2);
  Tensor x = Tensor::normal({8, 2, 3, 3}, 5, 2, rng);  // mean 5, std 2
  Tensor y = bn(x);
  for (int c = 0; c < 2; c++) {  // each channel of y: mean 0, std 1
    double s = 0, s2 = 0, batch_mean = 0;
    for (int n = 0; n < 8; n++)
      for (int i = 0; i < 9; i++) {
        double v = y.data()[(n * 2 + c) * 9 + i];
        s += v;
        s2 += v * v;
        batch_mean += x.data()[(n * 2 + c) * 9 + i] / 72.0;
      }
    CHECK(std::abs(s / 72) < 1e-4);
    CHECK(s2 / 72 == Approx(1).epsilon(1e-3));
    CHECK(bn.running_mean.data()[c] == Approx(0.1 * batch_mean).epsilon(1e-4));  // 0.9 * 0 + 0.1 * mean
  }

  bn.eval();
  std::vector<real> mean_before = bn.running_mean.to_vector(), var_before = bn.running_var.to_vector();
  Tensor z = bn(x);
  CHECK(bn.running_mean.to_vector() == mean_before);  // eval leaves the statistics alone
  CHECK(bn.running_var.to_vector() == var_before);
  for (int64_t i = 0; i < x.numel(); i++) {
    int c = static_cast<int>((i / 9) % 2);
    double expected = (x.data()[i] - mean_before[c]) / std::sqrt(var_before[c] + 1e-5);
    REQUIRE(z.data()[i] == Approx(expected).epsilon(1e-4));
  }

  CHECK(bn(Tensor::normal({4, 2}, 0, 1, rng)).shape() == Shape{4, 2});  // (N, C) input
  CHECK_THROWS_WITH(bn(Tensor::zeros({4, 3, 2, 2})), Contains("BatchNorm2d(2): expected input (N, 2, H, W)"));
}

TEST_CASE("Dropout zeroes and rescales in training only", "[layers][dropout]") {
  Rng rng(17);
  Dropout drop(0.25f, rng);
  Tensor x = Tensor::full({100, 100}, 2);
  Tensor y = drop(x);
  int64_t zeros = 0;
  for (real v : y.to_vector()) {
    if (v == 0)
      zeros++;
    else
      REQUIRE(v == Approx(2 / 0.75));
  }
  CHECK(zeros == Approx(2500).margin(250));
  CHECK(drop(x).to_vector() != y.to_vector());  // a new mask every call

  drop.eval();
  CHECK(drop(x).to_vector() == x.to_vector());
  CHECK_THROWS_WITH(Dropout(1.0f, rng), Contains("Dropout: p must be in [0, 1), got 1"));
}

TEST_CASE("Dropout2d drops whole channels in training only", "[layers][dropout2d]") {
  Rng rng(18);
  Dropout2d drop(0.5f, rng);
  Tensor x = Tensor::full({4, 16, 3, 3}, 1);
  Tensor y = drop(x);
  int dropped = 0;
  for (int64_t nc = 0; nc < 4 * 16; nc++) {
    real first = y.data()[nc * 9];
    for (int i = 0; i < 9; i++) REQUIRE(y.data()[nc * 9 + i] == first);  // one decision per channel
    if (first == 0)
      dropped++;
    else
      CHECK(first == Approx(2));
  }
  CHECK(dropped > 16);
  CHECK(dropped < 48);
  drop.eval();
  CHECK(drop(x).to_vector() == x.to_vector());
  CHECK_THROWS_WITH(Dropout2d(-0.5f, rng), Contains("Dropout2d: p must be in [0, 1), got -0.5"));
}

TEST_CASE("pooling, flatten and activation layers", "[layers][pool]") {
  Rng rng(19);
  Tensor x = Tensor::normal({2, 3, 8, 6}, 0, 1, rng);
  CHECK(MaxPool2d({.kernel = 2})(x).shape() == Shape{2, 3, 4, 3});
  CHECK(MaxPool2d({.kernel = 3, .stride = 2, .padding = 1})(x).shape() == Shape{2, 3, 4, 3});
  CHECK(AvgPool2d({.kernel = 2})(x).shape() == Shape{2, 3, 4, 3});
  CHECK(GlobalAvgPool()(x).shape() == Shape{2, 3});
  CHECK(Flatten()(x).shape() == Shape{2, 144});
  CHECK(allclose(ReLU()(x), relu(x)));
  CHECK(allclose(Sigmoid()(x), sigmoid(x)));
  CHECK(MaxPool2d({.kernel = 3, .stride = 2, .padding = 1}).describe() == "kernel=3, stride=2, padding=1");
  CHECK(AvgPool2d({.kernel = 2, .stride = 2}).describe() == "kernel=2");
}

TEST_CASE("Sequential chains its children and names them by position", "[layers][sequential]") {
  Rng rng(20);
  Sequential net;
  auto fc1 = net.push_back(std::make_shared<Linear>(Linear::Options{.in = 4, .out = 8}, rng));
  net.push_back(std::make_shared<ReLU>());
  auto fc2 = net.push_back(std::make_shared<Linear>(Linear::Options{.in = 8, .out = 2}, rng));
  CHECK(names_of(net.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(net.size() == 3);
  CHECK(net[2].get() == fc2.get());
  CHECK_THROWS_AS(net[3], Error);

  Tensor x = Tensor::normal({5, 4}, 0, 1, rng);
  CHECK(allclose(net(x), (*fc2)(relu((*fc1)(x)))));
}

// ---- the residual block ----

TEST_CASE("BasicBlock shapes and shortcuts", "[layers][basic_block]") {
  Rng rng(21);
  BasicBlock same({.in = 4, .out = 4}, rng);
  CHECK_FALSE(same.shortcut);  // identity
  CHECK(same(Tensor::normal({2, 4, 6, 6}, 0, 1, rng)).shape() == Shape{2, 4, 6, 6});

  BasicBlock down({.in = 4, .out = 8, .stride = 2}, rng);
  REQUIRE(down.shortcut);  // option B: conv 1x1/2 + BN
  CHECK(down(Tensor::normal({2, 4, 6, 6}, 0, 1, rng)).shape() == Shape{2, 8, 3, 3});
  CHECK(names_of(down.named_parameters()) ==
        std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias",
                                 "shortcut.0.weight", "shortcut.1.weight", "shortcut.1.bias"});
  // 3*3*4*8 + 16 + 3*3*8*8 + 16 + 4*8 + 16
  CHECK(down.parameter_count() == 288 + 16 + 576 + 16 + 32 + 16);
}

TEST_CASE("BasicBlock applies its attention to the residual branch before the addition", "[layers][basic_block]") {
  Rng rng(22);
  int64_t seen_channels = 0;
  AttentionFactory gate = [&](int64_t channels, Rng&) -> std::shared_ptr<Module> {
    seen_channels = channels;
    return std::make_shared<Sigmoid>();  // stands in for SE / CBAM: same shape in and out
  };
  BasicBlock with({.in = 3, .out = 6, .stride = 2, .attention = gate}, rng);
  CHECK(seen_channels == 6);
  REQUIRE(with.attention);
  CHECK_THAT(with.print(), Contains("\n  attention: Sigmoid\n"));

  with.eval();
  Tensor x = Tensor::normal({2, 3, 4, 4}, 0, 1, rng);
  Tensor F = with.bn2->forward(with.conv2->forward(relu(with.bn1->forward(with.conv1->forward(x)))));
  Tensor expected = relu(sigmoid(F) + with.shortcut->forward(x));
  CHECK(allclose(with(x), expected));
}

// Central differences are wrong where a ReLU's input crosses 0 between x - eps and x + eps, and
// a shift of one BN parameter moves a whole channel at once. So every BN of the block gets a small
// gamma and a beta of +-3 by channel (bn1: +, -, +, ...; bn2: +, +, -, ...): each ReLU passes
// some channels and blocks others, all far from its kink. The running statistics are set away
// from 0 and 1 so that eval mode is not the identity.
static void keep_relus_off_their_kinks(BasicBlock& block, Rng& rng) {
  for (auto& [name, b] : block.named_buffers()) {
    bool is_var = name.ends_with("running_var");
    fill_uniform(b, is_var ? 0.5f : -0.5f, is_var ? 2.0f : 0.5f, rng);
  }
  std::vector<std::shared_ptr<BatchNorm2d>> bns = {block.bn1, block.bn2};
  for (size_t k = 0; k < bns.size(); k++) {
    fill_uniform(bns[k]->gamma, 0.2f, 0.4f, rng);
    for (int64_t c = 0; c < bns[k]->gamma.numel(); c++) bns[k]->beta.data()[c] = (c + k) % 2 == 0 ? 3.0f : -3.0f;
  }
  if (block.shortcut) fill_uniform(std::static_pointer_cast<BatchNorm2d>((*block.shortcut)[1])->gamma, 0.2f, 0.4f, rng);
}

TEST_CASE("BasicBlock grad", "[layers][basic_block][grad]") {
  Rng rng(23);
  SECTION("eval mode, projection shortcut") {
    BasicBlock block({.in = 2, .out = 3, .stride = 2}, rng);
    keep_relus_off_their_kinks(block, rng);
    block.eval();
    CHECK(module_gradcheck(block, Tensor::normal({2, 2, 5, 5}, 0, 1, rng), {.max_entries = 40}));
  }
  SECTION("training mode, identity shortcut") {
    BasicBlock block({.in = 3, .out = 3}, rng);
    keep_relus_off_their_kinks(block, rng);
    CHECK(module_gradcheck(block, Tensor::normal({3, 3, 4, 4}, 0, 1, rng), {.max_entries = 40}));
  }
}

// ---- observing a forward (Note [Observing a forward]) ----

namespace {
// Doubles its input and lets an Observer see the input, as an attention layer shows its map.
class Doubler : public Module {
 public:
  std::string type_name() const override { return "Doubler"; }
  Tensor forward(const Tensor& x) override {
    observe("seen", x);
    return x * 2.0f;
  }
};
}  // namespace

TEST_CASE("an Observer records what the layers of its tree observe, under their paths", "[layers][observer]") {
  Sequential outer({std::make_shared<Doubler>(),
                    std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{std::make_shared<Doubler>()})});
  Tensor x = Tensor::from_data({2}, {1, 3});
  outer(x);  // nobody watches: nothing is kept anywhere
  {
    Observer seen(outer);
    Tensor y = outer(x);
    REQUIRE(seen.values().size() == 2);
    CHECK(seen.values()[0].first == "0.seen");
    CHECK(seen.values()[1].first == "1.0.seen");
    CHECK(seen.get("1.0.seen").to_vector() == std::vector<real>{2, 6});
    CHECK(!seen.get("0.seen").requires_grad());
    CHECK(seen.ending_with(".seen").size() == 2);
    CHECK_THROWS_WITH(seen.get("2.seen"),
                      Catch::Contains("nothing observed at '2.seen'") && Catch::Contains("1.0.seen"));
    {
      Sequential other({std::make_shared<Doubler>()});
      Observer inner(other);  // a second Observer takes over while it lives
      outer(x);
      other(x);
      CHECK(inner.values().size() == 1);
      CHECK(inner.values()[0].first == "0.seen");
    }
    CHECK(seen.values().size() == 2);
    outer(x);  // the first one watches again
    CHECK(seen.values().size() == 4);
  }
}
