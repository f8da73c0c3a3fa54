#include "layers/max_pool2d.h"

namespace glimpse {

MaxPool2d::MaxPool2d(Pool2dOptions options) : options(options) {
  if (options.kernel <= 0 || options.stride < 0 || options.padding < 0)
    fail("MaxPool2d: need kernel > 0, stride >= 0 (0: = kernel) and padding >= 0, got " + describe_pool(options));
}

std::string MaxPool2d::describe() const { return describe_pool(options); }

std::string describe_pool(const Pool2dOptions& options) {
  std::string s = "kernel=" + std::to_string(options.kernel);
  if (options.stride != 0 && options.stride != options.kernel) s += ", stride=" + std::to_string(options.stride);
  if (options.padding != 0) s += ", padding=" + std::to_string(options.padding);
  return s;
}

}  // namespace glimpse
