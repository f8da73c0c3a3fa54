// Module: the base of every layer and model; a named registry of parameters, buffers and children.
//
// The shape of libtorch's nn::Module, without holders or macros. A layer registers what it owns
// in its constructor and keeps plain members that refer to the same tensors:
//
//   class Linear : public Module {
//     Linear(...) { weight = add_parameter("weight", Tensor::empty({out, in})); ... }
//     Tensor forward(const Tensor& x) override { return linear(x, weight, bias); }
//     Tensor weight, bias;
//   };
//
// Note [Registered tensors are handles]
// add_parameter stores a Tensor handle in the registry and the layer copies that handle into its
// member, so both name the same TensorImpl: an optimiser that writes parameters()[i].data()
// changes the layer's weight, and a backward that fills weight.grad() fills parameters()[i].grad().
// Change a parameter's values in place (through data()); never assign a new tensor to the member,
// or the member and the registry would part ways.
//
// Names: a module's own parameters, buffers and children share one namespace, and a name may
// not repeat or contain '.'. named_parameters() joins the names along the tree with '.', as
// PyTorch does ("layer1.0.conv1.weight"), listing a module's own tensors before its children's,
// each in registration order.
//
// Note [Observing a forward]
// A layer marks what a reader may want to see of its forward, an attention map say, with
// observe("map", M). Nothing is kept unless an Observer is alive: then every such value in the
// tree it watches is recorded, detached, under its path in the tree, as parameters are named:
//
//   Observer seen(*model);
//   model->forward(x);
//   Tensor M = seen.get("layer3.2.attention.spatial.map");     // (N, 1, 8, 8)
//
// It is PyTorch's forward hook turned to the values inside a module rather than its output. Layers
// keep nothing of their last call, and a model drawn for a picture is asked through one door.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

using NamedTensor = std::pair<std::string, Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;  // a module owns its registry; share it through shared_ptr
  Module& operator=(const Module&) = delete;

  virtual std::string type_name() const = 0;           // "Conv2d"
  virtual std::string describe() const { return ""; }  // "16, 32, kernel=3, stride=2, padding=1, bias=false"
  virtual Tensor forward(const Tensor& x);             // default: an Error, for modules with other inputs
  Tensor operator()(const Tensor& x) { return forward(x); }

  std::vector<Tensor> parameters() const;             // recursive, registration order
  std::vector<NamedTensor> named_parameters() const;  // "layer1.0.conv1.weight"
  std::vector<NamedTensor> named_buffers() const;     // not trained: BN running statistics
  std::vector<NamedTensor> state() const;             // parameters then buffers: what a checkpoint saves
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  void train(bool on = true);  // recursive; layers read is_training() (BN, dropout)
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Re-seeds the Rng of every stochastic layer in the tree (dropout) from `seed` and the layer's
  // place in the tree: a trainer that reseeds before each step from (run seed, step) draws the
  // same masks again when a run is resumed from a checkpoint.
  void reseed(uint64_t seed);

  void zero_grad();  // drops the gradient of every parameter
  int64_t parameter_count() const;
  std::string print() const;  // the tree, one module per line, indented, with parameter counts

 protected:
  // Each returns the registered handle, to be copied into the layer's member at once.
  Tensor& add_parameter(const std::string& name, Tensor t);  // marks t requires_grad
  Tensor& add_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> add_module(const std::string& name, std::shared_ptr<M> m) {
    register_module(name, m);
    return m;
  }
  virtual void reseed_self(uint64_t seed) {}  // overridden by layers that own an Rng
  // Hands `value` to the Observer watching this module, if there is one (Note [Observing a forward]).
  void observe(const std::string& what, const Tensor& value) const;

 private:
  void register_module(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const;
  void print_tree(const std::string& name, int depth, std::string& out) const;

  std::vector<NamedTensor> parameters_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Records the values the modules of one tree observe while it is alive (Note [Observing a
// forward]). One at a time: a second Observer replaces the first until it is destroyed.
class Observer {
 public:
  explicit Observer(const Module& root);
  ~Observer();
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  const std::vector<NamedTensor>& values() const { return values_; }      // in the order observed
  Tensor get(const std::string& path) const;                              // an Error listing the paths if absent
  std::vector<NamedTensor> ending_with(const std::string& suffix) const;  // e.g. every ".spatial.map"
  void clear() { values_.clear(); }

 private:
  friend class Module;
  void record(const Module* module, const std::string& what, const Tensor& value);
  void name_tree(const Module& module, const std::string& prefix);

  std::map<const Module*, std::string> paths_;  // each module of the tree -> "layer3.2.attention."
  std::vector<NamedTensor> values_;
  Observer* previous_;
};

}  // namespace glimpse
