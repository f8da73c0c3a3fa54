// Tensor: a small handle onto shared, contiguous, row-major float storage.
//
// Shape letters used across the project (README, "Shapes"):
//   N batch, C channels, H/W height/width, K classes or kernel side, OH/OW output side.
//
// A Tensor is a handle: copying it copies the handle, not the numbers, so two copies see the
// same data, the same gradient and the same place in the autograd graph (as in PyTorch).
// The class holds only accessors; every operation lives in engine/ops/ (see ops.h), and the
// operator overloads at the bottom of ops.h forward to those free functions.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace glimpse {

using real = float;  // the one scalar type of the engine
using Shape = std::vector<int64_t>;

// Every error the engine raises: a message that names the op and the shapes involved.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);
std::string shape_str(const Shape& shape);  // "(2, 3, 4)"
int64_t shape_numel(const Shape& shape);

// A block of floats, 64-byte aligned, shared by every handle that views it; the block comes from
// the storage cache (storage_cache.h) and goes back to it.
class Storage {
 public:
  explicit Storage(int64_t count);  // uninitialised
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  real* data() { return data_; }
  int64_t size() const { return size_; }

 private:
  real* data_;
  int64_t size_;
};

// The bytes held by every Storage alive now (whatever the storage cache keeps is not counted),
// and the most they ever held at once. For tests and benchmarks (bench_step's peak_tensor_mb).
int64_t storage_live_bytes();
int64_t storage_peak_bytes();
// The bytes the storage cache keeps for reuse (Note [The storage cache] in storage_cache.cpp); 0 in
// a sanitizer build.
int64_t storage_cached_bytes();

struct Node;  // autograd.h: the backward function that produced a tensor
class Rng;    // random.h

struct TensorImpl;

// A tensor's place in the autograd graph, kept apart from its data so that the graph can point
// at a tensor without keeping its values alive (autograd.h, Note [Edges do not own data]).
struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // same shape as the tensor; allocated on first use
  std::shared_ptr<Node> grad_fn;     // null for leaves and for tensors outside the graph
};

struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> storage;
  std::shared_ptr<AutogradMeta> autograd;  // null until the tensor first takes part in autograd

  AutogradMeta& autograd_meta() {  // creates the record on first use
    if (!autograd) autograd = std::make_shared<AutogradMeta>();
    return *autograd;
  }
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (defined() == false), e.g. "no bias"
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----
  static Tensor empty(const Shape& shape);  // uninitialised
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, real value);
  static Tensor scalar(real value);  // shape ()
  static Tensor arange(int64_t n);   // 0, 1, ..., n-1
  static Tensor from_data(const Shape& shape, const std::vector<real>& values);
  static Tensor uniform(const Shape& shape, real low, real high, Rng& rng);
  static Tensor normal(const Shape& shape, real mean, real stddev, Rng& rng);

  // ---- shape and data ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  // numel() and data() are defined in the header so that they inline: kernels and optimisers
  // call them in their loops, where an out-of-line call per element cost a few percent of a step.
  int64_t numel() const {
    if (!impl_) fail("tensor: use of an undefined tensor");
    if (!impl_->storage) return 0;
    int64_t n = 1;
    for (int64_t d : impl_->shape) n *= d;  // the shape was checked when the storage was made
    return n;
  }
  real* data() const {  // a handle gives mutable access, as torch's data_ptr() does
    if (!impl_) fail("tensor: use of an undefined tensor");
    return impl_->storage->data();
  }
  real item() const;  // the value of a one-element tensor
  std::vector<real> to_vector() const;
  std::string str() const;  // "Tensor(2, 3) [..values..]" for debugging and test failures

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);  // on leaves: "compute my gradient"
  Tensor grad() const;                        // undefined until a backward reaches it
  void zero_grad() const;                     // drops the gradient buffer
  const std::shared_ptr<Node>& grad_fn() const;
  bool is_leaf() const { return grad_fn() == nullptr; }
  Tensor detach() const;  // same storage, cut from the graph
  Tensor clone() const;   // a copy of the data, cut from the graph
  void backward() const;  // glimpse::backward(*this): this must be a one-element tensor

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace glimpse
