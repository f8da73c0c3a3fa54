#include "layers/avg_pool2d.h"

#include "layers/max_pool2d.h"  // describe_pool

namespace glimpse {

AvgPool2d::AvgPool2d(Pool2dOptions options) : options(options) {
  if (options.kernel <= 0 || options.stride < 0 || options.padding < 0)
    fail("AvgPool2d: need kernel > 0, stride >= 0 (0: = kernel) and padding >= 0, got " + describe_pool(options));
}

std::string AvgPool2d::describe() const { return describe_pool(options); }

}  // namespace glimpse
