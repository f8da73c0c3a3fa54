// export_onnx: the model of a checkpoint as an ONNX file, for ONNX Runtime and the other engines
// that read ONNX (export/onnx.h).
//
//   build/export_onnx --checkpoint runs/r20.ckpt r20.onnx               a batch of 1 image
//   build/export_onnx --checkpoint runs/r20.ckpt --batch 64 r20.onnx
//
// The file's input "input" is what the model's forward takes: a batch of (C, side, side) images
// normalised as the model's trainer normalised its data (as predict prepares an image); its output
// "logits" has one score per class. The weights are those evaluate scores (a run's averaged ones
// if it was trained with --ema). The models of the zoo export, the STN models (their transformer
// as ONNX's GridSample) and dasNet (its passes unrolled); RAM does not (docs/USING.md says why).
#include <cstdio>
#include <string>

#include "export/onnx.h"
#include "train/evaluation.h"
#include "train/flags.h"
#include "train/stop_signals.h"
#include "train/training_flags.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("export_onnx", "Writes the model of a checkpoint as an ONNX file (opset 17).");
  std::vector<std::string>& files = flags.add_positional("OUT", "the .onnx file to write");
  std::string& checkpoint = flags.add_string("checkpoint", "", "the checkpoint of any trainer");
  int64_t& batch = flags.add_int("batch", 1, "images per batch: the file's input is (batch, C, side, side)", 1);
  RebuildOptions options;
  declare_rebuild_flags(flags, options);
  flags.parse(argc, argv);
  if (checkpoint.empty()) flags.usage_error("give --checkpoint FILE");
  if (files.size() != 1) flags.usage_error("give one output file: OUT.onnx");
  check_files_apart(flags, {{"--checkpoint", checkpoint}}, {{"OUT", files[0]}});

  try {
    LoadedModel m = load_model(checkpoint, options);
    const Shape input = {batch, m.channels, m.side, m.side};
    OnnxExport written = export_onnx(*m.model, input, files[0]);
    std::printf("wrote %s: %s (%s weights), input %s, logits %s, %lld ONNX operators, %lld initializers\n",
                files[0].c_str(), m.name.c_str(), m.averaged ? "averaged" : "trained", shape_str(input).c_str(),
                shape_str(written.output_shape).c_str(), static_cast<long long>(written.nodes),
                static_cast<long long>(written.initializers));
  } catch (const std::exception& e) {
    return report_failure("export_onnx", e);
  }
  return finish_output("export_onnx");
}
