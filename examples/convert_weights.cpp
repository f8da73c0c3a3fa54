// convert_weights: a model's weights from a glimpse checkpoint to NumPy's .npz, which NumPy and
// PyTorch read by name, and from an .npz back to a checkpoint.
//
//   build/convert_weights runs/r20.ckpt r20.npz                    glimpse -> NumPy / PyTorch
//   build/convert_weights --model resnet20 r20.npz r20.ckpt         NumPy / PyTorch -> glimpse
//   build/convert_weights runs/r20.ckpt r20_weights.ckpt            the weights alone, to share
//
// The names are PyTorch's ("layer1.0.conv1.weight", "bn1.running_var"): those of the PyTorch twins
// in bench/pytorch_reference.py, so in Python
//
//   model.load_state_dict({k: torch.from_numpy(v) for k, v in numpy.load("r20.npz").items()})
//   numpy.savez("r20.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
//
// (PyTorch fills in BatchNorm's num_batches_tracked, a counter glimpse does not keep; the import
// skips it). The export writes the weights evaluate scores: a run's averaged weights if it
// was trained with --ema. The import writes a checkpoint that evaluate, predict and export read;
// the model's name and the flags that shape it (--width, --glimpses, --location-std, --passes)
// are given on the command line, as its trainer was given them. Every tensor of the model must be
// in the .npz with its shape, and the .npz may hold nothing else (but num_batches_tracked).
// From one checkpoint to another it keeps the model's weights and what the run was (its
// metadata) and drops the optimiser's state: a third of the size for Adam, half for SGD. Such a
// checkpoint scores, predicts and converts; it does not resume a run.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "io/checkpoint.h"
#include "io/npz.h"
#include "train/evaluation.h"
#include "train/flags.h"
#include "train/stop_signals.h"
#include "train/training_flags.h"

using namespace glimpse;

static void export_weights(const std::string& checkpoint, const std::string& npz, const RebuildOptions& options) {
  LoadedModel m = load_model(checkpoint, options);
  write_npz(npz, m.model->state());
  std::printf("wrote %s: the %zu tensors of %s (%s weights), under PyTorch's names\n", npz.c_str(),
              m.model->state().size(), m.name.c_str(), m.averaged ? "its averaged" : "its trained");
}

// The model's tensors filled from the arrays of the same names; refuses a missing, misshapen or
// unknown array, naming it.
static void fill_from(const std::vector<std::pair<std::string, Tensor>>& arrays, Module& model,
                      const std::string& npz) {
  std::map<std::string, Tensor> by_name(arrays.begin(), arrays.end());
  for (auto& [name, t] : model.state()) {
    auto found = by_name.find(name);
    if (found == by_name.end()) fail(npz + ": no array '" + name + "', which the model has");
    if (found->second.shape() != t.shape())
      fail(npz + ": array '" + name + "' has shape " + shape_str(found->second.shape()) + ", the model's is " +
           shape_str(t.shape()));
    std::copy_n(found->second.data(), t.numel(), t.data());
    by_name.erase(found);
  }
  for (const auto& [name, t] : by_name)
    if (!name.ends_with("num_batches_tracked"))
      fail(npz + ": array '" + name + "' is not part of the model (is --model right?)");
}

// The weights evaluate scores, as "model.*", with the run's metadata and what rebuilds the model.
static void keep_weights(const std::string& from, const std::string& to, const RebuildOptions& options) {
  LoadedModel m = load_model(from, options);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : m.model->state()) tensors.emplace_back("model." + name, t);
  Metadata metadata = m.metadata;
  for (const auto& [key, value] : rebuild_metadata(m)) metadata[key] = value;
  metadata["weights_only"] = m.averaged ? "averaged" : "trained";
  metadata["ema"] = "0";  // what it holds under "model." are the weights to use
  save_checkpoint(to, tensors, metadata);
  std::printf("wrote %s: the %zu tensors of %s (%s weights) without the optimiser's state\n", to.c_str(),
              tensors.size(), m.name.c_str(), m.averaged ? "its averaged" : "its trained");
}

static void import_weights(const std::string& npz, const std::string& checkpoint, const std::string& model_name,
                           int64_t seed, const RebuildOptions& options) {
  Rng rng(static_cast<uint64_t>(seed));
  LoadedModel m = build_model(model_name, {}, options, rng);
  fill_from(read_npz(npz), *m.model, npz);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : m.model->state()) tensors.emplace_back("model." + name, t);
  Metadata metadata = rebuild_metadata(m);
  metadata.insert({{"model", model_name}, {"seed", std::to_string(seed)}, {"weights_only", "imported from " + npz}});
  save_checkpoint(checkpoint, tensors, metadata);
  std::printf("wrote %s: %s with the %zu tensors of %s\n", checkpoint.c_str(), model_name.c_str(), tensors.size(),
              npz.c_str());
}

int main(int argc, char** argv) {
  Flags flags("convert_weights",
              "Writes a checkpoint's weights to NumPy's .npz (PyTorch's names), an .npz's to a checkpoint, or a\n"
              "checkpoint's weights alone to a smaller one.");
  std::vector<std::string>& files = flags.add_positional("IN OUT",
                                                         "FILE.ckpt FILE.npz (export), FILE.npz FILE.ckpt (import, "
                                                         "with --model) or FILE.ckpt FILE.ckpt (the weights alone)");
  std::string& model_name =
      flags.add_string("model", "", "import: the model the weights are of, as checkpoints name it (resnet20, ...)");
  int64_t& seed = flags.add_int("seed", 1, "import: the --seed recorded (train_stn's normalisation reads it)", 0);
  RebuildOptions options;
  declare_rebuild_flags(flags, options);
  flags.parse(argc, argv);
  if (files.size() != 2) flags.usage_error("give two files: IN OUT");
  const std::string &in = files[0], &out = files[1];
  check_files_apart(flags, {{"IN", in}}, {{"OUT", out}});
  const bool exporting = out.ends_with(".npz") && !in.ends_with(".npz");
  const bool importing = in.ends_with(".npz") && !out.ends_with(".npz");
  if (in.ends_with(".npz") && out.ends_with(".npz")) flags.usage_error("two .npz files: one of them is a checkpoint");
  if (importing && model_name.empty()) flags.usage_error("importing " + in + " needs --model NAME");
  if (!importing && !model_name.empty()) flags.usage_error("--model is for an import; a checkpoint names its model");

  try {
    if (exporting) export_weights(in, out, options);
    if (importing) import_weights(in, out, model_name, seed, options);
    if (!exporting && !importing) keep_weights(in, out, options);
  } catch (const std::exception& e) {
    return report_failure("convert_weights", e);
  }
  return finish_output("convert_weights");
}
