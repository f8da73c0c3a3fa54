#include "layers/sequential.h"

namespace glimpse {

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& m : modules) push_back(m);
}

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  if (i >= size())
    fail("Sequential: index " + std::to_string(i) + " out of range for " + std::to_string(size()) + " modules");
  return children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, m] : children()) y = m->forward(y);
  return y;
}

}  // namespace glimpse
