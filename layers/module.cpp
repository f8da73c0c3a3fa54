#include "layers/module.h"

namespace glimpse {

Tensor Module::forward(const Tensor&) { fail(type_name() + " takes no single input"); }

// ---- registration ----

void Module::check_new_name(const std::string& name, const char* what) const {
  std::string where = type_name() + "::" + what + ": ";
  if (name.empty()) fail(where + "the name is empty");
  if (name.find('.') != std::string::npos)
    fail(where + "the name '" + name + "' contains '.', which separates the levels of the tree");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_))
    fail(where + "the name '" + name + "' is already registered in this " + type_name());
}

Tensor& Module::add_parameter(const std::string& name, Tensor t) {
  check_new_name(name, "add_parameter");
  if (!t.defined()) fail(type_name() + "::add_parameter: '" + name + "' is an undefined tensor");
  t.set_requires_grad(true);
  parameters_.emplace_back(name, std::move(t));
  return parameters_.back().second;
}

Tensor& Module::add_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "add_buffer");
  if (!t.defined()) fail(type_name() + "::add_buffer: '" + name + "' is an undefined tensor");
  buffers_.emplace_back(name, std::move(t));
  return buffers_.back().second;
}

void Module::register_module(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name, "add_module");
  if (!m) fail(type_name() + "::add_module: '" + name + "' is a null module");
  children_.emplace_back(name, std::move(m));
}

// ---- queries over the tree ----

// A module's own tensors first, then each child's under "child_name.", in registration order.
void Module::collect(const std::string& prefix, bool buffers, std::vector<NamedTensor>& out) const {
  for (const auto& [name, t] : buffers ? buffers_ : parameters_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

std::vector<NamedTensor> Module::named_parameters() const {
  std::vector<NamedTensor> out;
  collect("", false, out);
  return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
  std::vector<NamedTensor> out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<NamedTensor> Module::state() const {
  std::vector<NamedTensor> out = named_parameters();
  for (auto& entry : named_buffers()) out.push_back(entry);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const Tensor& p : parameters()) count += p.numel();
  return count;
}

// ---- modes and gradients ----

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

// splitmix64 of (seed, index): well-spread, different seeds for siblings and for parent and child
static uint64_t mix_seed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void Module::reseed(uint64_t seed) {
  reseed_self(seed);
  for (size_t i = 0; i < children_.size(); i++) children_[i].second->reseed(mix_seed(seed, i));
}

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.zero_grad();
}

// ---- printing ----

// 1234567 -> "1,234,567"
static std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); i++) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// One line per module:  "<indent><name>: <Type>(<describe>)  <count> parameters"
void Module::print_tree(const std::string& name, int depth, std::string& out) const {
  out += std::string(2 * depth, ' ');
  if (!name.empty()) out += name + ": ";
  out += type_name();
  std::string details = describe();
  if (!details.empty()) out += "(" + details + ")";
  int64_t count = parameter_count();
  if (count > 0) out += "  " + with_thousands(count) + (count == 1 ? " parameter" : " parameters");
  out += "\n";
  for (const auto& [child_name, child] : children_) child->print_tree(child_name, depth + 1, out);
}

std::string Module::print() const {
  std::string out;
  print_tree("", 0, out);
  return out;
}

// ---- observing a forward (Note [Observing a forward] in module.h) ----

namespace {
Observer* active_observer = nullptr;
}

void Module::observe(const std::string& what, const Tensor& value) const {
  if (active_observer) active_observer->record(this, what, value);
}

Observer::Observer(const Module& root) : previous_(active_observer) {
  name_tree(root, "");
  active_observer = this;
}

Observer::~Observer() { active_observer = previous_; }

void Observer::name_tree(const Module& module, const std::string& prefix) {
  paths_[&module] = prefix;
  for (const auto& [name, child] : module.children()) name_tree(*child, prefix + name + ".");
}

void Observer::record(const Module* module, const std::string& what, const Tensor& value) {
  auto it = paths_.find(module);
  if (it != paths_.end()) values_.emplace_back(it->second + what, value.detach());
}

Tensor Observer::get(const std::string& path) const {
  for (const auto& [name, value] : values_)
    if (name == path) return value;
  std::string seen;
  for (const auto& [name, value] : values_) seen += (seen.empty() ? "" : ", ") + name;
  fail("Observer: nothing observed at '" + path + "'; observed: " + (seen.empty() ? "nothing" : seen));
}

std::vector<NamedTensor> Observer::ending_with(const std::string& suffix) const {
  std::vector<NamedTensor> out;
  for (const auto& entry : values_)
    if (entry.first.size() >= suffix.size() &&
        entry.first.compare(entry.first.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(entry);
  return out;
}

}  // namespace glimpse
