#include "engine/autograd.h"

#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace glimpse {

namespace {
thread_local bool grad_mode = true;
bool anomaly_mode = false;

bool all_finite(const Tensor& t) {
  const real* p = t.data();
  for (int64_t i = 0; i < t.numel(); i++)
    if (!std::isfinite(p[i])) return false;
  return true;
}
}  // namespace

bool grad_enabled() { return grad_mode; }
NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }
void set_detect_anomaly(bool on) { anomaly_mode = on; }
bool detect_anomaly() { return anomaly_mode; }

Tensor Node::input_grad(size_t i) {
  const Edge& input = inputs[i];
  if (!needs_grad(i)) return Tensor::zeros(input.shape);  // discarded by the caller
  if (!input.autograd->grad) input.autograd->grad = Tensor::zeros(input.shape).impl_ptr();
  return Tensor(input.autograd->grad);
}

Tensor record(Tensor out, std::shared_ptr<Node> node, std::vector<Tensor> inputs, OpSettings settings) {
  if (anomaly_mode && !all_finite(out))
    fail(node->name() + ": forward produced a non-finite value in an output of shape " + shape_str(out.shape()) +
         " (anomaly detection)");
  if (Tracer* tracer = active_tracer()) tracer->add({node->name(), inputs, out, std::move(settings)});
  if (!grad_mode) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  // The edges: each input's autograd record and shape, not its data (Note [Edges do not own data]).
  // An absent optional input (no bias) becomes a constant of shape (0).
  node->inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    if (!t.defined())
      node->inputs.push_back({nullptr, {0}});
    else
      node->inputs.push_back({t.requires_grad() ? t.impl()->autograd : nullptr, t.shape()});
  }
  AutogradMeta& meta = out.impl()->autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  return out;
}

// Topological order of the tensors that lead to `root` (their autograd records), inputs before
// outputs (iterative DFS, so a deep graph, e.g. an unrolled RNN, cannot overflow the stack). The
// order owns its records: backward() frees each node's edges as it goes, and a record held only by
// a node (the operands of sum(a) + sum(b)) must outlive that until its own turn comes.
static std::vector<std::shared_ptr<AutogradMeta>> topological_order(const std::shared_ptr<AutogradMeta>& root) {
  std::vector<std::shared_ptr<AutogradMeta>> order;
  std::unordered_set<AutogradMeta*> visited{root.get()};
  std::vector<std::pair<std::shared_ptr<AutogradMeta>, size_t>> stack{{root, 0}};  // (tensor, next input to visit)
  while (!stack.empty()) {
    auto& [t, next] = stack.back();
    Node* node = t->grad_fn.get();
    if (node && next < node->inputs.size()) {
      const std::shared_ptr<AutogradMeta>& input = node->inputs[next++].autograd;
      if (input && input->requires_grad && visited.insert(input.get()).second) stack.emplace_back(input, 0);
    } else {
      order.push_back(std::move(t));
      stack.pop_back();
    }
  }
  return order;
}

// For each leaf of the graph that requires a gradient, how many of the graph's edges read it: its
// gradient is complete when that many nodes have run their backward.
static std::unordered_map<const AutogradMeta*, int> leaf_readers(
    const std::vector<std::shared_ptr<AutogradMeta>>& order) {
  std::unordered_map<const AutogradMeta*, int> readers;
  for (const std::shared_ptr<AutogradMeta>& t : order)
    if (t->grad_fn)
      for (const Edge& input : t->grad_fn->inputs)
        if (input.autograd && input.autograd->requires_grad && !input.autograd->grad_fn)
          readers[input.autograd.get()]++;
  return readers;
}

// After a node's backward: each input's gradient has the input's shape (PyTorch's
// validate_outputs), and, under anomaly detection, is finite.
static void check_gradients_of(const Node& node) {
  for (size_t i = 0; i < node.inputs.size(); i++) {
    const Edge& input = node.inputs[i];
    if (!node.needs_grad(i) || !input.autograd->grad) continue;
    const Tensor grad(input.autograd->grad);
    if (grad.shape() != input.shape)
      fail(node.name() + " backward: gradient of shape " + shape_str(grad.shape()) + " for an input of shape " +
           shape_str(input.shape));
    if (anomaly_mode && !all_finite(grad))
      fail(node.name() + " backward: produced a non-finite gradient for an input of shape " + shape_str(input.shape) +
           " (anomaly detection)");
  }
}

void backward(const Tensor& loss, bool retain_graph, const LeafGradientReady& on_leaf_ready) {
  if (!loss.defined()) fail("backward: the loss tensor is undefined");
  if (loss.numel() != 1)
    fail("backward: the loss must have one element, got shape " + shape_str(loss.shape()) +
         " (reduce it first, e.g. with mean())");
  if (!loss.requires_grad())
    fail(
        "backward: the loss does not require a gradient: no input of the graph requires one, "
        "it was computed in no-grad mode, or its graph was already freed by an earlier backward "
        "(pass retain_graph = true to backward twice through one graph)");

  const std::shared_ptr<AutogradMeta>& root = loss.impl()->autograd;
  std::vector<std::shared_ptr<AutogradMeta>> order = topological_order(root);
  if (!root->grad) root->grad = Tensor::zeros(loss.shape()).impl_ptr();
  root->grad->storage->data()[0] += 1;                  // dloss/dloss = 1
  std::unordered_map<const AutogradMeta*, int> unread;  // leaf -> the readers whose backward is still to run
  if (on_leaf_ready) unread = leaf_readers(order);

  // NOLINTNEXTLINE(modernize-loop-convert): std::views::reverse does not compile under clang 14
  for (auto it = order.rbegin(); it != order.rend(); ++it) {  // from the loss back to the leaves
    std::shared_ptr<AutogradMeta> t = std::move(*it);         // released after its step unless held elsewhere
    std::shared_ptr<Node> node = t->grad_fn;
    if (!node || !t->grad) continue;  // a leaf, or a branch that no gradient reached
    node->backward(Tensor(t->grad));
    check_gradients_of(*node);
    if (on_leaf_ready)
      for (const Edge& input : node->inputs) {
        auto leaf = unread.find(input.autograd.get());
        if (leaf != unread.end() && --leaf->second == 0) on_leaf_ready(*input.autograd);
      }
    t->grad.reset();  // an intermediate's gradient is used once, not kept (leaves keep theirs)
    if (!retain_graph) {
      t->grad_fn.reset();
      t->requires_grad = false;  // the graph behind it is gone
      node->inputs.clear();
    }
  }
}

}  // namespace glimpse
