// The gradient check itself: every `<op> grad` test trusts it, so it is tested here against
// backwards with the slips it must catch, and a right one it must pass.
#include <catch2/catch.hpp>

#include "layers/module.h"
#include "tests/gradcheck.h"
#include "tests/module_gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

namespace {

// The slips of a backward: y = a * b has da += dy * b and db += dy * a.
enum class Slip { none, doubled, writes_instead_of_adding, wrong_operand, forgets_b, b_wrong_when_alone };

struct SlippedMulBackward : Node {
  Tensor a, b;  // saved inputs, detached
  Slip slip = Slip::none;
  std::string name() const override { return "slipped_mul"; }
  void backward(const Tensor& dy) override {
    Tensor da_buffer = input_grad(0), db_buffer = input_grad(1);  // held: see Node::input_grad
    real* da = da_buffer.data();
    real* db = db_buffer.data();
    for (int64_t i = 0; i < dy.numel(); i++) {
      const real g = dy.data()[i];
      switch (slip) {
        case Slip::none:
          da[i] += g * b.data()[i];
          break;
        case Slip::doubled:
          da[i] += 2 * g * b.data()[i];
          break;
        case Slip::writes_instead_of_adding:
          da[i] = g * b.data()[i];
          break;
        case Slip::wrong_operand:
          da[i] += g * a.data()[i];
          break;
        case Slip::forgets_b:
          da[i] += g * b.data()[i];
          continue;
        case Slip::b_wrong_when_alone:  // a branch taken only when a needs no gradient
          da[i] += g * b.data()[i];
          if (!needs_grad(0)) {
            db[i] += 2 * g * a.data()[i];
            continue;
          }
          break;
      }
      db[i] += g * a.data()[i];
    }
  }
};

Tensor slipped_mul(const Tensor& a, const Tensor& b, Slip slip) {
  Tensor y = Tensor::empty(a.shape());
  for (int64_t i = 0; i < a.numel(); i++) y.data()[i] = a.data()[i] * b.data()[i];
  auto node = std::make_shared<SlippedMulBackward>();
  node->a = a.detach();
  node->b = b.detach();
  node->slip = slip;
  return record(y, node, {a, b});
}

bool check_slipped_mul(Slip slip) {
  Rng rng(7);
  return gradcheck([slip](auto& in) { return slipped_mul(in[0], in[1], slip); },
                   {Tensor::normal({3, 4}, 0, 1, rng), Tensor::normal({3, 4}, 0, 1, rng)});
}

// y = x * w with a parameter w whose gradient the slipped backward computes.
struct SlippedScale : Module {
  Tensor w;
  Slip slip;
  SlippedScale(Slip s, Rng& rng) : slip(s) { w = add_parameter("w", Tensor::normal({2, 3}, 0, 1, rng)); }
  std::string type_name() const override { return "SlippedScale"; }
  Tensor forward(const Tensor& x) override { return slipped_mul(w, x, slip); }
};

}  // namespace

TEST_CASE("the gradient check passes a right backward", "[gradcheck]") { CHECK(check_slipped_mul(Slip::none)); }

TEST_CASE("the gradient check fails a backward with a wrong factor, operand or missing input", "[gradcheck]") {
  CHECK_FALSE(check_slipped_mul(Slip::doubled));
  CHECK_FALSE(check_slipped_mul(Slip::wrong_operand));
  CHECK_FALSE(check_slipped_mul(Slip::forgets_b));
}

TEST_CASE("the gradient check fails a backward that writes its gradient instead of adding it", "[gradcheck]") {
  // right when the gradient starts at zero; the check starts it at random values (hold_random_gradient)
  CHECK_FALSE(check_slipped_mul(Slip::writes_instead_of_adding));
}

// Right when every input asks for a gradient, wrong when b alone does: caught by running each
// input alone (compare_each_input_alone).
TEST_CASE("the gradient check fails a backward that is wrong only for an input alone", "[gradcheck]") {
  CHECK_FALSE(check_slipped_mul(Slip::b_wrong_when_alone));
}

TEST_CASE("the module gradient check checks the parameters' gradients too", "[gradcheck]") {
  Rng rng(8);
  Tensor x = Tensor::normal({2, 3}, 0, 1, rng);
  SlippedScale right(Slip::none, rng);
  CHECK(module_gradcheck(right, x));
  for (Slip slip : {Slip::doubled, Slip::writes_instead_of_adding, Slip::wrong_operand}) {
    SlippedScale wrong(slip, rng);  // the slips of slipped_mul's first input: here the parameter w
    CHECK_FALSE(module_gradcheck(wrong, x));
  }
}

TEST_CASE("a step across a kink fails a right backward: why the tests keep inputs away from kinks", "[gradcheck]") {
  // relu at x = 0.005 with eps = 0.01: (relu(0.015) - relu(-0.005)) / 0.02 = 0.75, the backward says 1
  Tensor x = Tensor::from_data({1}, {0.005f});
  CHECK_FALSE(gradcheck([](auto& in) { return relu(in[0]); }, {x}));
  CHECK(gradcheck([](auto& in) { return relu(in[0]); }, {x}, {.eps = 1e-3}));
}

TEST_CASE("an entry's disagreement is measured against atol + rtol * |numerical|", "[gradcheck]") {
  GradcheckOptions options{.atol = 0.5, .rtol = 0.25};
  CHECK(fraction_of_tolerance(2.0, 2.0, options) == 0);
  CHECK(fraction_of_tolerance(3.0, 2.0, options) == Approx(1.0));  // |3 - 2| = 0.5 + 0.25 * 2
  CHECK(fraction_of_tolerance(1.5, 2.0, options) == Approx(0.5));
}
