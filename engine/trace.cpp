#include "engine/trace.h"

namespace glimpse {

namespace {
thread_local Tracer* active = nullptr;
}

Tracer::Tracer() : previous_(active) { active = this; }
Tracer::~Tracer() { active = previous_; }
Tracer* active_tracer() { return active; }

std::map<const TensorImpl*, size_t> Tracer::producers() const {
  std::map<const TensorImpl*, size_t> producer;
  for (size_t i = 0; i < ops_.size(); i++) producer[ops_[i].output.impl()] = i;  // the last wins
  return producer;
}

OpSettings& OpSettings::with_int(const char* name, int64_t value) {
  if (active) ints[name] = {value};
  return *this;
}

OpSettings& OpSettings::with_ints(const char* name, const std::vector<int64_t>& values) {
  if (active) ints[name] = values;
  return *this;
}

OpSettings& OpSettings::with_real(const char* name, double value) {
  if (active) reals[name] = value;
  return *this;
}

OpSettings& OpSettings::with_constant(const Tensor& t) {
  if (active) constants.push_back(t);
  return *this;
}

const std::vector<int64_t>& OpSettings::integers(const std::string& name) const {
  auto it = ints.find(name);
  if (it == ints.end()) fail("traced op: no setting '" + name + "'");
  return it->second;
}

int64_t OpSettings::integer(const std::string& name) const {
  const std::vector<int64_t>& values = integers(name);
  if (values.size() != 1) fail("traced op: setting '" + name + "' holds " + std::to_string(values.size()) + " values");
  return values[0];
}

double OpSettings::real_number(const std::string& name) const {
  auto it = reals.find(name);
  if (it == reals.end()) fail("traced op: no setting '" + name + "'");
  return it->second;
}

}  // namespace glimpse
