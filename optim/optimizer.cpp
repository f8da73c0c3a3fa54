#include "optim/optimizer.h"

#include "optim/adam.h"
#include "optim/sgd.h"

#include <algorithm>
#include <set>

namespace glimpse {

Optimizer::Optimizer(std::vector<Tensor> params_, real lr_)
    : params(std::move(params_)), lr(lr_), step_count_(Tensor::zeros({1})), lr_scale_(params.size(), 1) {
  std::set<const TensorImpl*> seen;
  for (size_t i = 0; i < params.size(); i++) {
    if (!params[i].defined()) fail("optimizer: parameter " + std::to_string(i) + " is an undefined tensor");
    // the same tensor twice would be updated twice per step
    if (!seen.insert(params[i].impl()).second) fail("optimizer: parameter " + std::to_string(i) + " appears twice");
  }
  if (!(lr >= 0)) fail("optimizer: learning rate must be >= 0, got " + std::to_string(lr));
}

void Optimizer::scale_lr(const std::vector<Tensor>& some, real factor) {
  if (!(factor >= 0)) fail("optimizer: a learning-rate factor must be >= 0, got " + std::to_string(factor));
  for (const Tensor& tensor : some) {
    auto found = std::find_if(params.begin(), params.end(), [&](const Tensor& p) { return p.impl() == tensor.impl(); });
    if (found == params.end()) fail("optimizer: scale_lr was given a tensor that is not one of its parameters");
    lr_scale_[static_cast<size_t>(found - params.begin())] = factor;
  }
}

void Optimizer::zero_grad() {
  for (const Tensor& p : params) p.zero_grad();
}

NamedTensors Optimizer::state() { return {{"step", step_count_}}; }

int64_t Optimizer::steps_taken() const { return static_cast<int64_t>(step_count_.data()[0]); }

int64_t Optimizer::advance_step() {
  step_count_.data()[0] += 1;
  return steps_taken();
}

std::vector<Tensor> zeros_like_each(const std::vector<Tensor>& params) {
  std::vector<Tensor> buffers;
  buffers.reserve(params.size());
  for (const Tensor& p : params) buffers.push_back(Tensor::zeros(p.shape()));
  return buffers;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params, real lr,
                                          real sgd_momentum) {
  if (name == "adam") return std::make_unique<Adam>(std::move(params), AdamOptions{.lr = lr});
  if (name == "sgd") return std::make_unique<SGD>(std::move(params), SgdOptions{.lr = lr, .momentum = sgd_momentum});
  fail("make_optimizer: no optimizer named '" + name + "' (adam or sgd)");
}

}  // namespace glimpse
