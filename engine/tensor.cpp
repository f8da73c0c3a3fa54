#include "engine/tensor.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "engine/autograd.h"
#include "engine/parallel.h"
#include "engine/random.h"
#include "engine/storage_cache.h"

namespace glimpse {

void fail(const std::string& message) { throw Error(message); }

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail("tensor: negative dimension in shape " + shape_str(shape));
    n *= d;
  }
  return n;
}

// ---- storage: its block comes from the storage cache (storage_cache.h) ----

Storage::Storage(int64_t count) : data_(take_storage(count)), size_(count) {}
Storage::~Storage() { give_back_storage(data_, size_); }

// ---- creation ----

Tensor Tensor::empty(const Shape& shape) {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = std::make_shared<Storage>(shape_numel(shape));
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, real value) {
  Tensor t = empty(shape);
  real* p = t.data();
  for (int64_t i = 0; i < t.numel(); i++) p[i] = value;
  return t;
}
Tensor Tensor::zeros(const Shape& shape) {
  Tensor t = empty(shape);
  real* p = t.data();
  // in chunks on every thread: a gradient buffer of a layer is megabytes, zeroed on every step
  parallel_for(t.numel(), int64_t{1} << 16,
               [=](int64_t i0, int64_t i1) { std::memset(p + i0, 0, sizeof(real) * (i1 - i0)); });
  return t;
}
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1); }
Tensor Tensor::scalar(real value) { return full({}, value); }

Tensor Tensor::arange(int64_t n) {
  Tensor t = empty({n});
  for (int64_t i = 0; i < n; i++) t.data()[i] = static_cast<real>(i);
  return t;
}

Tensor Tensor::from_data(const Shape& shape, const std::vector<real>& values) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail("Tensor::from_data: " + std::to_string(values.size()) + " values for shape " + shape_str(shape));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::uniform(const Shape& shape, real low, real high, Rng& rng) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = rng.uniform(low, high);
  return t;
}

Tensor Tensor::normal(const Shape& shape, real mean, real stddev, Rng& rng) {
  Tensor t = empty(shape);
  for (int64_t i = 0; i < t.numel(); i++) t.data()[i] = rng.normal(mean, stddev);
  return t;
}

// ---- shape and data ----

static const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  if (!impl) fail("tensor: use of an undefined tensor");
  return *impl;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }

int64_t Tensor::size(int64_t axis) const {
  int64_t d = dim();
  int64_t a = axis < 0 ? axis + d : axis;
  if (a < 0 || a >= d) fail("tensor: axis " + std::to_string(axis) + " out of range for shape " + shape_str(shape()));
  return shape()[a];
}

real Tensor::item() const {
  if (numel() != 1) fail("tensor: item() needs one element, got shape " + shape_str(shape()));
  return data()[0];
}

std::vector<real> Tensor::to_vector() const { return std::vector<real>(data(), data() + numel()); }

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream out;
  out << "Tensor" << shape_str(shape()) << " [";
  int64_t shown = std::min<int64_t>(numel(), 16);
  for (int64_t i = 0; i < shown; i++) out << (i ? ", " : "") << data()[i];
  if (shown < numel()) out << ", ...";
  out << "]";
  return out.str();
}

// ---- autograd ----
// A tensor without an AutogradMeta has never taken part in autograd: it needs no gradient,
// has none, and no node produced it.

bool Tensor::requires_grad() const {
  const AutogradMeta* meta = checked(impl_).autograd.get();
  return meta && meta->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool on) {
  if (grad_fn() && !on) fail("tensor: set_requires_grad(false) on a tensor inside the graph; use detach()");
  if (on || impl_->autograd) impl_->autograd_meta().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  const AutogradMeta* meta = checked(impl_).autograd.get();
  return meta && meta->grad ? Tensor(meta->grad) : Tensor();
}

void Tensor::zero_grad() const {
  if (checked(impl_).autograd) impl_->autograd->grad.reset();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  const AutogradMeta* meta = checked(impl_).autograd.get();
  return meta ? meta->grad_fn : none;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = checked(impl_).shape;
  impl->storage = impl_->storage;
  return Tensor(std::move(impl));
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape());
  std::memcpy(t.data(), data(), sizeof(real) * numel());
  return t;
}

void Tensor::backward() const { glimpse::backward(*this); }

}  // namespace glimpse
