// Reverse-mode automatic differentiation on a define-by-run tape.
//
// Every op that runs while grad mode is on, with at least one input that requires a gradient,
// creates a Node (its backward function) and records it as the grad_fn of its output:
//
//     x ──┐                    y.grad_fn = MulBackward{inputs = {x, w}, saved x, w}
//         ├─ mul ──> y
//     w ──┘
//
// backward(loss) sorts the tensors reachable from loss topologically, seeds dloss = 1, and walks
// them from the loss back to the leaves; at each tensor t with a grad_fn it calls
// t.grad_fn->backward(t.grad), which ADDS its contribution to each input's gradient.
// See docs/ARCHITECTURE.md for the picture, and the Notes below for the subtle rules.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "engine/trace.h"

namespace glimpse {

// Note [Edges do not own data]
// A tensor is two things: its values (TensorImpl::storage) and its place in the graph
// (TensorImpl::autograd: requires_grad, grad, grad_fn). An edge of the graph points at the
// second only, plus the input's shape, which is all that sizing its gradient needs:
//
//     Edge{autograd, shape} ──> AutogradMeta{requires_grad, grad, grad_fn ──> the next Node}
//
// So recording an op keeps none of its inputs' values alive. A backward that reads an input's
// values (mul reads both operands, conv2d reads x and w) saves them explicitly, as detach()ed
// tensors, in its Node, as PyTorch's save_for_backward does; one that needs only a shape (add,
// reshape, slice, average pooling) saves nothing. An intermediate that no backward reads (a
// batch-norm output that feeds a ReLU, which saves its own output; the operands of an add) is
// freed as soon as the forward drops its last handle, instead of at the backward: resnet20 and
// attention56 hold ~40 % less at the end of their forward (bench/PERF.md, "Memory").
// - The records stay: the graph is nodes and AutogradMetas, a few dozen bytes each. backward()
//   walks the records, and an intermediate's gradient lives in its record, so it works the
//   same whether or not the tensor itself is still alive.
// - An input that needed no gradient when the op ran gets a null edge: a constant of this graph
//   (calling set_requires_grad on it later does not reach back into the graph, as in PyTorch).
struct Edge {
  std::shared_ptr<AutogradMeta> autograd;  // null: the input needed no gradient (a constant here)
  Shape shape;
};

struct Node {
  virtual ~Node() = default;
  virtual std::string name() const = 0;           // e.g. "conv2d", used in error messages
  virtual void backward(const Tensor& dout) = 0;  // add d(loss)/d(input i) into input_grad(i)

  std::vector<Edge> inputs;  // the edges of the graph: where the tensors this op read sit in it

  bool needs_grad(size_t i) const { return inputs[i].autograd && inputs[i].autograd->requires_grad; }
  const Shape& input_shape(size_t i) const { return inputs[i].shape; }
  // The gradient buffer of input i, zeroed on first use, into which backward adds (+=).
  // For an input that needs no gradient it returns a throw-away zero buffer, so a simple
  // backward may ignore needs_grad() (an expensive one should test it and skip the work); that
  // buffer lives only as long as the returned Tensor, so hold it while writing into it:
  // `Tensor dx = input_grad(0); real* p = dx.data();`, not `real* p = input_grad(0).data();`.
  Tensor input_grad(size_t i);
};

// Note [Saved tensors and cycles]
// A node must never hold a handle to its own output: the output holds the node (grad_fn), so
// the pair would keep each other alive forever. A node that needs its output (sigmoid, exp,
// softmax) saves y.detach(), a new handle onto the same storage with no grad_fn. Saved inputs
// are detach()ed too: the edge already links the node to the input's place in the graph, and a
// saved handle should hold values, nothing more.
// After backward() has used a node it drops the node's inputs, so the graph of a step is freed
// even while the user still holds the loss.

// Records `node` as the producer of `out`, if grad mode is on and any input requires a
// gradient; otherwise the node is dropped and `out` stays outside the graph. Returns `out`.
// `settings`: what a Tracer needs besides the inputs to run the op again (Note [Tracing a
// forward] in trace.h); nothing else reads them.
Tensor record(Tensor out, std::shared_ptr<Node> node, std::vector<Tensor> inputs, OpSettings settings = {});

// Called during a backward pass with each leaf that requires a gradient (a parameter) as soon as
// its gradient is complete: after the last op that reads it has added its share. Data
// parallelism starts averaging a gradient over the processes while the rest of the backward
// runs (train/data_parallel.h). A leaf that only branches no gradient reached read is not reported.
using LeafGradientReady = std::function<void(const AutogradMeta& leaf)>;

// Runs the backward pass from a one-element tensor. retain_graph keeps the nodes for a second
// backward through the same graph; gradients of leaves accumulate across calls.
void backward(const Tensor& loss, bool retain_graph = false, const LeafGradientReady& on_leaf_ready = {});

// Note [No-grad mode]
// Inside a NoGradGuard's scope ops record nothing: used for evaluation, for optimiser updates and
// for anything that must not be differentiated (REINFORCE's sampled locations, SNES's policy).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Anomaly detection: when on, every recorded op checks that its output is finite and every
// backward checks the gradients it produced, and the first non-finite value raises an Error
// that names the op. Slow; for hunting a NaN (trainers: --detect-anomaly).
void set_detect_anomaly(bool on);
bool detect_anomaly();

}  // namespace glimpse
