// bench_step: the time of one full training step of a zoo model, on random input.
//
//   bench_step --model NAME [--batch B] [--steps N] [--warmup W] [--threads T] [--size S]
//
// One step is what a trainer does per batch: zero the gradients, forward, loss, backward, and an
// SGD update with momentum 0.9. The loss is cross-entropy for the image classifiers of the zoo
// and the hybrid loss of Mnih et al. for ram (6 glimpses; cross-entropy + REINFORCE + the
// baseline's squared error). dasnet is the exception: its CNN is frozen and its policy is trained
// by SNES, without gradients, so its step is the gated inference (5 passes, no graph) and the
// cross-entropy SNES ranks a candidate by. bench/README.md says what each step is, as
// bench/pytorch_reference.py times it. The input and the labels are random (fixed seed) and the
// same at every step; the first W steps are not timed (they fill the allocator's cache and the
// OS's pages). Prints ONE JSON line, with the same fields as
// bench/pytorch_reference.py so that bench/compare.sh can put the two side by side:
//
//   {"framework": "glimpse", "model": "resnet20", "batch": 128, "threads": 2, "ms_per_step": ..,
//    "ms_p10": .., "ms_p90": .., "images_per_s": .., "peak_rss_mb": .., "params": ..}
//
// ms_per_step is the median over the timed steps (wall time), ms_p10 / ms_p90 the 10th and 90th
// percentiles, peak_rss_mb the process's peak resident memory (getrusage ru_maxrss). One more
// field, cpu_ms_per_step, is the mean CPU time (user + system, all threads) of a timed step, and
// one more, peak_tensor_mb, the most the tensors' storages held at once (storage_peak_bytes(): what
// the graph and the step keep alive, without the storage cache, the allocator or the code). For
// the classifiers, inference_ms is the median time of a forward of the same batch in evaluation
// mode without a graph, timed after the training steps (null for ram and dasnet). fma_peak_gflops
// is the cores' multiply-add peak at the same thread count, measured (bench/fma_peak.h), and
// floor_ms the time a classifier's step would take at that peak: its forward's multiply-adds
// (train/summary.h), 2 flops each, times 3 for the forward and a backward of twice its work.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench/fma_peak.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/parallel.h"
#include "engine/random.h"
#include "models/dasnet.h"
#include "models/ram.h"
#include "models/resnet20.h"
#include "models/zoo.h"
#include "optim/sgd.h"
#include "train/flags.h"
#include "train/summary.h"

using namespace glimpse;

namespace {

struct Options {
  std::string model;
  int64_t batch = 0;  // 0: the model's default (64 for MNIST-scale models, ram and dasnet, 128 for CIFAR ones)
  int64_t steps = 20;
  int64_t warmup = 3;
  int64_t threads = 0;  // 0: GLIMPSE_NUM_THREADS or all cores
  int64_t size = 28;    // the side of the square MNIST input: 28, or 42 for stn_mnist on RTS MNIST
};

// The flags into `o`; `flags` stays the caller's, to report a problem found later (a model with no step).
void parse(Flags& flags, Options& o, int argc, char** argv) {
  flags.bind("model", o.model, "a model of the zoo, ram or dasnet (required)");
  flags.bind("batch", o.batch, "images per step (0: 64 for MNIST-scale models, ram and dasnet; 128 for CIFAR ones)", 0,
             100000);
  flags.bind("steps", o.steps, "timed steps (their median is ms_per_step)", 1, 100000);
  flags.bind("warmup", o.warmup, "steps run before the timed ones", 0, 100000);
  flags.bind("threads", o.threads, "threads (0: GLIMPSE_NUM_THREADS, else every core)", 0, 1024);
  flags.bind("size", o.size, "the side of the MNIST-scale input: 28, or 42 for stn_mnist on RTS MNIST", 28, 42);
  flags.parse(argc, argv);
  if (o.model.empty()) flags.usage_error("--model is required");
  if (o.size != 28 && o.size != 42) flags.usage_error("--size must be 28 or 42");
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The input of one batch, from the zoo's model table: MNIST-scale models take (B, 1, S, S),
// CIFAR models (B, 3, 32, 32). Returns false for a model that is not an image classifier.
bool image_input_shape(const Options& o, Shape& shape) {
  if (contains(mnist_model_names(), o.model)) {
    shape = {o.batch ? o.batch : 64, 1, o.size, o.size};
    return true;
  }
  if (contains(cifar_model_names(), o.model)) {
    shape = {o.batch ? o.batch : 128, 3, 32, 32};
    return true;
  }
  return false;
}

// A training step and what it reports, built once for a model.
struct Step {
  std::function<void()> run;    // one complete step
  std::function<void()> infer;  // a forward in evaluation mode without a graph (the classifiers); may be empty
  int64_t batch = 0;
  int64_t params = 0;
  double flops = 0;  // of one step, the classifiers': 3 forwards' multiply-adds, 2 flops each (0: not counted)
};

std::vector<int64_t> random_labels(int64_t n, Rng& rng) {
  std::vector<int64_t> labels(n);
  for (int64_t& label : labels) label = static_cast<int64_t>(rng.uniform(0, 10)) % 10;
  return labels;
}

std::shared_ptr<SGD> sgd_momentum(const std::vector<Tensor>& parameters) {
  return std::make_shared<SGD>(parameters, SgdOptions{.lr = 0.01f, .momentum = 0.9f});
}

// The classifiers of the zoo: cross-entropy on the logits of a (B, ...) image batch.
Step classifier_step(const Options& o, const Shape& input_shape, Rng& rng) {
  auto model = create_model(o.model, rng, {.image_side = o.size});
  const SummaryTotals per_image = summary_totals(*model, {1, input_shape[1], input_shape[2], input_shape[3]});
  model->train();
  auto optimizer = sgd_momentum(model->parameters());
  Tensor x = Tensor::normal(input_shape, 0, 1, rng);
  std::vector<int64_t> labels = random_labels(input_shape[0], rng);
  Step step;
  step.batch = input_shape[0];
  step.params = model->parameter_count();
  step.flops = 6.0 * static_cast<double>(per_image.layer_macs + per_image.activation_macs) *
               static_cast<double>(step.batch);  // forward + backward (about twice the forward)
  step.run = [model, optimizer, x, labels] {
    model->train();
    optimizer->zero_grad();
    Tensor loss = cross_entropy(model->forward(x), labels);
    loss.backward();
    optimizer->step();
  };
  step.infer = [model, x] {
    model->eval();
    NoGradGuard no_grad;
    model->forward(x);
  };
  return step;
}

// ram on MNIST (g = 8, k = 1, 6 glimpses): one pass with freshly sampled locations, the hybrid
// loss, backward, update. As in bench/pytorch_reference.py, REINFORCE and the baseline's error
// also train the core and glimpse networks through h_t (RamOptions::reinforce_into_core).
Step ram_step(const Options& o, Rng& rng) {
  auto model = std::make_shared<RecurrentAttentionModel>(
      RamOptions{.glimpse_side = 8, .scales = 1, .glimpses = 6, .image_side = 28, .reinforce_into_core = true}, rng);
  model->train();
  auto optimizer = sgd_momentum(model->parameters());
  const int64_t batch = o.batch ? o.batch : 64;
  Tensor x = Tensor::normal({batch, 1, 28, 28}, 0, 1, rng);
  std::vector<int64_t> labels = random_labels(batch, rng);
  Step step;
  step.batch = batch;
  step.params = model->parameter_count();
  step.run = [model, optimizer, x, labels] {
    optimizer->zero_grad();
    RamLoss loss = ram_loss(model->run(x), labels);  // locations from the model's own Rng
    loss.total.backward();
    optimizer->step();
  };
  return step;
}

// dasnet: the gated inference SNES scores a candidate theta by, 5 passes of a frozen resnet20
// (BN in evaluation mode) with the policy between them, then the cross-entropy; no graph.
// theta stays at 0 (all gates 1, the SNES mean's start); the work does not depend on its values.
Step dasnet_step(const Options& o, Rng& rng) {
  auto net = std::make_shared<DasNet>(std::make_shared<ResNet20>(rng), 5);
  const int64_t batch = o.batch ? o.batch : 64;
  Tensor x = Tensor::normal({batch, 3, 32, 32}, 0, 1, rng);
  std::vector<int64_t> labels = random_labels(batch, rng);
  Step step;
  step.batch = batch;
  // theta is what dasnet learns, but SNES trains it, not back-propagation: the model holds it as
  // a buffer, not a parameter. Counted here as the PyTorch side counts it: resnet20 + 784 x 784.
  step.params = net->parameter_count() + net->theta.numel();
  step.run = [net, x, labels] {
    NoGradGuard no_grad;
    cross_entropy(net->forward(x), labels);  // forward() puts the base in evaluation mode itself
  };
  return step;
}

// One function per kind of step: classifiers, ram (glimpses over time, REINFORCE on the
// locations) and dasnet (gated inference).
Step build_step(const Options& o, Rng& rng, const Flags& flags) {
  if (o.size != 28 && o.model != "stn_mnist") flags.usage_error("--size 42 is for stn_mnist only");
  if (o.model == "ram") return ram_step(o, rng);
  if (o.model == "dasnet") return dasnet_step(o, rng);
  Shape input_shape;
  if (image_input_shape(o, input_shape)) return classifier_step(o, input_shape, rng);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  flags.usage_error("no training step for model '" + o.model + "'; known: " + known + ", ram, dasnet");
}

// CPU time of the whole process (user + system, every thread), in seconds: on a machine shared
// with other work it says more than the wall clock, which also counts the time spent waiting.
double cpu_seconds() {
  struct rusage r {};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t i = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags("bench_step",
              "Times one training step of a model on random input (and a forward in evaluation mode), as one JSON "
              "line\nwith the fields of bench/pytorch_reference.py's.");
  Options o;
  parse(flags, o, argc, argv);
  if (o.threads > 0) set_num_threads(static_cast<int>(o.threads));
  Rng rng(1234);
  Step step;
  try {
    step = build_step(o, rng, flags);
  } catch (const Error& e) {
    flags.usage_error(e.what());
  }
  std::vector<double> ms, inference_ms;
  double cpu_ms = 0;
  try {
    for (int i = 0; i < o.warmup; i++) step.run();
    const double cpu_before = cpu_seconds();
    for (int i = 0; i < o.steps; i++) {
      auto t0 = std::chrono::steady_clock::now();
      step.run();
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    cpu_ms = 1000.0 * (cpu_seconds() - cpu_before) / static_cast<double>(o.steps);
    if (step.infer) {
      step.infer();  // warm-up
      for (int i = 0; i < o.steps; i++) {
        auto t0 = std::chrono::steady_clock::now();
        step.infer();
        auto t1 = std::chrono::steady_clock::now();
        inference_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    }
  } catch (const Error& e) {  // e.g. an input side the model does not take (--size 42)
    std::fprintf(stderr, "bench_step: a step of %s failed: %s\n", o.model.c_str(), e.what());
    return 1;
  }
  struct rusage usage_now {};
  getrusage(RUSAGE_SELF, &usage_now);
  const double median = percentile(ms, 0.5);
  const double peak = bench::measure_fma_peak_gflops();  // after the steps: it warms nothing they use
  const std::string floor_ms = step.flops > 0 ? std::to_string(step.flops / peak / 1e6) : "null";
  std::printf(
      "{\"framework\": \"glimpse\", \"model\": \"%s\", \"batch\": %lld, \"threads\": %d, \"ms_per_step\": %.3f, "
      "\"ms_p10\": %.3f, \"ms_p90\": %.3f, \"images_per_s\": %.1f, \"peak_rss_mb\": %.1f, \"params\": %lld, "
      "\"cpu_ms_per_step\": %.2f, "
      "\"peak_tensor_mb\": %.1f, \"inference_ms\": %s, \"fma_peak_gflops\": %.1f, \"floor_ms\": %s}\n",
      o.model.c_str(), static_cast<long long>(step.batch), num_threads(), median, percentile(ms, 0.1),
      percentile(ms, 0.9), 1000.0 * static_cast<double>(step.batch) / median,
      static_cast<double>(usage_now.ru_maxrss) / 1024.0, static_cast<long long>(step.params), cpu_ms,
      static_cast<double>(storage_peak_bytes()) / (1024.0 * 1024.0),
      inference_ms.empty() ? "null" : std::to_string(percentile(inference_ms, 0.5)).c_str(), peak, floor_ms.c_str());
  return 0;
}
