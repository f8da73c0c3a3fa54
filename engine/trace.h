// Tracing a forward: the list of ops a model ran, for writing the model in another format.
//
// Note [Tracing a forward]
// Every op of the engine ends by calling record() (autograd.h) with its output, its backward node
// and the tensors it read. While a Tracer is alive, record() also hands the Tracer what it would
// need to run the op again elsewhere: the op's name (its node's: "conv2d"), its inputs, its output
// and its settings (a stride, the axes of a sum). That is how io/onnx.h turns a model into an ONNX
// graph, as torch.onnx.export does: run the forward once and write down what happened.
//
//   Tracer tracer;
//   Tensor y = model.forward(x);
//   for (const TracedOp& op : tracer.ops()) ...   // in the order they ran
//
// - An op built from other ops (linear is matmul then add) reports nothing of its own: its parts
//   report themselves. An op that reports after ops it called inside (none does today) would
//   appear after them; a reader who keeps, for each tensor, the last op that returned it, and
//   walks back from the output, sees only what the output depends on.
// - Ops that return their input unchanged (dropout in evaluation) report nothing: the output is
//   the input, the same tensor.
// - A Tracer holds every tensor of the forward alive until it is destroyed: trace a small batch.
// - One at a time, on the thread that runs the forward.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

// What an op tells a Tracer besides its inputs and output: the numbers that shaped it, and any
// tensor it read that is not an edge of the graph (batch norm's running statistics). An op
// names them as it records itself:
//
//   record(y, node, {x, w, b}, OpSettings().with_int("stride", 2).with_int("padding", 1));
//
// Each with_ returns at once when no Tracer is alive: outside an export an op's settings stay
// empty, and the op pays one thread-local test for them, no allocation.
struct OpSettings {
  std::map<std::string, std::vector<int64_t>> ints;  // "stride" -> {2}, "axes" -> {2, 3}
  std::map<std::string, double> reals;               // "eps" -> 1e-5
  std::vector<Tensor> constants;                     // read, never differentiated

  OpSettings& with_int(const char* name, int64_t value);
  OpSettings& with_ints(const char* name, const std::vector<int64_t>& values);
  OpSettings& with_real(const char* name, double value);
  OpSettings& with_constant(const Tensor& t);

  int64_t integer(const std::string& name) const;  // the one value of ints[name]; an Error if absent
  const std::vector<int64_t>& integers(const std::string& name) const;
  double real_number(const std::string& name) const;
};

// One op as it ran.
struct TracedOp {
  std::string op;              // the name of its backward node: "conv2d", "add", "reshape"
  std::vector<Tensor> inputs;  // as the op listed them; undefined where an optional one was absent (no bias)
  Tensor output;
  OpSettings settings;
};

class Tracer {
 public:
  Tracer();
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  const std::vector<TracedOp>& ops() const { return ops_; }
  void add(TracedOp op) { ops_.push_back(std::move(op)); }
  // For each tensor an op returned, the index in ops() of the last op that returned it: walking
  // back from the output through these, a reader sees only what the output depends on (above).
  std::map<const TensorImpl*, size_t> producers() const;

 private:
  std::vector<TracedOp> ops_;
  Tracer* previous_;
};

// The Tracer alive on this thread, or null (record() asks).
Tracer* active_tracer();

}  // namespace glimpse
