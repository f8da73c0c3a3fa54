// predict: classifies image files with the model of a checkpoint and prints the most probable
// classes, one line per file, or JSON.
//
//   build/predict --checkpoint runs/mnist.ckpt digit.png                  digit.png: 7 0.9731, 1 0.0112, 9 0.0064
//   build/predict --checkpoint runs/r20.ckpt --top 5 --json cat.jpg ship.png
//
// An image (PNG, JPEG or BMP) is read as the model's data is: grey for the MNIST models (a light
// digit on a dark ground, as MNIST's; --invert for a dark digit on paper), colour for the CIFAR-10
// ones, resized to the model's side with stb_image_resize if it has another size (a note on stderr
// says so), and normalised as the model's trainer normalised its data (train/evaluation.h). The
// classes are CIFAR-10's ten names or the digits. RAM samples its glimpse locations: its
// probabilities are the mean over --mc-samples sampled paths, drawn from a fixed seed.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "engine/parallel.h"
#include "io/image.h"
#include "models/ram.h"
#include "train/data_paths.h"
#include "train/evaluation.h"
#include "train/flags.h"
#include "train/ram_evaluation.h"
#include "train/stop_signals.h"

using namespace glimpse;

// The model's input for one image file: (1, C, S, S), normalised; `resized_from` gets the file's
// size when it had to be resized ({} if not).
static Tensor read_input(const std::string& path, const LoadedModel& m, const std::vector<float>& mean,
                         const std::vector<float>& stddev, bool invert, std::vector<int64_t>& resized_from) {
  Image image = decode_image(read_binary_file(path, "image", max_image_file_bytes), m.channels, path);
  resized_from.clear();
  if (image.height != m.side || image.width != m.side) {
    resized_from = {image.height, image.width};
    std::fprintf(stderr, "predict: %s is %lldx%lld: resized to %lldx%lld for %s\n", path.c_str(),
                 static_cast<long long>(image.height), static_cast<long long>(image.width),
                 static_cast<long long>(m.side), static_cast<long long>(m.side), m.name.c_str());
    image = resize_image(image, m.side, m.side);
  }
  const int64_t C = m.channels, S = m.side;
  Tensor x = Tensor::empty({1, C, S, S});
  for (int64_t c = 0; c < C; c++)
    for (int64_t p = 0; p < S * S; p++) {  // the file's (H, W, C) bytes to the model's (C, H, W)
      float v = image.pixels[static_cast<size_t>(p * C + c)] / 255.0f;
      if (invert) v = 1 - v;
      if (!mean.empty()) v = (v - mean[static_cast<size_t>(c)]) / stddev[static_cast<size_t>(c)];
      x.data()[c * S * S + p] = v;
    }
  return x;
}

// The model's probability of each class for input x (1, C, S, S).
static std::vector<float> probabilities(const LoadedModel& m, const Tensor& x, int64_t paths) {
  NoGradGuard no_grad;
  if (m.kind != ModelKind::ram) return softmax(m.model->forward(x), 1).to_vector();
  // RAM: the mean of the probabilities of `paths` sampled paths, drawn as evaluate draws them
  auto& ram = static_cast<RecurrentAttentionModel&>(*m.model);
  Rng rng(evaluation_seed);
  Tensor sum = exp(ram.run(x, rng).log_probs);
  for (int64_t s = 1; s < paths; s++) sum = sum + exp(ram.run(x, rng).log_probs);
  return (sum / static_cast<real>(paths)).to_vector();
}

// A string as a JSON string literal.
static std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The indices of the `top` largest probabilities, the largest first (ties: the lower index).
static std::vector<size_t> top_classes(const std::vector<float>& p, int64_t top) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  order.resize(std::min(order.size(), static_cast<size_t>(top)));
  return order;
}

// A class's name ("cat", "7"), or its index if the model has more classes than names.
static std::string class_label(const std::vector<std::string>& names, size_t k) {
  return k < names.size() ? names[k] : std::to_string(k);
}

// "digit.png: 7 0.9731, 1 0.0112, 9 0.0064"
static std::string text_line(const std::string& file, const std::vector<float>& p, const std::vector<size_t>& order,
                             const std::vector<std::string>& names) {
  std::string line = file + ":";
  for (size_t k = 0; k < order.size(); k++) {
    char number[32];
    std::snprintf(number, sizeof number, " %.4f", p[order[k]]);
    line += (k ? ", " : " ") + class_label(names, order[k]) + number;
  }
  return line + "\n";
}

// {"file": ..., "resized_from": null or [H, W], "top": [{"class": ..., "index": ..., "probability": ...}, ...]}
static std::string json_entry(const std::string& file, const std::vector<int64_t>& resized_from,
                              const std::vector<float>& p, const std::vector<size_t>& order,
                              const std::vector<std::string>& names) {
  std::string entry = "{\"file\": " + json_string(file) + ", \"resized_from\": ";
  entry += resized_from.empty() ? "null"
                                : "[" + std::to_string(resized_from[0]) + ", " + std::to_string(resized_from[1]) + "]";
  entry += ", \"top\": [";
  for (size_t k = 0; k < order.size(); k++) {
    char number[32];
    std::snprintf(number, sizeof number, "%.6g", p[order[k]]);
    entry += std::string(k ? ", " : "") + "{\"class\": " + json_string(class_label(names, order[k])) +
             ", \"index\": " + std::to_string(order[k]) + ", \"probability\": " + number + "}";
  }
  return entry + "]}";
}

// The data of the model's trainer for its normalisation: only STN's comes from data (its
// trainer's training digits), found as train_stn found them; "" for the others.
static std::string normalisation_data(const LoadedModel& m, const std::string& data) {
  if (m.kind != ModelKind::stn) return "";
  const std::string dir = find_data(data, "mnist", true).dir;
  std::fprintf(stderr,
               "predict: %s normalises as train_stn did, with the pixel statistics of its training "
               "digits from %s (pass the --data it was trained on)\n",
               m.name.c_str(), dir.c_str());
  return dir;
}

int main(int argc, char** argv) {
  Flags flags("predict",
              "Classifies image files (PNG, JPEG, BMP) with a checkpoint's model: the most probable classes and\n"
              "their probabilities, one line per file, or JSON with --json.");
  std::vector<std::string>& files = flags.add_positional("IMAGE...", "the image files to classify");
  std::string& checkpoint = flags.add_string("checkpoint", "", "the checkpoint whose model classifies (any trainer's)");
  int64_t& top = flags.add_int("top", 3, "the most probable classes shown per file", 1, 1000);
  bool& json = flags.add_bool("json", "print JSON instead of a line per file");
  bool& invert = flags.add_bool("invert", "grey models: a dark digit on a light ground, inverted to MNIST's");
  std::string& data = flags.add_string(
      "data", "", "STN only: the MNIST its normalisation is computed from, as train_stn found it (default as it)");
  int64_t& mc_samples =
      flags.add_int("mc-samples", 10, "RAM: the sampled paths whose probabilities are averaged", 1, 1000);
  RebuildOptions options;
  declare_rebuild_flags(flags, options);
  int64_t& threads = flags.add_int("threads", 0, "worker threads (0: GLIMPSE_NUM_THREADS, else all cores)", 0, 1024);
  flags.parse(argc, argv);
  if (checkpoint.empty()) flags.usage_error("give the model: --checkpoint FILE");
  if (files.empty()) flags.usage_error("give one or more image files to classify");

  try {
    if (threads > 0) set_num_threads(static_cast<int>(threads));
    LoadedModel m = load_model(checkpoint, options);
    for (const std::string& note : m.assumed) std::fprintf(stderr, "predict: note: %s\n", note.c_str());
    std::vector<float> mean, stddev;
    trainer_normalisation(m, normalisation_data(m, data), mean, stddev);
    const std::vector<std::string> names =
        m.data_set == "cifar10" ? cifar10_class_names()
                                : std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

    std::string out = json
                          ? "{\"checkpoint\": " + json_string(checkpoint) + ", \"model\": " + json_string(m.name) +
                                ", \"weights\": \"" + (m.averaged ? "averaged" : "trained") + "\", \"predictions\": [\n"
                          : "";
    for (size_t f = 0; f < files.size(); f++) {
      std::vector<int64_t> resized_from;
      const Tensor x = read_input(files[f], m, mean, stddev, invert, resized_from);
      const std::vector<float> p = probabilities(m, x, mc_samples);
      const std::vector<size_t> order = top_classes(p, top);
      if (json)
        out += "  " + json_entry(files[f], resized_from, p, order, names) + (f + 1 < files.size() ? "," : "") + "\n";
      else
        out += text_line(files[f], p, order, names);
    }
    if (json) out += "]}\n";
    std::fputs(out.c_str(), stdout);
  } catch (const std::exception& e) {
    return report_failure("predict", e);
  }
  return finish_output("predict");
}
