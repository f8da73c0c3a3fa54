// Sequential: a chain of modules, each fed the previous one's output.
//
//   y = m_{k-1}( ... m_1(m_0(x)) ... )
//
// The children are named by position, "0", "1", ..., so the parameters of the second module of
// a stage are "layer1.1.conv1.weight", as in PyTorch.
#pragma once

#include <memory>
#include <vector>

#include "layers/module.h"

namespace glimpse {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

  // Appends m as child "<size()>" and returns it, typed: auto conv = seq.push_back(make_shared<Conv2d>(...));
  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    return add_module(std::to_string(size()), std::move(m));
  }
  size_t size() const { return children().size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const;

  std::string type_name() const override { return "Sequential"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace glimpse
