// A model as an ONNX file, for ONNX Runtime and the other engines that read ONNX.
//
//   model->eval();
//   OnnxExport written = export_onnx(*model, {1, 3, 32, 32}, "resnet20.onnx");
//
// It runs one forward on a batch of `input_shape` with a Tracer watching (Note [Tracing a
// forward] in engine/trace.h), walks back from the output through the ops that ran, and writes
// each as one or a few ONNX operators (opset 17). A second forward, on other values, must give
// the same graph: a tensor computed from the input outside the engine's ops would otherwise be
// written as a constant, and the file would be silently wrong (such a model is refused). The file is built and checked
// with the ONNX project's own library (libonnx-dev: its protobuf classes and onnx::checker), so what it writes is what
// every ONNX reader expects, not a hand-made protobuf.
//
// - The graph has one input, "input", of exactly `input_shape` (the batch size is fixed), and one
//   output, "logits". The model's parameters and buffers become initializers under their glimpse
//   names ("layer1.0.conv1.weight"), which are also PyTorch's (convert_weights).
// - The model is exported as it computes in evaluation mode: batch norm with its running
//   statistics, dropout off. A model in training mode is refused.
// - An op without an ONNX form here (RAM's glimpse sensor, the Gaussian policy, the losses) is
//   refused by name; so is a model that computes from its input outside the engine's ops (in a
//   loop over data()). docs/USING.md lists what exports.
#pragma once

#include <cstdint>
#include <string>

#include "engine/tensor.h"
#include "layers/module.h"

namespace glimpse {

struct OnnxExport {
  int64_t nodes = 0;         // ONNX operators in the graph
  int64_t initializers = 0;  // weights and constants
  Shape output_shape;        // of "logits"
};

// Writes the file atomically (a crash leaves the old file or the new one). Errors name the op.
OnnxExport export_onnx(Module& model, const Shape& input_shape, const std::string& path);

// The serialised ModelProto, for a test or a program that sends it elsewhere.
std::string onnx_model_bytes(Module& model, const Shape& input_shape, OnnxExport* summary = nullptr);

}  // namespace glimpse
