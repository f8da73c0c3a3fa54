// The backward walk must keep alive the intermediate results it has yet to visit: a temporary
// (here sigmoid's output) is held only by the node that read it, and backward() drops each
// node's inputs as it goes.
#include <catch2/catch.hpp>

#include <cmath>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

TEST_CASE("backward through a temporary intermediate result", "[autograd]") {
  Tensor x = Tensor::from_data({3}, {0.5f, -1.0f, 2.0f}).set_requires_grad(true);
  Tensor y = relu(sigmoid(x));  // nothing but relu's node holds sigmoid(x)
  backward_weighted(y, Tensor::ones({3}));
  for (int64_t i = 0; i < 3; i++) {
    double s = 1 / (1 + std::exp(-static_cast<double>(x.data()[i])));
    CHECK(x.grad().data()[i] == Approx(s * (1 - s)));
  }
}
