// export_onnx (export/onnx.h): every exportable model, run in ONNX Runtime, computes the logits
// glimpse computes; what cannot export is refused by name.
//
// ONNX Runtime comes from npm (onnxruntime-node, its CPU runtime; scripts/setup.sh --onnxruntime
// installs node and it under tests/onnx/). Without it the comparison is skipped with a warning;
// the export itself, ONNX's checker and the refusals are tested either way.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "export/onnx.h"
#include "models/zoo.h"
#include "program_testing.h"
#include "tests/optional_packages.h"
#include "train/evaluation.h"

using namespace glimpse;
using namespace glimpse::testing;
using Catch::Matchers::Contains;

namespace {

const std::string kOnnxDir = std::string(GLIMPSE_SOURCE_DIR) + "/tests/onnx";

bool onnxruntime_installed() {
  const std::string probe = "node -e \"require('" + kOnnxDir + "/node_modules/onnxruntime-node')\" >/dev/null 2>&1";
  return std::system(probe.c_str()) == 0;
}

void write_floats(const std::string& path, const Tensor& t) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.numel() * sizeof(real)));
}

std::vector<real> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<real> values(static_cast<size_t>(in.tellg()) / sizeof(real));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(real)));
  return values;
}

// Running statistics away from (0, 1), so that batch norm's translation is really tested; and a
// dasNet policy that is not all zeros, so that its gates differ from pass to pass. (Its scale is
// small: with theta ~ N(0, 0.5^2) each of the five passes multiplies the rounding differences
// between two engines' sums by a large gain, and the logits part by ~0.4 in ONNX Runtime.)
void randomise_buffers(Module& model, Rng& rng) {
  for (auto& [name, t] : model.named_buffers()) {
    Tensor values = name.ends_with("running_var")    ? Tensor::uniform(t.shape(), 0.5f, 2, rng)
                    : name.ends_with("running_mean") ? Tensor::normal(t.shape(), 0, 0.5f, rng)
                                                     : Tensor::normal(t.shape(), 0, 0.01f, rng);  // dasNet's theta
    std::copy_n(values.data(), t.numel(), t.data());
  }
}

// The largest |glimpse - ONNX Runtime| over the logits of x, the model exported with x's shape.
double largest_difference_in_onnxruntime(Module& model, const Tensor& x, const TempDir& dir) {
  export_onnx(model, x.shape(), dir / "model.onnx");
  write_floats(dir / "x.f32", x);
  std::string shape;
  for (int64_t d : x.shape()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
  Outcome ran = run_command("node " + kOnnxDir + "/run_onnx.js " + dir / "model.onnx" + " " + dir / "x.f32" + " " +
                            shape + " " + dir / "logits.f32" + " 2>&1");
  INFO(ran.output);
  REQUIRE(ran.status == 0);
  Tensor ours;
  {
    NoGradGuard no_grad;
    ours = model.forward(x);
  }
  const std::vector<real> theirs = read_floats(dir / "logits.f32");
  REQUIRE(static_cast<int64_t>(theirs.size()) == ours.numel());
  double largest = 0;
  for (int64_t i = 0; i < ours.numel(); i++)
    largest = std::max(largest, static_cast<double>(std::fabs(ours.data()[i] - theirs[static_cast<size_t>(i)])));
  return largest;
}

}  // namespace

TEST_CASE("export_onnx: ONNX Runtime computes glimpse's logits for every model of the zoo, STN's and dasNet",
          "[onnx]") {
  if (!onnxruntime_installed()) {
    SKIP_WITHOUT_PACKAGE("onnxruntime-node is not installed (scripts/setup.sh --onnxruntime): the exports are not run");
  }
  std::vector<std::string> names = model_names();  // mnist_cnn, stn_mnist and the CIFAR-10 models
  names.insert(names.end(), {"stn_mnist_rts", "stn_paper_rts", "stn_paper_cnn_baseline_rts", "dasnet"});
  for (const std::string& name : names) {
    INFO(name);
    Rng rng(21);
    LoadedModel m = build_model(name, {}, {}, rng);
    randomise_buffers(*m.model, rng);
    m.model->eval();
    Tensor x = Tensor::normal({2, m.channels, m.side, m.side}, 0, 1, rng);
    TempDir dir;
    CHECK(largest_difference_in_onnxruntime(*m.model, x, dir) <= 1e-4);
  }
}

TEST_CASE("export_onnx: the file passes ONNX's checker, names the weights as glimpse does, and is written whole",
          "[onnx]") {
  Rng rng(3);
  LoadedModel m = build_model("resnet20", {}, {}, rng);
  TempDir dir;
  OnnxExport written = export_onnx(*m.model, {4, 3, 32, 32}, dir / "r20.onnx");
  CHECK(written.output_shape == Shape{4, 10});
  CHECK(written.initializers >= static_cast<int64_t>(m.model->state().size()));
  std::ifstream file(dir / "r20.onnx", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(bytes == onnx_model_bytes(*m.model, {4, 3, 32, 32}));  // the same model, the same bytes
  CHECK_THAT(bytes, Contains("layer1.0.conv1.weight") && Contains("bn1.running_var") && Contains("logits"));
}

TEST_CASE("export_onnx: what has no ONNX form is refused by name", "[onnx]") {
  Rng rng(4);
  TempDir dir;
  SECTION("RAM's glimpse sensor") {
    LoadedModel ram = build_model("ram_mnist", {}, {}, rng);
    CHECK_THROWS_WITH(export_onnx(*ram.model, {1, 1, 28, 28}, dir / "ram.onnx"),
                      Contains("op 'extract_glimpse' has no ONNX form"));
  }
  SECTION("a forward that computes from its input outside the engine's ops") {
    struct SumsByHand : Module {  // each image's sum, by a loop of its own: a trace cannot see it
      std::string type_name() const override { return "SumsByHand"; }
      Tensor forward(const Tensor& x) override {
        Tensor sums = Tensor::zeros({x.size(0), 1});
        for (int64_t i = 0; i < x.numel(); i++) sums.data()[i / (x.numel() / x.size(0))] += x.data()[i];
        return flatten(x) + sums;
      }
    } model;
    model.eval();
    CHECK_THROWS_WITH(
        export_onnx(model, {2, 1, 4, 4}, dir / "by_hand.onnx"),
        Contains("a tensor of shape (2, 1) depends on the input but was computed outside the engine's ops"));
  }
  SECTION("a model in training mode") {
    std::shared_ptr<Module> model = create_model("mnist_cnn", rng);
    model->train();
    CHECK_THROWS_WITH(export_onnx(*model, {1, 1, 28, 28}, dir / "cnn.onnx"), Contains("training mode"));
  }
  CHECK(!std::filesystem::exists(dir / "ram.onnx"));
  CHECK(!std::filesystem::exists(dir / "cnn.onnx"));
  CHECK(!std::filesystem::exists(dir / "by_hand.onnx"));
}

TEST_CASE("export_onnx (the program): a checkpoint to an ONNX file, and a clear refusal", "[onnx][cli]") {
  TempDir dir;
  const std::string pretrained = std::string(GLIMPSE_SOURCE_DIR) + "/pretrained/";
  Outcome written = run("export_onnx", "--checkpoint " + pretrained + "mnist_cnn.ckpt --batch 3 " + dir / "m.onnx");
  INFO(written.output);
  CHECK(written.status == 0);
  CHECK_THAT(written.output, Contains("input (3, 1, 28, 28), logits (3, 10)"));
  Outcome refused = run("export_onnx", "--checkpoint " + pretrained + "ram_mnist.ckpt " + dir / "r.onnx");
  CHECK(refused.status == 1);
  CHECK_THAT(refused.output, Contains("extract_glimpse"));
}
