// Using what was trained: evaluate scores a trainer's checkpoint as the trainer scored it, predict
// classifies image files, and summarize lists a model's layers; with the pieces under them
// (read_checkpoint, resize_image, the confusion matrix, positional arguments of Flags).
//
// The programs run as a user runs them (the binaries built next to this test), on small cuts of
// the bundled sample and checkpoints of a few steps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "io/dataset.h"
#include "io/drawing.h"
#include "io/image.h"
#include "io/npz.h"
#include "models/zoo.h"
#include "optim/sgd.h"
#include "tests/optional_packages.h"
#include "tests/program_testing.h"
#include "train/classifier.h"
#include "train/evaluation.h"
#include "train/flags.h"
#include "train/summary.h"

using namespace glimpse;
using namespace glimpse::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// The text after `key` up to the next space or line end, in the last line that holds `key`.
std::string value_after(const std::string& output, const std::string& key) {
  size_t at = output.rfind(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return output.substr(at, output.find_first_of(" \n", at) - at);
}

// ---- a small JSON reader, enough to check predict's output ----

struct Json {
  enum class Type { null, boolean, number, string, array, object } type = Type::null;
  double number = 0;
  std::string text;
  std::vector<Json> items;        // array elements, or object values
  std::vector<std::string> keys;  // object keys, one per value

  const Json& at(const std::string& key) const {
    for (size_t i = 0; i < keys.size(); i++)
      if (keys[i] == key) return items[i];
    FAIL("no key '" << key << "'");
    return *this;
  }
  bool has(const std::string& key) const { return std::find(keys.begin(), keys.end(), key) != keys.end(); }
};

struct JsonReader {
  const std::string& s;
  size_t at = 0;

  void space() {
    while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) at++;
  }
  void expect(char c) {
    space();
    if (at >= s.size() || s[at] != c)
      throw std::runtime_error(std::string("JSON: expected '") + c + "' at " + std::to_string(at));
    at++;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (at < s.size() && s[at] != '"') {
      if (s[at] == '\\') {
        at++;
        if (s[at] == 'u') {
          out += static_cast<char>(std::stoi(s.substr(at + 1, 4), nullptr, 16));
          at += 5;
          continue;
        }
      }
      out += s[at++];
    }
    expect('"');
    return out;
  }
  Json value() {
    space();
    Json v;
    if (at >= s.size()) throw std::runtime_error("JSON: ends early");
    if (s[at] == '{') {
      v.type = Json::Type::object;
      at++;
      space();
      if (s[at] == '}') return at++, v;
      do {
        v.keys.push_back(string());
        expect(':');
        v.items.push_back(value());
        space();
      } while (s[at] == ',' && ++at);
      expect('}');
    } else if (s[at] == '[') {
      v.type = Json::Type::array;
      at++;
      space();
      if (s[at] == ']') return at++, v;
      do {
        v.items.push_back(value());
        space();
      } while (s[at] == ',' && ++at);
      expect(']');
    } else if (s[at] == '"') {
      v.type = Json::Type::string;
      v.text = string();
    } else if (s.compare(at, 4, "null") == 0) {
      at += 4;
    } else if (s.compare(at, 4, "true") == 0 || s.compare(at, 5, "false") == 0) {
      v.type = Json::Type::boolean;
      v.number = s[at] == 't';
      at += s[at] == 't' ? 4 : 5;
    } else {
      size_t used = 0;
      v.type = Json::Type::number;
      v.number = std::stod(s.substr(at), &used);
      at += used;
    }
    return v;
  }
};

Json parse_json(const std::string& text) {
  JsonReader reader{text};
  Json v = reader.value();
  reader.space();
  if (reader.at != text.size()) throw std::runtime_error("JSON: text after the value");
  return v;
}

// A checkpoint as train_mnist or train_cifar writes one, of an untrained model (seed 5).
void write_untrained_checkpoint(const std::string& model_name, const std::string& path) {
  Rng rng(5);
  std::shared_ptr<Module> model = create_model(model_name, rng);
  SGD sgd(model->parameters(), {.lr = 0.1f, .momentum = 0.9f});
  save_checkpoint(path, classifier_checkpoint_tensors(*model, sgd),
                  {{"model", model_name},
                   {"seed", "5"},
                   {"batch", "8"},
                   {"ema", "0"},
                   {"epoch", "0"},
                   {"batch_in_epoch", "0"},
                   {"step", "0"}});
}

}  // namespace

// The trainer's final line and its last epoch's test loss against evaluate's figures on the same
// data: equal to the digit, for a model of each trainer (and the averaged weights of --ema).
TEST_CASE("evaluate scores a checkpoint as its trainer scored it", "[cli]") {
  struct Case {
    std::string trainer, flags, data;
  };
  const std::vector<Case> cases = {
      {"train_mnist", "--batch 8 --max-steps 12", tiny_mnist_dir()},
      {"train_stn", "--dataset rts --batch 8 --max-steps 12", tiny_mnist_dir()},
      {"train_stn", "--dataset mnist --no-transformer --batch 8 --max-steps 6 --ema 0.9", tiny_mnist_dir()},
      {"train_stn", "--model stn_paper --redraw --batch 8 --max-steps 4", tiny_mnist_dir()},
      {"train_ram", "--dataset translated --batch 8 --max-steps 12", tiny_mnist_dir()},
      {"train_cifar", "--model resnet20 --batch 8 --max-steps 6 --ema 0.9", tiny_cifar_dir()},
  };
  for (const Case& c : cases) {
    INFO(c.trainer << " " << c.flags);
    TempDir dir;
    const std::string checkpoint = dir / "run.ckpt";
    Outcome trained =
        run(c.trainer, "--data " + c.data + " --threads 2 --seed 3 --quiet " + c.flags + " --save " + checkpoint);
    INFO(trained.output);
    REQUIRE(trained.status == 0);
    Outcome scored = run("evaluate", "--checkpoint " + checkpoint + " --data " + c.data + " --threads 2");
    INFO(scored.output);
    REQUIRE(scored.status == 0);
    const std::string accuracy = value_after(trained.output, "final test_acc="),
                      loss = value_after(trained.output, "test loss ");
    REQUIRE(!accuracy.empty());
    REQUIRE(!loss.empty());
    CHECK(value_after(scored.output, "test_acc=") == accuracy);
    CHECK(value_after(scored.output, "test_loss=") == loss);
    if (c.flags.find("--ema") != std::string::npos) {  // and the trained weights, which the epoch line gives too
      CHECK_THAT(scored.output, Contains("its averaged weights"));
      Outcome trained_weights =
          run("evaluate", "--checkpoint " + checkpoint + " --data " + c.data + " --threads 2 --trained-weights");
      INFO(trained_weights.output);
      CHECK(value_after(trained.output, "trained weights ") == value_after(trained_weights.output, "accuracy ") + ")");
    }
    CHECK_THAT(scored.output, !Contains("note: the checkpoint does not record"));  // the trainers record it all
  }
}

TEST_CASE("evaluate scores train_dasnet's checkpoint with its gates, as train_dasnet did", "[cli]") {
  TempDir dir;
  write_untrained_checkpoint("resnet20", dir / "base.ckpt");
  Outcome trained = run("train_dasnet", "--data " + tiny_cifar_dir() + " --base " + dir / "base.ckpt" +
                                            " --batch 4 --population 2 --passes 2 --generations 2 --max-steps 2 "
                                            "--threads 2 --seed 3 --quiet --save " +
                                            dir / "das.ckpt");
  INFO(trained.output);
  REQUIRE(trained.status == 0);
  Outcome scored = run("evaluate", "--checkpoint " + dir / "das.ckpt" + " --data " + tiny_cifar_dir());
  INFO(scored.output);
  REQUIRE(scored.status == 0);
  REQUIRE(!value_after(trained.output, "test loss ").empty());
  CHECK(value_after(scored.output, "test_acc=") == value_after(trained.output, "final test_acc="));
  CHECK(value_after(scored.output, "test_loss=") == value_after(trained.output, "test loss "));
}

TEST_CASE("evaluate prints per-class accuracy and the confusion matrix, and draws them", "[cli]") {
  TempDir dir;
  write_untrained_checkpoint("mnist_cnn", dir / "mnist.ckpt");
  Outcome scored = run("evaluate", "--checkpoint " + dir / "mnist.ckpt" + " --data " + tiny_mnist_dir() +
                                       " --confusion " + dir / "confusion.png");
  INFO(scored.output);
  REQUIRE(scored.status == 0);
  CHECK_THAT(scored.output, Contains("mnist_cnn after 0 steps (seed 5), its trained weights"));
  CHECK_THAT(scored.output, Contains("per class:") && Contains("confusion matrix") && Contains("<- predicted"));
  CHECK_THAT(scored.output, Contains("images=100"));
  Image png = decode_image(read_binary_file(dir / "confusion.png", "test"), 3, "confusion.png");
  // a tile of 24 pixels per cell in 2-pixel borders; over them a title, "predicted" and the class
  // names, under them the colour scale; left of them "true class" and the class names
  CHECK(png.height > 2 + 10 * (24 + 2) + text_height("confusion matrix", 2) + 3 * text_height("predicted", 1));
  CHECK(png.width > 2 + 10 * (24 + 2) + text_height("true class", 1) + text_width("9", 1));

  // the per-class rows add up to the test set, and their correct ones to the accuracy
  ConfusionMatrix m(3);
  m.add(0, 0), m.add(0, 1), m.add(1, 1), m.add(2, 1), m.add(2, 2), m.add(2, 2);
  CHECK(m.total() == 6);
  CHECK(m.correct() == 4);
  CHECK(m.accuracy() == Approx(4.0 / 6));
  CHECK(m.class_accuracy(2) == Approx(2.0 / 3));
  CHECK(m.count(2, 1) == 1);
  CHECK_THAT(m.matrix_text({"a", "b", "c"}), Contains("\n  2 c   0   1   2\n"));
  CHECK_THROWS_WITH(m.add(3, 0), Contains("outside the 3 classes"));
}

TEST_CASE("evaluate says what it needs and what is wrong", "[cli]") {
  TempDir dir;
  Outcome nothing = run("evaluate", "");
  CHECK(nothing.status == 2);
  CHECK_THAT(nothing.output, Contains("give --checkpoint FILE to score, or --summary MODEL"));
  Outcome missing = run("evaluate", "--checkpoint " + dir / "none.ckpt");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.output, Contains("none.ckpt"));

  // a checkpoint whose tensors do not fit the model its name says, named with the tensor
  Rng rng(1);
  std::shared_ptr<Module> wide = create_model("attention56", rng, {.width = 4});
  SGD sgd(wide->parameters(), {.lr = 0.1f});
  save_checkpoint(dir / "a56.ckpt", classifier_checkpoint_tensors(*wide, sgd),
                  {{"model", "attention56"}, {"seed", "1"}});
  Outcome other_width = run("evaluate", "--checkpoint " + dir / "a56.ckpt" + " --data " + tiny_cifar_dir());
  CHECK(other_width.status == 1);
  CHECK_THAT(other_width.output,
             Contains("has shape") && Contains("does not record attention56's width") && Contains("--width 16"));
  Outcome right_width =
      run("evaluate", "--checkpoint " + dir / "a56.ckpt" + " --data " + tiny_cifar_dir() + " --width 4");
  INFO(right_width.output);
  CHECK(right_width.status == 0);
  CHECK_THAT(right_width.output, Contains("note: the checkpoint does not record attention56's width"));
}

// --against: a second checkpoint on the same test images. Its accuracy is the one evaluate gives it
// alone, the points between the two are the difference of their accuracies, and a checkpoint
// against itself differs on no image. Checkpoints tested on other images are refused, by name.
TEST_CASE("evaluate --against compares two checkpoints on the same test images by McNemar's test", "[cli]") {
  TempDir dir;
  write_untrained_checkpoint("mnist_cnn", dir / "untrained.ckpt");
  const std::string short_run = " --batch 8 --threads 2 --quiet --save ";
  Outcome trained =
      run("train_mnist", "--data " + tiny_mnist_dir() + " --max-steps 12" + short_run + dir / "trained.ckpt");
  REQUIRE(trained.status == 0);
  auto evaluate = [&](const std::string& flags) {
    return run("evaluate", "--data " + tiny_mnist_dir() + " --threads 2 " + flags);
  };
  Outcome itself = evaluate("--checkpoint " + dir / "trained.ckpt" + " --against " + dir / "trained.ckpt");
  INFO(itself.output);
  REQUIRE(itself.status == 0);
  CHECK_THAT(itself.output, Contains("+0.00 points on 100 images: 0 right only") &&
                                Contains("McNemar's exact p = 1, not a real difference at the 5% level"));

  Outcome alone = evaluate("--checkpoint " + dir / "untrained.ckpt");
  Outcome paired = evaluate("--checkpoint " + dir / "trained.ckpt" + " --against " + dir / "untrained.ckpt");
  INFO(paired.output);
  REQUIRE(paired.status == 0);
  const double first = 100 * std::stod(value_after(paired.output, "test_acc=")),
               second = std::stod(value_after(paired.output, "its trained weights: accuracy "));
  CHECK(first > second);  // twelve steps of training against none: the sign of the points below is checked
  CHECK(second == Approx(100 * std::stod(value_after(alone.output, "test_acc="))).margin(0.005));
  const size_t points = paired.output.rfind(" points on ");  // the comparison line: "+0.70 points on ..."
  REQUIRE(points != std::string::npos);
  const size_t line = paired.output.rfind('\n', points) + 1;
  CHECK(std::stod(paired.output.substr(line, points - line)) == Approx(first - second).margin(0.005));

  write_untrained_checkpoint("resnet20", dir / "cifar.ckpt");
  Outcome other_data = evaluate("--checkpoint " + dir / "trained.ckpt" + " --against " + dir / "cifar.ckpt");
  CHECK(other_data.status == 1);
  CHECK_THAT(other_data.output, Contains("resnet20 is tested on cifar10, mnist_cnn on mnist; a paired test needs the "
                                         "same test images"));
  Outcome stn =
      run("train_stn", "--data " + tiny_mnist_dir() + " --dataset rts --max-steps 1" + short_run + dir / "stn.ckpt");
  REQUIRE(stn.status == 0);
  Outcome other_images = evaluate("--checkpoint " + dir / "trained.ckpt" + " --against " + dir / "stn.ckpt");
  CHECK(other_images.status == 1);
  CHECK_THAT(other_images.output, Contains("on other images than") && !Contains("test_acc="));  // before any scoring
  Outcome summary = evaluate("--summary mnist_cnn --against " + dir / "trained.ckpt");
  CHECK(summary.status == 2);
  CHECK_THAT(summary.output, Contains("give the first as --checkpoint"));
}

TEST_CASE("evaluate --visualize draws STN's transformed digits, RAM's glimpses and CIFAR-10 models' attention",
          "[cli]") {
  TempDir dir;
  for (const std::string trainer : {"train_stn", "train_ram"}) {
    INFO(trainer);
    Outcome trained =
        run(trainer, "--data " + tiny_mnist_dir() + " --batch 8 --max-steps 2 --threads 2 --quiet --save " +
                         dir / (trainer + ".ckpt"));
    REQUIRE(trained.status == 0);
    const std::string picture = dir / (trainer + ".png");
    Outcome scored = run("evaluate", "--checkpoint " + dir / (trainer + ".ckpt") + " --data " + tiny_mnist_dir() +
                                         " --visualize " + picture);
    INFO(scored.output);
    CHECK(scored.status == 0);
    CHECK(fs::file_size(picture) > 0);
  }
  write_untrained_checkpoint("cbam_resnet20", dir / "cbam.ckpt");
  Outcome attention = run("evaluate", "--checkpoint " + dir / "cbam.ckpt" + " --data " + tiny_cifar_dir() +
                                          " --visualize " + dir / "cbam.png");
  INFO(attention.output);
  CHECK(attention.status == 0);
  CHECK_THAT(attention.output, Contains("each followed by 3 attention maps"));
  CHECK(fs::file_size(dir / "cbam.png") > 0);

  write_untrained_checkpoint("resnet20", dir / "resnet20.ckpt");
  Outcome nothing_to_draw = run("evaluate", "--checkpoint " + dir / "resnet20.ckpt" + " --data " + tiny_cifar_dir() +
                                                " --visualize " + dir / "resnet20.png");
  CHECK(nothing_to_draw.status == 2);
  CHECK_THAT(nothing_to_draw.output, Contains("resnet20 has none of them"));
  CHECK(!fs::exists(dir / "resnet20.png"));
}

// predict reads PNGs written here: one digit at the model's size, one twice as large (resized, and
// said so), and for CIFAR-10 a colour one.
TEST_CASE("predict classifies image files: a line per file, or JSON", "[cli]") {
  TempDir dir;
  write_untrained_checkpoint("mnist_cnn", dir / "mnist.ckpt");
  ImageDataset digits = load_mnist_dir(tiny_mnist_dir(), false);
  Image digit{.height = 28, .width = 28, .channels = 1, .pixels = {digits.image(0), digits.image(0) + 28 * 28}};
  write_png(digit, dir / "digit.png");
  write_png(resize_image(digit, 56, 56), dir / "large digit.png");

  Outcome lines = run("predict", "--checkpoint " + dir / "mnist.ckpt" + " --top 2 " + dir / "digit.png", true);
  INFO(lines.output);
  REQUIRE(lines.status == 0);
  CHECK(std::count(lines.output.begin(), lines.output.end(), '\n') == 1);
  CHECK_THAT(lines.output, Contains("digit.png: ") && Contains(", "));

  Outcome json = run("predict",
                     "--checkpoint " + dir / "mnist.ckpt" + " --top 10 --json " + dir / "digit.png" + " '" +
                         dir / "large digit.png" + "'",
                     true);
  INFO(json.output);
  REQUIRE(json.status == 0);
  Json doc = parse_json(json.output);
  CHECK(doc.at("model").text == "mnist_cnn");
  CHECK(doc.at("weights").text == "trained");
  CHECK(doc.at("checkpoint").text == dir / "mnist.ckpt");
  const Json& predictions = doc.at("predictions");
  REQUIRE(predictions.items.size() == 2);
  for (const Json& p : predictions.items) {
    CHECK(p.has("file"));
    const Json& top = p.at("top");
    REQUIRE(top.items.size() == 10);
    double sum = 0, previous = 1;
    for (const Json& guess : top.items) {
      CHECK(guess.at("class").text == std::to_string(static_cast<int>(guess.at("index").number)));
      CHECK(guess.at("probability").number <= previous);  // most probable first
      previous = guess.at("probability").number;
      sum += previous;
    }
    CHECK(sum == Approx(1).margin(1e-4));
  }
  CHECK(predictions.items[0].at("resized_from").type == Json::Type::null);
  CHECK(predictions.items[1].at("resized_from").items.size() == 2);
  CHECK(predictions.items[1].at("resized_from").items[0].number == 56);
  Outcome said = run("predict", "--checkpoint " + dir / "mnist.ckpt" + " '" + dir / "large digit.png'");
  CHECK_THAT(said.output, Contains("is 56x56: resized to 28x28 for mnist_cnn"));

  // a colour image for a CIFAR-10 model: CIFAR-10's class names
  write_untrained_checkpoint("resnet20", dir / "r20.ckpt");
  Image colour{.height = 40, .width = 30, .channels = 3, .pixels = std::vector<uint8_t>(40 * 30 * 3, 90)};
  write_png(colour, dir / "colour.png");
  Outcome cifar = run("predict", "--checkpoint " + dir / "r20.ckpt" + " --json --top 10 " + dir / "colour.png", true);
  INFO(cifar.output);
  REQUIRE(cifar.status == 0);
  Json names = parse_json(cifar.output).at("predictions").items.at(0).at("top");
  std::vector<std::string> seen;
  for (const Json& guess : names.items) seen.push_back(guess.at("class").text);
  std::sort(seen.begin(), seen.end());
  std::vector<std::string> expected = cifar10_class_names();
  std::sort(expected.begin(), expected.end());
  CHECK(seen == expected);

  Outcome no_files = run("predict", "--checkpoint " + dir / "r20.ckpt");
  CHECK(no_files.status == 2);
  Outcome not_an_image = run("predict", "--checkpoint " + dir / "r20.ckpt " + dir / "r20.ckpt");
  CHECK(not_an_image.status == 1);
}

// The totals against the models' own counts and against the arithmetic of their layers.
// Found by a hostile run: export_onnx, convert_weights and evaluate wrote over the checkpoint they
// read when told to, plot_metrics over its CSV, and a report sent to a full disk ended with status
// 0. The outputs are checked against the inputs before anything is read, and a failed write to
// standard output is status 1 with a message.
TEST_CASE("the programs refuse to write over what they read, and say when their output was lost", "[cli]") {
  TempDir dir;
  const std::string checkpoint = dir / "mnist.ckpt", spelled = (dir.path / "." / "mnist.ckpt").string();
  write_untrained_checkpoint("mnist_cnn", checkpoint);
  const std::string saved = file_bytes(checkpoint);
  struct Refusal {
    std::string program, arguments, message;
  };
  const std::vector<Refusal> refusals = {
      {"export_onnx", "--checkpoint " + checkpoint + " " + spelled, "the same file as --checkpoint"},
      {"convert_weights", checkpoint + " " + spelled, "the same file as IN"},
      {"evaluate", "--checkpoint " + checkpoint + " --confusion " + spelled, "the same file as --checkpoint"},
      {"evaluate", "--checkpoint " + checkpoint + " --confusion " + dir / "a.png" + " --visualize " + dir / "a.png",
       "the same file as --confusion"},
  };
  for (const Refusal& r : refusals) {
    Outcome outcome = run(r.program, r.arguments);
    INFO(r.program << " " << r.arguments << "\n" << outcome.output);
    CHECK(outcome.status == 2);
    CHECK_THAT(outcome.output, Contains(r.message));
  }
  CHECK(file_bytes(checkpoint) == saved);
  const std::string csv = dir / "run.csv";
  {
    std::ofstream(csv)
        << "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s\n1,1,0.1,1,0.5,1,0.5,1,1\n";
  }
  const std::string log = file_bytes(csv);
  for (const std::string& arguments : {csv + " " + csv, "--compare " + csv + " " + dir / "other.csv" + " " + csv}) {
    Outcome plot = run("plot_metrics", arguments);
    CHECK(plot.status == 2);
    CHECK_THAT(plot.output, Contains("which it draws"));
  }
  CHECK(file_bytes(csv) == log);
  // a full disk under standard output (a redirection, not a path the program writes)
  ImageDataset digits = load_mnist_dir(tiny_mnist_dir(), false);
  write_png(Image{.height = 28, .width = 28, .channels = 1, .pixels = {digits.image(0), digits.image(0) + 28 * 28}},
            dir / "digit.png");
  Outcome full = run_command(kBinaryDir + "/predict --checkpoint " + checkpoint + " --json " + dir / "digit.png" +
                             " 2>&1 >/dev/full");
  CHECK(full.status == 1);
  CHECK_THAT(full.output, Contains("predict: writing the output failed: No space left on device"));
}

TEST_CASE("summarize lists the layers with their shapes, parameters and multiply-accumulates", "[cli]") {
  Rng rng(1);
  std::shared_ptr<Module> mnist_cnn = create_model("mnist_cnn", rng), resnet20 = create_model("resnet20", rng);
  CHECK(mnist_cnn->parameter_count() == 1663370);
  CHECK(resnet20->parameter_count() == 272474);
  SummaryTotals mnist = summary_totals(*mnist_cnn, {1, 1, 28, 28});
  CHECK(mnist.parameters == 1663370);
  // conv1 5x5 1->32 on 28x28, conv2 5x5 32->64 on 14x14, fc1 3136->512, fc2 512->10
  CHECK(mnist.layer_macs == 28 * 28 * 32 * 25 + 14 * 14 * 64 * 32 * 25 + 3136 * 512 + 512 * 10);
  CHECK(mnist.output == Shape{1, 10});
  const std::string text = summarize(*mnist_cnn, {1, 1, 28, 28});
  CHECK_THAT(text, Contains("total: 1,663,370 parameters"));
  CHECK_THAT(text, Contains("conv1    Conv2d     (1, 32, 28, 28)           832          627,200"));
  CHECK_THAT(text, Contains("pool     MaxPool2d  -"));

  SummaryTotals r20 = summary_totals(*resnet20, {2, 3, 32, 32});
  CHECK(r20.parameters == 272474);
  CHECK(r20.output == Shape{2, 10});
  CHECK(r20.layer_macs == 2 * summary_totals(*resnet20, {1, 3, 32, 32}).layer_macs);  // a batch of 2: twice
  Outcome program = run("evaluate", "--summary resnet20");
  INFO(program.output);
  CHECK(program.status == 0);
  CHECK_THAT(program.output, Contains("total: 272,474 parameters"));
  CHECK_THAT(program.output, Contains("layer3") && Contains("(1, 64, 8, 8)"));
  // a trainer's model by the name its checkpoints give it
  Outcome stn = run("evaluate", "--summary stn_mnist_rts");
  CHECK_THAT(stn.output, Contains("on an input (1, 1, 42, 42)") && Contains("total: 73,160 parameters"));
  // dasNet runs its passes without a graph (SNES trains it); the trace counts what its output
  // depends on: five passes of resnet20's convolutions, its policy o theta^T (784 by 784) before
  // each of the last four, and the classifier (64 -> 10) of the last pass alone
  LoadedModel dasnet = build_model("dasnet", {}, {}, rng);
  SummaryTotals gated = summary_totals(*dasnet.model, {1, 3, 32, 32});
  const int64_t classifier = 64 * 10;
  CHECK(gated.output == Shape{1, 10});
  CHECK(gated.layer_macs ==
        5 * (summary_totals(*resnet20, {1, 3, 32, 32}).layer_macs - classifier) + classifier + 4 * 784 * 784);
  CHECK(gated.activation_macs == 0);
  Outcome unknown = run("evaluate", "--summary resnet21");
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.output, Contains("no model 'resnet21'") && Contains("resnet20"));
}

TEST_CASE("read_checkpoint gives every tensor of a checkpoint with its metadata", "[io]") {
  TempDir dir;
  Tensor a = Tensor::from_data({2, 3}, {1, 2, 3, 4, 5, 6}), b = Tensor::from_data({1}, {-7});
  save_checkpoint(dir / "two.ckpt", {{"model.a", a}, {"optim.b", b}}, {{"model", "m"}});
  CheckpointContents contents = read_checkpoint(dir / "two.ckpt");
  CHECK(contents.metadata.at("model") == "m");
  REQUIRE(contents.tensors.size() == 2);
  CHECK(contents.tensors[0].first == "model.a");
  CHECK(contents.tensors[0].second.shape() == Shape{2, 3});
  CHECK(contents.tensors[0].second.to_vector() == a.to_vector());
  CHECK(contents.tensors[1].second.to_vector() == b.to_vector());
}

TEST_CASE("resize_image keeps a flat image flat and gives the size asked", "[io]") {
  Image flat{.height = 3, .width = 5, .channels = 3, .pixels = std::vector<uint8_t>(3 * 5 * 3, 200)};
  for (auto [h, w] : {std::pair{7, 2}, std::pair{28, 28}, std::pair{1, 1}}) {
    Image out = resize_image(flat, h, w);
    CHECK(out.height == h);
    CHECK(out.width == w);
    CHECK(out.channels == 3);
    CHECK(std::all_of(out.pixels.begin(), out.pixels.end(), [](uint8_t p) { return p == 200; }));
  }
  CHECK_THROWS_WITH(resize_image(flat, 0, 4), Contains("sizes from 1"));
}

TEST_CASE("Flags takes positional arguments where a program declares them", "[cli]") {
  Flags flags("prog", "A test program.");
  std::vector<std::string>& files = flags.add_positional("FILE...", "files");
  int64_t& top = flags.add_int("top", 3, "how many");
  std::vector<std::string> words = {"prog", "a.png", "--top", "5", "b.png", "--", "--c.png"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  flags.parse(static_cast<int>(argv.size()), argv.data());
  CHECK(top == 5);
  CHECK(files == std::vector<std::string>{"a.png", "b.png", "--c.png"});
  CHECK_THAT(flags.help_text(), Contains("usage: prog [flags] FILE...") && Contains("FILE...  files"));
}

// ---- convert_weights: to NumPy's .npz under PyTorch's names, and back ----

TEST_CASE("convert_weights: a checkpoint to .npz and back scores the same, tensor for tensor", "[cli]") {
  TempDir dir;
  write_untrained_checkpoint("mnist_cnn", dir / "run.ckpt");
  Outcome exported = run("convert_weights", dir / "run.ckpt" + " " + dir / "w.npz");
  INFO(exported.output);
  REQUIRE(exported.status == 0);
  CHECK_THAT(exported.output, Contains("wrote " + dir / "w.npz"));
  Outcome imported = run("convert_weights", "--model mnist_cnn " + dir / "w.npz" + " " + dir / "back.ckpt");
  INFO(imported.output);
  REQUIRE(imported.status == 0);

  CheckpointContents before = read_checkpoint(dir / "run.ckpt"), after = read_checkpoint(dir / "back.ckpt");
  std::map<std::string, Tensor> saved(before.tensors.begin(), before.tensors.end());
  for (const auto& [name, t] : after.tensors) {
    INFO(name);
    REQUIRE(saved.count(name));
    CHECK(saved.at(name).to_vector() == t.to_vector());
  }
  const std::string data = " --data " + tiny_mnist_dir();
  CHECK(value_after(run("evaluate", "--checkpoint " + dir / "run.ckpt" + data).output, "test_loss=") ==
        value_after(run("evaluate", "--checkpoint " + dir / "back.ckpt" + data).output, "test_loss="));

  // the weights alone, to share: a smaller checkpoint that scores the same and refuses to resume
  REQUIRE(
      run("train_mnist", "--data " + tiny_mnist_dir() + " --batch 8 --max-steps 3 --quiet --save " + dir / "adam.ckpt")
          .status == 0);
  Outcome slim = run("convert_weights", dir / "adam.ckpt" + " " + dir / "slim.ckpt");
  INFO(slim.output);
  REQUIRE(slim.status == 0);
  CHECK(fs::file_size(dir / "slim.ckpt") * 3 < fs::file_size(dir / "adam.ckpt") + 1000);  // Adam keeps two moments
  CHECK(value_after(run("evaluate", "--checkpoint " + dir / "adam.ckpt" + data).output, "test_loss=") ==
        value_after(run("evaluate", "--checkpoint " + dir / "slim.ckpt" + data).output, "test_loss="));
  Outcome resumed =
      run("train_mnist", "--data " + tiny_mnist_dir() + " --batch 8 --max-steps 4 --resume " + dir / "slim.ckpt");
  CHECK(resumed.status == 1);
  CHECK_THAT(resumed.output, Contains("holds the model's weights alone (convert_weights)"));

  // what it refuses: by name
  auto check_refused_with = [](const std::string& program, const std::string& arguments, int status,
                               const std::string& message) {
    Outcome refused = run(program, arguments);
    INFO(refused.output);
    CHECK(refused.status == status);
    CHECK_THAT(refused.output, Contains(message));
  };
  check_refused_with("convert_weights", "--model resnet20 " + dir / "w.npz" + " " + dir / "x.ckpt", 1,
                     "array 'conv1.weight' has shape (32, 1, 5, 5), the model's is (16, 3, 3, 3)");
  check_refused_with("convert_weights", dir / "w.npz" + " " + dir / "x.npz", 2, "two .npz files");
  check_refused_with("convert_weights", dir / "w.npz" + " " + dir / "x.ckpt", 2, "needs --model");
}

// The names and the numbers agree with the PyTorch twins of bench/pytorch_reference.py: PyTorch
// loads the exported weights by name, computes the same logits, and its state_dict comes back
// into glimpse bit for bit.
TEST_CASE("convert_weights: PyTorch loads the weights by name and computes the same logits", "[cli][pytorch]") {
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) {
    SKIP_WITHOUT_PACKAGE("Debian's python3-torch is not installed: the round trip through PyTorch is not tested");
  }
  // every model's files first, then one Python process for the whole zoo (torch is imported once)
  TempDir dir;
  std::string command = "/usr/bin/python3 " + std::string(GLIMPSE_SOURCE_DIR) + "/tests/pytorch_round_trip.py";
  struct Case {
    std::string model;
    LoadedModel m;
    Tensor x;
  };
  std::vector<Case> cases;
  for (const std::string& model : model_names()) {  // the zoo: mnist_cnn, stn_mnist, the CIFAR-10 models
    INFO(model);
    const std::string prefix = dir / model;
    write_untrained_checkpoint(model, prefix + ".ckpt");
    REQUIRE(run("convert_weights", prefix + ".ckpt " + prefix + ".npz").status == 0);
    LoadedModel m = load_model(prefix + ".ckpt", {});
    Rng rng(9);
    Tensor x = Tensor::normal({2, m.channels, m.side, m.side}, 0, 1, rng);
    write_npz(prefix + "_x.npz", {{"x", x}});
    cases.push_back({model, std::move(m), x});
    command +=
        " " + model + " " + prefix + ".npz " + prefix + "_x.npz " + prefix + "_logits.npz " + prefix + "_back.npz";
  }
  command += " 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);

  for (const Case& c : cases) {
    const std::string& model = c.model;
    const LoadedModel& m = c.m;
    INFO(model);
    const std::string prefix = dir / model;
    Tensor ours;
    {
      NoGradGuard no_grad;
      ours = m.model->forward(c.x);
    }
    Tensor theirs = read_npz(prefix + "_logits.npz").at(0).second;
    REQUIRE(theirs.shape() == ours.shape());
    double largest = 0;
    for (int64_t i = 0; i < ours.numel(); i++)
      largest = std::max(largest, static_cast<double>(std::fabs(ours.data()[i] - theirs.data()[i])));
    CHECK(largest <= 1e-4);

    Outcome imported = run("convert_weights", "--model " + model + " " + prefix + "_back.npz " + prefix + "_back.ckpt");
    INFO(imported.output);
    REQUIRE(imported.status == 0);
    LoadedModel back = load_model(prefix + "_back.ckpt", {});
    const std::vector<NamedTensor> a = m.model->state(), b = back.model->state();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); i++) CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  }
}

// ---- the checkpoints that ship in pretrained/ ----

// Each shipped checkpoint, scored on the bundled sample, gives the figure pretrained/scores.tsv
// records for it: a change to the checkpoint format or to a model's forward that breaks them is
// caught here, not by a user.
TEST_CASE("the shipped checkpoints score on the bundled sample what pretrained/scores.tsv says", "[cli]") {
  const fs::path pretrained = fs::path(GLIMPSE_SOURCE_DIR) / "pretrained";
  std::ifstream scores(pretrained / "scores.tsv");
  REQUIRE(scores);
  int checked = 0;
  for (std::string line; std::getline(scores, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, data, sample_accuracy;
    REQUIRE(fields >> file >> data >> sample_accuracy);
    INFO(file);
    Outcome scored = run("evaluate", "--checkpoint " + (pretrained / file).string() + " --data " +
                                         (kSample / data).string() + " --threads 2");
    INFO(scored.output);
    REQUIRE(scored.status == 0);
    CHECK(value_after(scored.output, "test_acc=") == sample_accuracy);
    checked++;
  }
  CHECK(checked >= 4);
}
