// reshape, flatten, transpose, permute, concat, slice, pad: values against index-by-index
// references written here, backward by gradcheck, and the errors.
#include <catch2/catch.hpp>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

std::vector<int64_t> unravel(int64_t i, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; d--) index[d] = i % shape[d], i /= shape[d];
  return index;
}

int64_t ravel(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t i = 0;
  for (size_t d = 0; d < shape.size(); d++) i = i * shape[d] + index[d];
  return i;
}

Tensor permute_reference(const Tensor& x, const std::vector<int64_t>& order) {
  Shape out(order.size());
  for (size_t k = 0; k < order.size(); k++) out[k] = x.shape()[order[k]];
  Tensor y = Tensor::empty(out);
  for (int64_t i = 0; i < y.numel(); i++) {
    std::vector<int64_t> yi = unravel(i, out), xi(order.size());
    for (size_t k = 0; k < order.size(); k++) xi[order[k]] = yi[k];
    y.data()[i] = x.data()[ravel(xi, x.shape())];
  }
  return y;
}

Tensor pad_reference(const Tensor& x, const std::vector<int64_t>& before, const std::vector<int64_t>& after,
                     real value) {
  Shape out = x.shape();
  for (size_t d = 0; d < out.size(); d++) out[d] += before[d] + after[d];
  Tensor y = Tensor::empty(out);
  for (int64_t i = 0; i < y.numel(); i++) {
    std::vector<int64_t> index = unravel(i, out);
    bool inside = true;
    for (size_t d = 0; d < out.size(); d++) {
      index[d] -= before[d];
      inside = inside && index[d] >= 0 && index[d] < x.shape()[d];
    }
    y.data()[i] = inside ? x.data()[ravel(index, x.shape())] : value;
  }
  return y;
}

}  // namespace

// ---- reshape, flatten ----

TEST_CASE("reshape forward", "[ops][reshape]") {
  Tensor x = Tensor::arange(24);
  Tensor y = reshape(x, {2, -1, 4});
  CHECK(y.shape() == Shape{2, 3, 4});
  CHECK(y.data() == x.data());  // shares storage
  CHECK(reshape(x, {4, 6}).to_vector() == x.to_vector());
  CHECK(reshape(Tensor::scalar(3), {1, 1}).shape() == Shape{1, 1});
  CHECK(reshape(Tensor::zeros({2, 3}), {-1}).shape() == Shape{6});
  CHECK_THROWS_WITH(reshape(x, {5, 5}),
                    Catch::Contains("reshape") && Catch::Contains("(24)") && Catch::Contains("(5, 5)"));
  CHECK_THROWS_WITH(reshape(x, {-1, 5}), Catch::Contains("reshape"));
  CHECK_THROWS_WITH(reshape(x, {-1, -1}), Catch::Contains("only one -1"));
  CHECK_THROWS_AS(reshape(x, {-2, -12}), Error);
}

TEST_CASE("reshape grad", "[ops][reshape][grad]") {
  Rng rng(60);
  CHECK(gradcheck([](auto& in) { return reshape(in[0], {3, -1}); }, {Tensor::normal({2, 3, 4}, 0, 1, rng)}));
  CHECK(gradcheck([](auto& in) { return reshape(in[0], {}); }, {Tensor::normal({1, 1}, 0, 1, rng)}));
  CHECK(gradcheck([](auto& in) { return reshape(in[0], {5, 1, 1}); }, {Tensor::normal({5}, 0, 1, rng)}));
}

TEST_CASE("flatten forward", "[ops][flatten]") {
  Tensor x = Tensor::zeros({2, 3, 4, 5});
  CHECK(flatten(x).shape() == Shape{2, 60});
  CHECK(flatten(x, 0).shape() == Shape{120});
  CHECK(flatten(x, 2).shape() == Shape{2, 3, 20});
  CHECK(flatten(x, -1).shape() == Shape{2, 3, 4, 5});
  CHECK_THROWS_WITH(flatten(x, 4), Catch::Contains("flatten"));
}

TEST_CASE("flatten grad", "[ops][flatten][grad]") {
  Rng rng(61);
  CHECK(gradcheck([](auto& in) { return flatten(in[0]); }, {Tensor::normal({2, 3, 2, 2}, 0, 1, rng)}));
  CHECK(gradcheck([](auto& in) { return flatten(in[0], 0); }, {Tensor::normal({3, 5}, 0, 1, rng)}));
}

// ---- permute, transpose ----

TEST_CASE("permute forward", "[ops][permute]") {
  Rng rng(62);
  Tensor x = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  for (std::vector<int64_t> order :
       {std::vector<int64_t>{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 3, 1}, {1, 0, 3, 2}, {2, 3, 0, 1}}) {
    Tensor y = permute(x, order);
    CHECK(allclose(y, permute_reference(x, order)));
  }
  CHECK(allclose(permute(x, {0, -1, 1, 2}), permute_reference(x, {0, 3, 1, 2})));
  Tensor big = Tensor::normal({64, 32, 17}, 0, 1, rng);  // the parallel path
  CHECK(allclose(permute(big, {2, 0, 1}), permute_reference(big, {2, 0, 1})));
  CHECK_THROWS_WITH(permute(x, {0, 1, 2}), Catch::Contains("permute") && Catch::Contains("(2, 3, 4, 5)"));
  CHECK_THROWS_WITH(permute(x, {0, 1, 1, 2}), Catch::Contains("twice"));
  CHECK_THROWS_WITH(permute(x, {0, 1, 2, 4}), Catch::Contains("out of range"));
}

TEST_CASE("permute grad", "[ops][permute][grad]") {
  Rng rng(63);
  Tensor x = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  for (std::vector<int64_t> order : {std::vector<int64_t>{3, 2, 1, 0}, {0, 2, 3, 1}, {1, 0, 3, 2}})
    CHECK(gradcheck([&](auto& in) { return permute(in[0], order); }, {x}));
  CHECK(gradcheck([](auto& in) { return permute(in[0], {1, 0}); }, {Tensor::normal({3, 7}, 0, 1, rng)}));
}

TEST_CASE("transpose forward", "[ops][transpose]") {
  Tensor x = Tensor::from_data({2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(allclose(transpose(x, 0, 1), Tensor::from_data({3, 2}, {1, 4, 2, 5, 3, 6})));
  Rng rng(64);
  Tensor t = Tensor::normal({2, 3, 4}, 0, 1, rng);
  CHECK(allclose(transpose(t, 0, -1), permute_reference(t, {2, 1, 0})));
  CHECK(allclose(transpose(t, 1, 1), t));
  CHECK_THROWS_WITH(transpose(t, 0, 3), Catch::Contains("transpose") && Catch::Contains("(2, 3, 4)"));
}

TEST_CASE("transpose grad", "[ops][transpose][grad]") {
  Rng rng(65);
  CHECK(gradcheck([](auto& in) { return transpose(in[0], 0, 1); }, {Tensor::normal({4, 3}, 0, 1, rng)}));
  CHECK(gradcheck([](auto& in) { return transpose(in[0], 1, 3); }, {Tensor::normal({2, 3, 4, 5}, 0, 1, rng)}));
}

// ---- concat ----

TEST_CASE("concat forward", "[ops][concat]") {
  Tensor a = Tensor::from_data({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_data({2, 1}, {5, 6});
  CHECK(allclose(concat({a, b}, 1), Tensor::from_data({2, 3}, {1, 2, 5, 3, 4, 6})));
  CHECK(allclose(concat({a, transpose(b, 0, 1)}, 0), Tensor::from_data({3, 2}, {1, 2, 3, 4, 5, 6})));
  Rng rng(66);
  Tensor x = Tensor::normal({2, 3, 4}, 0, 1, rng), y = Tensor::normal({2, 5, 4}, 0, 1, rng);
  Tensor z = concat({x, y, x}, -2);
  REQUIRE(z.shape() == Shape{2, 11, 4});
  CHECK(allclose(slice(z, 1, 0, 3), x));
  CHECK(allclose(slice(z, 1, 3, 8), y));
  CHECK(allclose(slice(z, 1, 8, 11), x));
  CHECK_THROWS_WITH(concat({x, y}, 0),
                    Catch::Contains("concat") && Catch::Contains("(2, 5, 4)") && Catch::Contains("(2, 3, 4)"));
  CHECK_THROWS_WITH(concat({x, Tensor::zeros({2, 3})}, 0), Catch::Contains("concat"));
  CHECK_THROWS_WITH(concat({}, 0), Catch::Contains("concat"));
}

TEST_CASE("concat grad", "[ops][concat][grad]") {
  Rng rng(67);
  CHECK(gradcheck(
      [](auto& in) {
        return concat({in[0], in[1]}, 0);
      },
      {Tensor::normal({2, 3}, 0, 1, rng), Tensor::normal({3, 3}, 0, 1, rng)}));
  CHECK(gradcheck(
      [](auto& in) {
        return concat({in[0], in[1], in[2]}, 1);
      },
      {Tensor::normal({2, 1, 2}, 0, 1, rng), Tensor::normal({2, 4, 2}, 0, 1, rng),
       Tensor::normal({2, 2, 2}, 0, 1, rng)}));
  CHECK(gradcheck(
      [](auto& in) {
        return concat({in[0], in[1]}, -1);
      },
      {Tensor::normal({2, 3, 2}, 0, 1, rng), Tensor::normal({2, 3, 5}, 0, 1, rng)}));
  Tensor x = Tensor::normal({2, 3}, 0, 1, rng);  // one input twice: both blocks add up
  CHECK(gradcheck([](auto& in) { return concat({in[0], in[0]}, 1); }, {x}));
}

// ---- slice ----

TEST_CASE("slice forward", "[ops][slice]") {
  Tensor x = Tensor::from_data({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(allclose(slice(x, 1, 1, 3), Tensor::from_data({2, 2}, {1, 2, 5, 6})));
  CHECK(allclose(slice(x, 0, 1, 2), Tensor::from_data({1, 4}, {4, 5, 6, 7})));
  CHECK(allclose(slice(x, -1, 3, 4), Tensor::from_data({2, 1}, {3, 7})));
  CHECK(slice(x, 1, 2, 2).shape() == Shape{2, 0});
  CHECK_THROWS_WITH(slice(x, 1, 2, 5),
                    Catch::Contains("slice") && Catch::Contains("[2, 5)") && Catch::Contains("(2, 4)"));
  CHECK_THROWS_WITH(slice(x, 1, -1, 2), Catch::Contains("slice"));
  CHECK_THROWS_WITH(slice(x, 1, 3, 2), Catch::Contains("slice"));
  CHECK_THROWS_WITH(slice(x, 2, 0, 1), Catch::Contains("slice") && Catch::Contains("axis 2"));
}

TEST_CASE("slice grad", "[ops][slice][grad]") {
  Rng rng(68);
  Tensor x = Tensor::normal({3, 5, 4}, 0, 1, rng);
  CHECK(gradcheck([](auto& in) { return slice(in[0], 0, 1, 3); }, {x}));
  CHECK(gradcheck([](auto& in) { return slice(in[0], 1, 2, 5); }, {x}));
  CHECK(gradcheck([](auto& in) { return slice(in[0], -1, 0, 1); }, {x}));
  // two slices of one tensor: their gradients add where they overlap
  CHECK(gradcheck([](auto& in) { return add(slice(in[0], 1, 0, 3), slice(in[0], 1, 1, 4)); }, {x}));
}

// ---- pad ----

TEST_CASE("pad forward", "[ops][pad]") {
  Tensor x = Tensor::from_data({2, 2}, {1, 2, 3, 4});
  CHECK(allclose(pad(x, {0, 1}, {1, 0}), Tensor::from_data({3, 3}, {0, 1, 2, 0, 3, 4, 0, 0, 0})));
  Rng rng(69);
  Tensor t = Tensor::normal({2, 3, 4, 5}, 0, 1, rng);
  CHECK(allclose(pad(t, {0, 0, 1, 2}, {0, 0, 1, 2}, -1), pad_reference(t, {0, 0, 1, 2}, {0, 0, 1, 2}, -1)));
  CHECK(allclose(pad(t, {1, 0, 2, 0}, {0, 3, 0, 1}, 0.5f), pad_reference(t, {1, 0, 2, 0}, {0, 3, 0, 1}, 0.5f)));
  CHECK_THROWS_WITH(pad(t, {1, 1}, {1, 1}), Catch::Contains("pad") && Catch::Contains("(2, 3, 4, 5)"));
  CHECK_THROWS_WITH(pad(x, {-1, 0}, {0, 0}), Catch::Contains("pad") && Catch::Contains("negative"));
}

TEST_CASE("pad grad", "[ops][pad][grad]") {
  Rng rng(70);
  CHECK(gradcheck([](auto& in) { return pad(in[0], {1, 2}, {2, 0}, 3); }, {Tensor::normal({3, 4}, 0, 1, rng)}));
  CHECK(gradcheck(
      [](auto& in) {
        return pad(in[0], {0, 0, 1, 1}, {0, 0, 1, 1});
      },
      {Tensor::normal({2, 3, 3, 4}, 0, 1, rng)}));
  CHECK(gradcheck([](auto& in) { return pad(in[0], {2}, {1}); }, {Tensor::normal({5}, 0, 1, rng)}));
}
