#include "export/onnx.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <numeric>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "engine/trace.h"
#include "io/dataset.h"

namespace glimpse {

namespace {

constexpr int64_t kOpset = 17;  // LayerNormalization and GridSample need 17 and 16

// ---- the graph being written ----

// The ONNX graph under construction: values are named strings, nodes read and write them.
class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}

  // A new value name, "conv2d_7": the op's name and a counter.
  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

  // op_type(inputs) -> outputs; the caller adds the attributes.
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(op_type);
    n.set_name(fresh(op_type));
    for (const std::string& input : inputs) n.add_input(input);
    for (const std::string& output : outputs) n.add_output(output);
    return n;
  }
  // A one-output node whose output gets a fresh name, returned: for the steps inside a translation.
  std::string step(const std::string& op_type, const std::vector<std::string>& inputs,
                   onnx::NodeProto** made = nullptr) {
    const std::string out = fresh(op_type);
    onnx::NodeProto& n = node(op_type, inputs, {out});
    if (made) *made = &n;
    return out;
  }

  std::string floats(const std::string& name, const Shape& shape, const real* values) {
    onnx::TensorProto& t = initializer(name, shape, onnx::TensorProto::FLOAT);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(values), shape_numel(shape) * sizeof(real)));
    return name;
  }
  std::string floats(const std::string& name, const Tensor& values) {
    return floats(name, values.shape(), values.data());
  }
  std::string int64s(const std::string& name, const Shape& shape, const std::vector<int64_t>& values) {
    onnx::TensorProto& t = initializer(name, shape, onnx::TensorProto::INT64);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t)));
    return name;
  }
  // Constants the translations need: a float scalar, a list of int64 (axes, a shape).
  std::string scalar(double value) {
    const real v = static_cast<real>(value);
    return floats(fresh("scalar"), {}, &v);
  }
  std::string int64_list(const std::vector<int64_t>& values) {
    return int64s(fresh("ints"), {static_cast<int64_t>(values.size())}, values);
  }

 private:
  onnx::TensorProto& initializer(const std::string& name, const Shape& shape, onnx::TensorProto::DataType type) {
    onnx::TensorProto& t = *graph_.add_initializer();
    t.set_name(name);
    t.set_data_type(type);
    for (int64_t d : shape) t.add_dims(d);
    return t;
  }

  onnx::GraphProto& graph_;
  int64_t counter_ = 0;
};

onnx::AttributeProto& attribute(onnx::NodeProto& n, const std::string& name, onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(type);
  return a;
}
void set_int(onnx::NodeProto& n, const std::string& name, int64_t value) {
  attribute(n, name, onnx::AttributeProto::INT).set_i(value);
}
void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& values) {
  onnx::AttributeProto& a = attribute(n, name, onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
}
void set_float(onnx::NodeProto& n, const std::string& name, double value) {
  attribute(n, name, onnx::AttributeProto::FLOAT).set_f(static_cast<float>(value));
}
void set_string(onnx::NodeProto& n, const std::string& name, const std::string& value) {
  attribute(n, name, onnx::AttributeProto::STRING).set_s(value);
}

// ---- one traced op as ONNX operators ----

// What a translation is given: the traced op, the names of its inputs (empty for an absent one)
// and the name its output must have.
struct Translation {
  const TracedOp& op;
  std::vector<std::string> in;
  std::string out;
  OnnxGraph& graph;

  const Shape& input_shape(size_t i) const { return op.inputs[i].shape(); }
  const Shape& output_shape() const { return op.output.shape(); }
  int64_t integer(const std::string& name) const { return op.settings.integer(name); }
  onnx::NodeProto& to(const std::string& op_type, const std::vector<std::string>& inputs) {
    return graph.node(op_type, inputs, {out});
  }
  // (..., M, K) with its last two axes swapped: a matrix product's transposed operand
  std::string transposed(const std::string& value, int64_t rank) {
    std::vector<int64_t> order(rank);
    std::iota(order.begin(), order.end(), 0);
    std::swap(order[rank - 2], order[rank - 1]);
    onnx::NodeProto* n;
    const std::string t = graph.step("Transpose", {value}, &n);
    set_ints(*n, "perm", order);
    return t;
  }
  std::string reshaped(const std::string& value, const Shape& shape) {
    return graph.step("Reshape", {value, graph.int64_list(shape)});
  }
};

using Translator = std::function<void(Translation&)>;

// An op that is one ONNX operator of the same inputs: add -> Add(a, b), relu -> Relu(x)
Translator same_inputs(const std::string& op_type) {
  return [op_type](Translation& t) { t.to(op_type, t.in); };
}

// x op s, the scalar a constant: add_scalar -> Add(x, s)
Translator with_scalar(const std::string& op_type, const std::string& setting) {
  return [op_type, setting](Translation& t) {
    t.to(op_type, {t.in[0], t.graph.scalar(t.op.settings.real_number(setting))});
  };
}

// The axes of sum, mean and max as ONNX lists them: an empty list is every axis.
std::vector<int64_t> reduced_axes(const Translation& t) {
  std::vector<int64_t> axes = t.op.settings.integers("axes");
  if (axes.empty()) {
    axes.resize(t.input_shape(0).size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  return axes;
}

void reduce_sum(Translation& t) {  // opset 13 on: the axes are an input
  set_int(t.to("ReduceSum", {t.in[0], t.graph.int64_list(reduced_axes(t))}), "keepdims", t.integer("keepdim"));
}
Translator reduce_with_axes_attribute(const std::string& op_type) {  // ReduceMean, ReduceMax until opset 18
  return [op_type](Translation& t) {
    onnx::NodeProto& n = t.to(op_type, {t.in[0]});
    set_ints(n, "axes", reduced_axes(t));
    set_int(n, "keepdims", t.integer("keepdim"));
  };
}

void clamp(Translation& t) {
  t.to("Clip",
       {t.in[0], t.graph.scalar(t.op.settings.real_number("low")), t.graph.scalar(t.op.settings.real_number("high"))});
}

Translator softmax_like(const std::string& op_type) {
  return [op_type](Translation& t) { set_int(t.to(op_type, {t.in[0]}), "axis", t.integer("axis")); };
}

// ---- shapes ----

void reshape(Translation& t) { t.to("Reshape", {t.in[0], t.graph.int64_list(t.output_shape())}); }

void permute(Translation& t) { set_ints(t.to("Transpose", {t.in[0]}), "perm", t.op.settings.integers("order")); }

void concat(Translation& t) { set_int(t.to("Concat", t.in), "axis", t.integer("axis")); }

void slice(Translation& t) {
  t.to("Slice", {t.in[0], t.graph.int64_list({t.integer("start")}), t.graph.int64_list({t.integer("end")}),
                 t.graph.int64_list({t.integer("axis")})});
}

void pad(Translation& t) {  // ONNX lists every axis's start, then every axis's end
  std::vector<int64_t> pads = t.op.settings.integers("before");
  const std::vector<int64_t>& after = t.op.settings.integers("after");
  pads.insert(pads.end(), after.begin(), after.end());
  onnx::NodeProto& n =
      t.to("Pad", {t.in[0], t.graph.int64_list(pads), t.graph.scalar(t.op.settings.real_number("value"))});
  set_string(n, "mode", "constant");
}

// ---- products ----

void matmul(Translation& t) {  // (M,K)(K,N): Gemm takes the two transposes as attributes
  onnx::NodeProto& n = t.to("Gemm", {t.in[0], t.in[1]});
  set_int(n, "transA", t.integer("transpose_a"));
  set_int(n, "transB", t.integer("transpose_b"));
}

void bmm(Translation& t) {  // (B,M,K)(B,K,N): MatMul, operands transposed first where asked
  const std::string a = t.integer("transpose_a") ? t.transposed(t.in[0], 3) : t.in[0];
  const std::string b = t.integer("transpose_b") ? t.transposed(t.in[1], 3) : t.in[1];
  t.to("MatMul", {a, b});
}

// ---- convolution and pooling ----

std::vector<std::string> present(const std::vector<std::string>& names) {  // without an absent bias
  std::vector<std::string> kept;
  for (const std::string& name : names)
    if (!name.empty()) kept.push_back(name);
  return kept;
}

void conv2d(Translation& t) {
  const Shape& w = t.input_shape(1);  // (K, C, KH, KW)
  const int64_t s = t.integer("stride"), p = t.integer("padding");
  onnx::NodeProto& n = t.to("Conv", present(t.in));
  set_ints(n, "kernel_shape", {w[2], w[3]});
  set_ints(n, "strides", {s, s});
  set_ints(n, "pads", {p, p, p, p});
}

void conv1d(Translation& t) {
  const int64_t p = t.integer("padding");
  onnx::NodeProto& n = t.to("Conv", present(t.in));
  set_ints(n, "kernel_shape", {t.input_shape(1)[2]});
  set_ints(n, "pads", {p, p});
}

// glimpse pads a max pool with -inf and counts an average pool's padding (PyTorch's defaults),
// as MaxPool and AveragePool with count_include_pad do
Translator pool(const std::string& op_type) {
  return [op_type](Translation& t) {
    const int64_t k = t.integer("kernel"), s = t.integer("stride"), p = t.integer("padding");
    onnx::NodeProto& n = t.to(op_type, {t.in[0]});
    set_ints(n, "kernel_shape", {k, k});
    set_ints(n, "strides", {s, s});
    set_ints(n, "pads", {p, p, p, p});
    if (op_type == "AveragePool") set_int(n, "count_include_pad", 1);
  };
}

void global_avg_pool2d(Translation& t) {  // (N,C,H,W) -> (N,C,1,1) -> (N,C)
  onnx::NodeProto& n = t.to("Flatten", {t.graph.step("GlobalAveragePool", {t.in[0]})});
  set_int(n, "axis", 1);
}

void channel_mean(Translation& t) {
  onnx::NodeProto& n = t.to("ReduceMean", {t.in[0]});
  set_ints(n, "axes", {1});
  set_int(n, "keepdims", 1);
}

// align_corners = false is half_pixel: src = (dst + 0.5) * in / out - 0.5, clamped at 0 (upsample.cpp)
void upsample_bilinear2d(Translation& t) {
  onnx::NodeProto& n = t.to("Resize", {t.in[0], "", "", t.graph.int64_list(t.output_shape())});
  set_string(n, "mode", "linear");
  set_string(n, "coordinate_transformation_mode", t.integer("align_corners") ? "align_corners" : "half_pixel");
}

// ---- normalisation ----

void check_evaluation_mode(Translation& t) {
  if (t.integer("training"))
    fail("export_onnx: " + t.op.op + " ran in training mode; export the model in evaluation mode (model.eval())");
}

void batch_norm(Translation& t) {
  check_evaluation_mode(t);
  // inputs: x, gamma, beta, then the running mean and variance (the op's constants)
  set_float(t.to("BatchNormalization", t.in), "epsilon", t.op.settings.real_number("eps"));
}

void batch_norm_relu(Translation& t) {  // the fused op as the two it fuses
  check_evaluation_mode(t);
  onnx::NodeProto* normalisation = nullptr;
  const std::string normalised = t.graph.step("BatchNormalization", t.in, &normalisation);
  set_float(*normalisation, "epsilon", t.op.settings.real_number("eps"));
  t.to("Relu", {normalised});
}

void layer_norm(Translation& t) {  // normalised over the last gamma.dim() axes
  onnx::NodeProto& n = t.to("LayerNormalization", t.in);
  set_int(n, "axis", -static_cast<int64_t>(t.input_shape(1).size()));
  set_float(n, "epsilon", t.op.settings.real_number("eps"));
}

void dropout(Translation& t) {
  fail("export_onnx: " + t.op.op + " ran in training mode; export the model in evaluation mode (model.eval())");
}

// ---- sampling ----

// affine_grid has no ONNX operator before opset 20. Its grid is linear in theta, so it is one
// product: each output pixel's normalised (x_j, y_i, 1), a constant (OH*OW, 3), times theta^T.
//   grid[n, i, j, :] = theta[n] (x_j, y_i, 1)^T,   x_j = (2j + 1) / OW - 1,  y_i = (2i + 1) / OH - 1
void affine_grid(Translation& t) {
  const Shape& out = t.output_shape();  // (N, OH, OW, 2)
  const int64_t N = out[0], OH = out[1], OW = out[2];
  std::vector<real> base;
  for (int64_t i = 0; i < OH; i++)
    for (int64_t j = 0; j < OW; j++)
      base.insert(base.end(), {static_cast<real>(2 * j + 1) / OW - 1, static_cast<real>(2 * i + 1) / OH - 1, 1});
  const std::string pixels = t.graph.floats(t.graph.fresh("affine_grid_pixels"), {OH * OW, 3}, base.data());
  const std::string grid = t.graph.step("MatMul", {pixels, t.transposed(t.in[0], 3)});  // (N, OH*OW, 2)
  t.to("Reshape", {grid, t.graph.int64_list({N, OH, OW, 2})});
}

void grid_sample(Translation& t) {  // bilinear, zeros outside, align_corners = false (grid_sample.cpp)
  onnx::NodeProto& n = t.to("GridSample", t.in);
  set_string(n, "mode", "bilinear");
  set_string(n, "padding_mode", "zeros");
  set_int(n, "align_corners", 0);
}

// ---- attention over positions: ops of glimpse's own, written with a constant index table ----

// (N, C, H, W) -> (N, H*W, C): the positions as rows
std::string positions_as_rows(Translation& t, const std::string& x, const Shape& shape) {
  const std::string flat = t.reshaped(x, {shape[0], shape[1], shape[2] * shape[3]});
  return t.transposed(flat, 3);
}

// key[n, u, t] = criss_cross_key(u, t), repeated over the batch: GatherElements and ScatterElements
// need an index per element
std::string criss_cross_keys(Translation& t, int64_t N, int64_t H, int64_t W) {
  const int64_t HW = H * W, T = H + W - 1;
  std::vector<int64_t> keys;
  for (int64_t n = 0; n < N; n++)
    for (int64_t u = 0; u < HW; u++)
      for (int64_t k = 0; k < T; k++) keys.push_back(criss_cross_key(u, k, H, W));
  return t.graph.int64s(t.graph.fresh("criss_cross_keys"), {N, HW, T}, keys);
}

// E[n,u,t] = Q[n,:,u] . K[n,:,key(u,t)]: every query against every key (N, HW, HW), then each
// position's H+W-1 keys gathered from its row
void criss_cross_logits(Translation& t) {
  const Shape& q = t.input_shape(0);  // (N, C, H, W)
  const int64_t N = q[0], C = q[1], H = q[2], W = q[3];
  const std::string all =
      t.graph.step("MatMul", {positions_as_rows(t, t.in[0], q), t.reshaped(t.in[1], {N, C, H * W})});
  onnx::NodeProto* gather;
  const std::string picked = t.graph.step("GatherElements", {all, criss_cross_keys(t, N, H, W)}, &gather);
  set_int(*gather, "axis", 2);
  t.to("Reshape", {picked, t.graph.int64_list(t.output_shape())});
}

// out[n,:,u] = sum_t A[n,u,t] V[n,:,key(u,t)]: A scattered into a dense (N, HW, HW) of weights
// (zero off the criss-cross), then one product with V
void criss_cross_sum(Translation& t) {
  const Shape& v = t.input_shape(1);  // (N, C, H, W)
  const int64_t N = v[0], C = v[1], H = v[2], W = v[3], HW = H * W;
  const std::vector<real> zeros(static_cast<size_t>(N * HW * HW), 0);
  const std::string empty = t.graph.floats(t.graph.fresh("criss_cross_zeros"), {N, HW, HW}, zeros.data());
  onnx::NodeProto* scatter;
  const std::string weights = t.graph.step(
      "ScatterElements", {empty, criss_cross_keys(t, N, H, W), t.reshaped(t.in[0], {N, HW, H + W - 1})}, &scatter);
  set_int(*scatter, "axis", 2);
  const std::string sums = t.graph.step("MatMul", {t.reshaped(t.in[1], {N, C, HW}), t.transposed(weights, 3)});
  t.to("Reshape", {sums, t.graph.int64_list(t.output_shape())});
}

// L[b,i,j] = qw[b,i, x_j-x_i+W-1] + qh[b,i, y_j-y_i+H-1], with qw = q^T rel_w^T (B, HW, 2W-1) and
// qh likewise: the two products, then each gathered by a constant table of offsets
void relative_logits(Translation& t) {
  const Shape& q = t.input_shape(0);  // (B, D, H, W)
  const int64_t B = q[0], H = q[2], W = q[3], HW = H * W;
  const std::string rows = positions_as_rows(t, t.in[0], q);  // (B, HW, D)
  auto gathered = [&](const std::string& table, bool along_width) {
    const std::string scores = t.graph.step("MatMul", {rows, t.transposed(table, 2)});  // (B, HW, 2W-1 or 2H-1)
    std::vector<int64_t> offset;
    for (int64_t b = 0; b < B; b++)
      for (int64_t i = 0; i < HW; i++)
        for (int64_t j = 0; j < HW; j++) offset.push_back(along_width ? j % W - i % W + W - 1 : j / W - i / W + H - 1);
    onnx::NodeProto* gather;
    const std::string picked = t.graph.step(
        "GatherElements", {scores, t.graph.int64s(t.graph.fresh("relative_offsets"), {B, HW, HW}, offset)}, &gather);
    set_int(*gather, "axis", 2);
    return picked;
  };
  t.to("Add", {gathered(t.in[1], true), gathered(t.in[2], false)});
}

const std::map<std::string, Translator>& translators() {
  static const std::map<std::string, Translator> table = {
      {"add", same_inputs("Add")},
      {"sub", same_inputs("Sub")},
      {"mul", same_inputs("Mul")},
      {"div", same_inputs("Div")},
      {"neg", same_inputs("Neg")},
      {"exp", same_inputs("Exp")},
      {"log", same_inputs("Log")},
      {"sqrt", same_inputs("Sqrt")},
      {"abs", same_inputs("Abs")},
      {"relu", same_inputs("Relu")},
      {"sigmoid", same_inputs("Sigmoid")},
      {"tanh", same_inputs("Tanh")},
      {"add_scalar", with_scalar("Add", "scalar")},
      {"mul_scalar", with_scalar("Mul", "scalar")},
      {"pow", with_scalar("Pow", "exponent")},
      {"clamp", clamp},
      {"sum", reduce_sum},
      {"mean", reduce_with_axes_attribute("ReduceMean")},
      {"max", reduce_with_axes_attribute("ReduceMax")},
      {"softmax", softmax_like("Softmax")},
      {"log_softmax", softmax_like("LogSoftmax")},
      {"reshape", reshape},
      {"permute", permute},
      {"concat", concat},
      {"slice", slice},
      {"pad", pad},
      {"matmul", matmul},
      {"bmm", bmm},
      {"conv2d", conv2d},
      {"conv1d", conv1d},
      {"max_pool2d", pool("MaxPool")},
      {"avg_pool2d", pool("AveragePool")},
      {"global_avg_pool2d", global_avg_pool2d},
      {"channel_mean", channel_mean},
      {"upsample_bilinear2d", upsample_bilinear2d},
      {"batch_norm", batch_norm},
      {"batch_norm_relu", batch_norm_relu},
      {"layer_norm", layer_norm},
      {"dropout", dropout},
      {"dropout2d", dropout},
      {"affine_grid", affine_grid},
      {"grid_sample", grid_sample},
      {"criss_cross_logits", criss_cross_logits},
      {"criss_cross_sum", criss_cross_sum},
      {"relative_logits", relative_logits},
  };
  return table;
}

// ---- from the trace to the graph ----

// Walks back from the output through the traced ops, writing each op after the ops it reads.
class TraceWriter {
 public:
  TraceWriter(const Tracer& tracer, const Module& model, const Tensor& input, OnnxGraph& graph)
      : tracer_(tracer), input_(input), graph_(graph), producer_(tracer.producers()) {
    for (const auto& [name, t] : model.state()) state_names_[t.impl()] = name;
  }

  // The name of the value `t` in the graph, writing what it takes to compute it first.
  std::string value_of(const Tensor& t, const std::string& wanted_name = "") {
    if (!t.defined()) return "";  // an absent optional input: ONNX's empty name
    if (auto known = names_.find(t.impl()); known != names_.end()) return known->second;
    std::string name;
    if (t.same(input_)) {
      name = "input";
    } else if (auto state = state_names_.find(t.impl()); state != state_names_.end()) {
      name = graph_.floats(state->second, t);
    } else if (auto op = producer_.find(t.impl()); op != producer_.end()) {
      name = write(tracer_.ops()[op->second], wanted_name);
    } else if (t.grad_fn()) {
      fail("export_onnx: a tensor of shape " + shape_str(t.shape()) + " comes from op '" + t.grad_fn()->name() +
           "', which did not report itself to the Tracer");
    } else {
      name = graph_.floats(graph_.fresh("constant"), t);  // made from no input, we hope: see check_constants
      constants_.push_back(t);
    }
    names_[t.impl()] = name;
    return name;
  }

  // The tensors that came from neither the input, nor a weight, nor a traced op, in the order met.
  const std::vector<Tensor>& constants() const { return constants_; }

 private:
  std::string write(const TracedOp& op, const std::string& wanted_name) {
    auto translator = translators().find(op.op);
    if (translator == translators().end())
      fail("export_onnx: op '" + op.op + "' has no ONNX form in glimpse (docs/USING.md lists what exports)");
    Translation t{op, {}, wanted_name.empty() ? graph_.fresh(op.op) : wanted_name, graph_};
    for (const Tensor& input : op.inputs) t.in.push_back(value_of(input));
    for (const Tensor& constant : op.settings.constants) t.in.push_back(value_of(constant));
    translator->second(t);
    return t.out;
  }

  const Tracer& tracer_;
  const Tensor& input_;
  OnnxGraph& graph_;
  const std::map<const TensorImpl*, size_t> producer_;
  std::map<const TensorImpl*, std::string> state_names_;
  std::map<const TensorImpl*, std::string> names_;
  std::vector<Tensor> constants_;
};

// One forward of the model on `input`, traced and written into `graph` with its output named
// "logits". Returns the forward's output and the constants the graph took.
std::pair<Tensor, std::vector<Tensor>> write_forward(Module& model, const Tensor& input, onnx::GraphProto& graph) {
  Tracer tracer;
  Tensor output = model.forward(input);
  OnnxGraph writer(graph);
  TraceWriter trace(tracer, model, input, writer);
  if (trace.value_of(output, "logits") != "logits")
    fail("export_onnx: the model's output is not computed by an op (an input or a weight returned as it is)");
  return {output, trace.constants()};
}

// A forward may compute a tensor from the input without the engine's ops (a loop over data(), as
// dasNet's policy reads its observation) and without a graph to show it (no grad_fn under a
// NoGradGuard): the trace would take it for a constant and the file would be silently wrong. So
// the forward is written twice, from two different inputs: the graphs must have the same
// operators and every constant the same values.
void check_constants(const onnx::GraphProto& first, const std::vector<Tensor>& first_constants,
                     const onnx::GraphProto& second, const std::vector<Tensor>& second_constants) {
  if (first.node_size() != second.node_size() || first_constants.size() != second_constants.size())
    fail("export_onnx: the ops the forward runs change with the input's values; one ONNX graph cannot hold them");
  for (size_t i = 0; i < first_constants.size(); i++)
    if (first_constants[i].to_vector() != second_constants[i].to_vector())
      fail("export_onnx: a tensor of shape " + shape_str(first_constants[i].shape()) +
           " depends on the input but was computed outside the engine's ops, where a Tracer cannot see it");
}

void add_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& list, const std::string& name,
                    const Shape& shape) {
  onnx::ValueInfoProto& v = *list.Add();
  v.set_name(name);
  onnx::TypeProto::Tensor& type = *v.mutable_type()->mutable_tensor_type();
  type.set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) type.mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace

std::string onnx_model_bytes(Module& model, const Shape& input_shape, OnnxExport* summary) {
  if (model.is_training()) fail("export_onnx: the model is in training mode; call model.eval() first");
  Rng rng(1);
  std::vector<Tensor> inputs;
  for (int i = 0; i < 2; i++) {
    inputs.push_back(Tensor::normal(input_shape, 0, 1, rng));
    inputs.back().set_requires_grad(true);  // what is computed from it outside the traced ops shows a grad_fn
  }

  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("glimpse");
  proto.set_producer_version(GLIMPSE_VERSION);
  onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(model.type_name());
  const auto [output, constants] = write_forward(model, inputs[0], graph);
  onnx::GraphProto again;
  const std::vector<Tensor> constants_again = write_forward(model, inputs[1], again).second;
  check_constants(graph, constants, again, constants_again);
  add_value_info(*graph.mutable_input(), "input", input_shape);
  add_value_info(*graph.mutable_output(), "logits", output.shape());

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    fail(std::string("export_onnx: the ONNX checker refuses the graph: ") + e.what());
  }
  if (summary) *summary = {graph.node_size(), graph.initializer_size(), output.shape()};
  return proto.SerializeAsString();
}

OnnxExport export_onnx(Module& model, const Shape& input_shape, const std::string& path) {
  OnnxExport summary;
  const std::string bytes = onnx_model_bytes(model, input_shape, &summary);
  write_file_atomically(path, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "ONNX model");
  return summary;
}

}  // namespace glimpse
