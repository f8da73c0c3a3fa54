#include "train/summary.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "engine/autograd.h"
#include "engine/trace.h"

namespace glimpse {

namespace {

// One module of the tree, in the order Module::print lists them (a module before its children).
struct Row {
  std::string name;  // its name in its parent ("conv1"); the root's is empty
  int depth = 0;
  int parent = -1;  // index of the parent's row
  std::string type;
  int64_t own_parameters = 0, parameters = 0;  // its own, and with its children's
  Shape output = {};                           // of its last op that reads its own parameters or buffers
  bool has_output = false;
  int64_t own_macs = 0, macs = 0;  // of its own ops, and with its children's
};

struct Traced {
  std::vector<Row> rows;
  int64_t activation_macs = 0;
  Shape output;
  bool recorded = false;  // whether an op computed the forward's output
};

void add_rows(const Module& module, const std::string& name, int depth, int parent, std::vector<Row>& rows,
              std::map<const TensorImpl*, int>& owner) {
  const int index = static_cast<int>(rows.size());
  Row row;
  row.name = name, row.depth = depth, row.parent = parent, row.type = module.type_name();
  rows.push_back(row);
  for (const auto& [parameter_name, p] : module.named_parameters()) {
    rows[static_cast<size_t>(index)].parameters += p.numel();
    if (parameter_name.find('.') != std::string::npos) continue;  // a child's
    rows[static_cast<size_t>(index)].own_parameters += p.numel();
    owner[p.impl()] = index;
  }
  for (const auto& [buffer_name, b] : module.named_buffers())  // its own, not trained (dasNet's theta)
    if (buffer_name.find('.') == std::string::npos) owner[b.impl()] = index;
  for (const auto& [child_name, child] : module.children()) add_rows(*child, child_name, depth + 1, index, rows, owner);
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// The multiply-accumulates of one op, from the shapes of its inputs and its output.
int64_t macs_of(const TracedOp& op) {
  const Shape& output = op.output.shape();
  if (op.op == "conv2d" || op.op == "conv1d") {  // y = x * w: each output value, one per weight of a kernel
    const Shape& w = op.inputs[1].shape();       // (out, in / groups, kernel...)
    return numel_of(output) * (numel_of(w) / w[0]);
  }
  if (op.op == "matmul" || op.op == "bmm") {  // (B, M, K) (B, K, N) -> (B, M, N): each output value, K
    const int64_t batch = op.op == "bmm" ? output[0] : 1;
    const double k_squared = static_cast<double>(op.inputs[0].numel()) * static_cast<double>(op.inputs[1].numel()) /
                             (static_cast<double>(numel_of(output)) * static_cast<double>(batch));
    return numel_of(output) * std::llround(std::sqrt(k_squared));
  }
  return 0;
}

// The model's forward on a zero input, in evaluation mode (its mode restored after).
Tensor forward_in_evaluation_mode(Module& model, const Shape& input_shape) {
  const bool was_training = model.is_training();
  model.eval();
  Tensor y;
  try {
    y = model.forward(Tensor::zeros(input_shape));
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  return y;
}

// The traced ops that y depends on, in the order they ran: walking back from y through the op
// that last returned each tensor (an op whose output nothing uses, such as RAM's baseline, is
// left out; engine/trace.h).
std::vector<const TracedOp*> ops_leading_to(const Tensor& y, const Tracer& tracer) {
  const std::vector<TracedOp>& ops = tracer.ops();
  const std::map<const TensorImpl*, size_t> producer = tracer.producers();
  std::vector<bool> needed(ops.size(), false);
  std::vector<const Tensor*> stack{&y};
  while (!stack.empty()) {
    const Tensor* t = stack.back();
    stack.pop_back();
    if (!t->defined()) continue;  // an absent optional input (no bias)
    auto found = producer.find(t->impl());
    if (found == producer.end() || needed[found->second]) continue;
    needed[found->second] = true;
    for (const Tensor& input : ops[found->second].inputs) stack.push_back(&input);
    for (const Tensor& constant : ops[found->second].settings.constants) stack.push_back(&constant);
  }
  std::vector<const TracedOp*> order;
  for (size_t i = 0; i < ops.size(); i++)
    if (needed[i]) order.push_back(&ops[i]);
  return order;
}

// Gives each op to the module whose parameters it reads (its row: output shape, mult-adds), or,
// reading none, to the products of activations; then adds each row's children to it.
void charge_ops(const std::vector<const TracedOp*>& order, const std::map<const TensorImpl*, int>& owner,
                Traced& traced) {
  for (const TracedOp* op : order) {
    int row = -1;
    for (const Tensor& input : op->inputs)
      if (input.defined() && owner.count(input.impl())) {
        row = owner.at(input.impl());
        break;
      }
    const int64_t macs = macs_of(*op);
    if (row < 0) {
      traced.activation_macs += macs;
      continue;
    }
    Row& r = traced.rows[static_cast<size_t>(row)];
    r.output = op->output.shape();  // the later op wins: ops are in the order they ran
    r.has_output = true;
    r.own_macs += macs;
  }
  // each row's count with its children's: children come after their parent, so add backwards
  for (Row& r : traced.rows) r.macs += r.own_macs;
  for (size_t i = traced.rows.size(); i-- > 1;)
    traced.rows[static_cast<size_t>(traced.rows[i].parent)].macs += traced.rows[i].macs;
}

// Runs the forward under a Tracer and gives each op to the module whose parameters it reads.
Traced trace(Module& model, const Shape& input_shape) {
  Traced traced;
  std::map<const TensorImpl*, int> owner;  // a parameter -> its module's row
  add_rows(model, "", 0, -1, traced.rows, owner);
  Tracer tracer;
  const Tensor y = forward_in_evaluation_mode(model, input_shape);
  traced.output = y.shape();
  const std::vector<const TracedOp*> order = ops_leading_to(y, tracer);
  if (order.empty()) return traced;  // no op computed the output
  traced.recorded = true;
  charge_ops(order, owner, traced);
  return traced;  // the tracer, and with it every tensor of the forward, goes here
}

std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); i++) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

SummaryTotals summary_totals(Module& model, const Shape& input_shape) {
  Traced traced = trace(model, input_shape);
  return {.parameters = model.parameter_count(),
          .layer_macs = traced.rows.front().macs,
          .activation_macs = traced.activation_macs,
          .output = traced.recorded ? traced.output : Shape{}};
}

std::string summarize(Module& model, const Shape& input_shape) {
  Traced traced = trace(model, input_shape);
  std::vector<Row>& rows = traced.rows;
  rows.front().name = model.type_name();
  rows.front().type = "";
  rows.front().output = traced.output;
  rows.front().has_output = true;

  size_t name_width = 6, type_width = 4, shape_width = 12;  // "module", "type", "output shape"
  for (const Row& r : rows) {
    name_width = std::max(name_width, 2 * static_cast<size_t>(r.depth) + r.name.size());
    type_width = std::max(type_width, r.type.size());
    if (r.has_output) shape_width = std::max(shape_width, shape_str(r.output).size());
  }
  char line[512];
  auto row_line = [&](const std::string& name, const std::string& type, const std::string& shape,
                      const std::string& parameters, const std::string& macs) {
    std::snprintf(line, sizeof line, "%-*s  %-*s  %-*s  %12s  %15s\n", static_cast<int>(name_width), name.c_str(),
                  static_cast<int>(type_width), type.c_str(), static_cast<int>(shape_width), shape.c_str(),
                  parameters.c_str(), macs.c_str());
    return std::string(line);
  };
  std::string out = model.type_name() + " on an input " + shape_str(input_shape) + ", in evaluation mode\n";
  out += row_line("module", "type", "output shape", "parameters", "mult-adds");
  for (const Row& r : rows) {
    const std::string indent(2 * static_cast<size_t>(r.depth), ' ');
    const bool leaf = &r != &rows.front() && r.parameters == r.own_parameters && r.own_parameters > 0;
    // a block's own weights (an attention's scale, relative positions) act inside it: no shape of its own
    const bool block = &r != &rows.back() && (&r + 1)->depth > r.depth;
    const std::string shape = !traced.recorded                             ? "?"
                              : (r.has_output && (!block || r.depth == 0)) ? shape_str(r.output)
                                                                           : "-";
    const std::string macs = !traced.recorded ? "?" : (r.macs > 0 || leaf) ? with_thousands(r.macs) : "-";
    out += row_line(indent + r.name, r.type, shape, r.parameters > 0 ? with_thousands(r.parameters) : "-", macs);
  }
  out += "total: " + with_thousands(model.parameter_count()) + " parameters";
  if (!traced.recorded) return out + "; no op of the engine computed the output, so no shapes and no counts\n";
  out += ", " + with_thousands(rows.front().macs) + " multiply-accumulates in the layers";
  if (traced.activation_macs > 0)
    out += " and " + with_thousands(traced.activation_macs) + " in products of activations";
  const double flops = 2.0 * static_cast<double>(rows.front().macs + traced.activation_macs);
  char per[96];
  std::snprintf(per, sizeof per, " (about %.1f %sFLOPs%s)\n", flops >= 1e9 ? flops / 1e9 : flops / 1e6,
                flops >= 1e9 ? "G" : "M", input_shape.empty() || input_shape[0] == 1 ? " per image" : " per batch");
  return out + per + "output shape: of each layer's last op that reads its weights\n";
}

}  // namespace glimpse
