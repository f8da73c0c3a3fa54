// parity_step: glimpse's half of the training parity check against PyTorch (resnet20 and the
// other CIFAR-10 models of the zoo).
//
// Run it through the driver, which builds the PyTorch side and compares:
//
//   cmake --build build --target parity_step
//   /usr/bin/python3 bench/parity.py [--glimpse build/parity_step] [--steps 3] [--batch 16]
//                                             [--cifar /path/to/cifar-10-batches-bin]
//
// The driver writes the starting state and a batch; this program does on them what train_cifar
// does per batch, and writes everything it saw. Three sub-commands, each a part of the recipe:
//
//   parity_step step IN OUT
//     IN (a checkpoint file, io/checkpoint.h) holds the model's parameters and buffers under
//     PyTorch's names ("layer2.0.shortcut.1.running_var"), "input.images" (N, 3, 32, 32),
//     "input.labels" (N, as floats) and metadata model (a name of the zoo; resnet20 if absent),
//     steps, lr, momentum, weight_decay. K training
//     steps on that one batch, as train_classifier takes them (train mode, forward, mean
//     cross-entropy, zero_grad, backward, clip_grad_norm with no limit, SGD step), then the
//     logits in eval mode. OUT holds, for step s = 0 .. K-1: "s.loss", "s.logits", "s.grad.<p>"
//     for every parameter p, and after the update "s.param.<p>", "s.buffer.<b>", "s.momentum.<p>"
//     (SGD's momentum buffer); and "eval.logits".
//
//   parity_step schedule EPOCHS BATCH TRAIN_SIZE WARMUP_EPOCHS LR
//     Prints "step lr" for every step of that run, with train_cifar's warm-up and cosine.
//
//   parity_step init OUT SEED
//     A fresh resnet20 from Rng(SEED), as train_cifar creates it: OUT holds its parameters and
//     buffers, for the driver to test against MODELS.md's initialisation.
//
//   parity_step data OUT CIFAR_DIR COUNT
//     The first COUNT training images of CIFAR_DIR (labels replaced by their index, so the driver
//     can find each image's source) through train_cifar's training loader (crop 4, flip,
//     CIFAR-10 mean/std) for one epoch and through its test loader. OUT holds "raw" (COUNT, 3, 32,
//     32) bytes as floats, "train.images", "train.index", "test.images", "test.index", and the
//     loader's "mean" and "stddev".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/parallel.h"
#include "engine/random.h"
#include "io/checkpoint.h"
#include "io/data_loader.h"
#include "io/dataset.h"
#include "models/zoo.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

using namespace glimpse;

namespace {

const char* const usage_text =
    "usage: parity_step step IN OUT\n"
    "       parity_step schedule EPOCHS BATCH TRAIN_SIZE WARMUP_EPOCHS LR\n"
    "       parity_step init OUT SEED\n"
    "       parity_step data OUT CIFAR_DIR COUNT\n"
    "The glimpse side of bench/parity.py, which runs it and says what each sub-command exchanges.\n";

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr, "parity_step: %s\n%s", problem.c_str(), usage_text);
  std::exit(2);
}

// The metadata value `key` of the driver's file, as a number.
double number(const Metadata& meta, const std::string& key) {
  auto it = meta.find(key);
  if (it == meta.end()) fail("parity_step: the input file has no '" + key + "' entry");
  return std::stod(it->second);
}

// The dimensions of an entry of the input file, read from its header: load_checkpoint needs
// tensors of the right shape to fill.
Shape entry_shape(const std::string& path, const std::string& wanted) {
  std::vector<uint8_t> bytes = read_binary_file(path, "parity_step");
  size_t at = 8 + 4 + 8;
  auto u32 = [&] {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= static_cast<uint32_t>(bytes.at(at++)) << (8 * i);
    return v;
  };
  auto i64 = [&] {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= static_cast<uint64_t>(bytes.at(at++)) << (8 * i);
    return static_cast<int64_t>(v);
  };
  auto text = [&] {
    uint32_t n = u32();
    std::string s(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
    return s;
  };
  for (uint32_t m = u32(); m > 0; m--) {
    text();
    text();
  }
  for (uint32_t t = u32(); t > 0; t--) {
    std::string name = text();
    Shape shape(u32());
    int64_t numel = 1;
    for (int64_t& d : shape) numel *= (d = i64());
    if (name == wanted) return shape;
    at += static_cast<size_t>(numel) * 4;
  }
  fail("parity_step: '" + path + "' has no tensor '" + wanted + "'");
}

int run_step(const std::string& in_path, const std::string& out_path) {
  Rng rng(0);  // any seed: every parameter and buffer is overwritten from the file
  const Metadata header = read_checkpoint_metadata(in_path);
  const std::string model_name = header.count("model") ? header.at("model") : "resnet20";
  std::shared_ptr<Module> model = create_model(model_name, rng);
  Tensor images = Tensor::empty(entry_shape(in_path, "input.images"));
  Tensor label_values = Tensor::empty(entry_shape(in_path, "input.labels"));
  std::vector<NamedTensor> wanted = model->state();
  wanted.push_back({"input.images", images});
  wanted.push_back({"input.labels", label_values});
  Metadata meta = load_checkpoint(in_path, wanted);

  std::vector<int64_t> labels;
  for (real v : label_values.to_vector()) labels.push_back(static_cast<int64_t>(v));
  const int steps = static_cast<int>(number(meta, "steps"));
  SGD optimizer(model->parameters(), {.lr = static_cast<real>(number(meta, "lr")),
                                      .momentum = static_cast<real>(number(meta, "momentum")),
                                      .weight_decay = static_cast<real>(number(meta, "weight_decay"))});
  const std::vector<NamedTensor> params = model->named_parameters();
  const std::vector<NamedTensor> buffers = model->named_buffers();

  std::vector<NamedTensor> out;
  model->train();
  for (int s = 0; s < steps; s++) {  // the body of train_classifier's loop
    const std::string at = std::to_string(s) + ".";
    Tensor logits = model->forward(images);
    Tensor loss = cross_entropy(logits, labels);
    optimizer.zero_grad();
    backward(loss);
    clip_grad_norm(optimizer.params, std::numeric_limits<real>::infinity());
    out.push_back({at + "loss", loss.detach().clone()});
    out.push_back({at + "logits", logits.detach().clone()});
    for (const auto& [name, p] : params) out.push_back({at + "grad." + name, p.grad().clone()});
    optimizer.step();
    for (const auto& [name, p] : params) out.push_back({at + "param." + name, p.detach().clone()});
    for (const auto& [name, b] : buffers) out.push_back({at + "buffer." + name, b.clone()});
    for (const auto& [key, t] : optimizer.state())  // "momentum.<i>": the i-th parameter's buffer
      if (key.starts_with("momentum."))
        out.push_back({at + "momentum." + params[std::stoul(key.substr(9))].first, t.clone()});
  }
  {
    NoGradGuard no_grad;
    model->eval();
    out.push_back({"eval.logits", model->forward(images).clone()});
  }
  save_checkpoint(out_path, out, {{"model", model_name}});
  std::printf("parity_step: %d steps on %lld images, wrote %zu tensors to %s\n", steps,
              static_cast<long long>(images.size(0)), out.size(), out_path.c_str());
  return 0;
}

int run_init(const std::string& out_path, uint64_t seed) {
  Rng rng(seed);
  std::shared_ptr<Module> model = create_model("resnet20", rng);
  save_checkpoint(out_path, model->state(), {{"model", "resnet20"}});
  return 0;
}

// The same warm-up and cosine that examples/train_cifar.cpp builds.
int run_schedule(int64_t epochs, int64_t batch, int64_t train_size, double warmup_epochs, double lr) {
  int64_t steps_per_epoch = (train_size + batch - 1) / batch;  // the loader keeps the last, partial batch
  int64_t total_steps = epochs * steps_per_epoch;
  int64_t warmup_steps =
      std::min(total_steps / 2, static_cast<int64_t>(warmup_epochs * static_cast<double>(steps_per_epoch)));
  WarmupLr schedule(warmup_steps, std::make_shared<CosineLr>(static_cast<real>(lr), total_steps - warmup_steps));
  for (int64_t step = 0; step < total_steps; step++)
    std::printf("%lld %.9g\n", static_cast<long long>(step), static_cast<double>(schedule.lr_at(step)));
  return 0;
}

// One epoch of `loader`: the images, and the index of each image's source.
void take_epoch(DataLoader& loader, const std::string& prefix, std::vector<NamedTensor>& out) {
  std::vector<real> images, index;
  loader.start_epoch(0);
  Batch batch;
  while (loader.next(batch)) {
    std::vector<real> values = batch.images.to_vector();
    images.insert(images.end(), values.begin(), values.end());
    for (int64_t label : batch.labels) index.push_back(static_cast<real>(label));
  }
  const int64_t n = static_cast<int64_t>(index.size());
  const ImageDataset& data = loader.data();
  out.push_back({prefix + ".images", Tensor::from_data({n, data.channels, data.height, data.width}, images)});
  out.push_back({prefix + ".index", Tensor::from_data({n}, index)});
}

int run_data(const std::string& out_path, const std::string& cifar_dir, int64_t count) {
  ImageDataset data = subset(load_cifar10_dir(cifar_dir, true), 0, count);
  for (int64_t i = 0; i < data.size(); i++) data.labels[i] = i;  // the driver finds the source by it
  // train_cifar's two loaders (examples/train_cifar.cpp), with a small batch
  DataLoader train_loader(data, {.batch_size = 64,
                                 .shuffle = true,
                                 .seed = 1,
                                 .crop_padding = 4,
                                 .horizontal_flip = true,
                                 .mean = cifar10_mean,
                                 .stddev = cifar10_stddev});
  DataLoader test_loader(data, {.batch_size = 500, .shuffle = false, .mean = cifar10_mean, .stddev = cifar10_stddev});
  std::vector<NamedTensor> out;
  out.push_back({"raw", Tensor::from_data({data.size(), data.channels, data.height, data.width},
                                          std::vector<real>(data.pixels.begin(), data.pixels.end()))});
  take_epoch(train_loader, "train", out);
  take_epoch(test_loader, "test", out);
  out.push_back({"mean", Tensor::from_data({3}, cifar10_mean)});
  out.push_back({"stddev", Tensor::from_data({3}, cifar10_stddev)});
  save_checkpoint(out_path, out, {});
  std::printf("parity_step: %lld images through the train and test loaders, wrote %s\n",
              static_cast<long long>(data.size()), out_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("%s", usage_text);
    return 0;
  }
  try {
    set_num_threads(1);  // the comparison does not need speed; results do not depend on it
    if (args.size() == 3 && args[0] == "step") return run_step(args[1], args[2]);
    if (args.size() == 6 && args[0] == "schedule")
      return run_schedule(std::stoll(args[1]), std::stoll(args[2]), std::stoll(args[3]), std::stod(args[4]),
                          std::stod(args[5]));
    if (args.size() == 3 && args[0] == "init") return run_init(args[1], std::stoull(args[2]));
    if (args.size() == 4 && args[0] == "data") return run_data(args[1], args[2], std::stoll(args[3]));
    usage(args.empty() ? "no sub-command" : "bad arguments for '" + args[0] + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parity_step: %s\n", e.what());
    return 1;
  }
}
