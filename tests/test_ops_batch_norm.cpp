// batch_norm: forward and running statistics against a two-pass reference in double, backward
// by gradcheck in training and evaluation, errors; batch_norm_relu by gradcheck and against
// relu(batch_norm) bit for bit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "tests/gradcheck.h"

using namespace glimpse;
using namespace glimpse::testing;

// x (N, C, H, W) or (N, C) with channel c centred near c - 1 and scaled by 1 + c / 2, so that
// the channels differ and a mix-up between them shows
static Tensor channel_varied(const Shape& shape, Rng& rng) {
  Tensor x = Tensor::normal(shape, 0, 1, rng);
  const int64_t C = shape[1], HW = shape.size() == 4 ? shape[2] * shape[3] : 1;
  for (int64_t i = 0; i < x.numel(); i++) {
    const int64_t c = (i / HW) % C;
    x.data()[i] = x.data()[i] * (1 + 0.5f * c) + (c - 1);
  }
  return x;
}

struct BatchNormReference {
  Tensor y, running_mean, running_var;
};

// The definition, in double: two passes for mean and biased variance per channel, then normalise.
static BatchNormReference batch_norm_reference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                               const Tensor& running_mean, const Tensor& running_var, bool training,
                                               double momentum, double eps) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.dim() == 4 ? x.size(2) * x.size(3) : 1, M = N * HW;
  BatchNormReference out{Tensor::empty(x.shape()), running_mean.clone(), running_var.clone()};
  for (int64_t c = 0; c < C; c++) {
    auto at = [&](int64_t n, int64_t i) { return double(x.data()[(n * C + c) * HW + i]); };
    double mean = 0, var = 0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++) mean += at(n, i) / M;
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++) var += (at(n, i) - mean) * (at(n, i) - mean) / M;
    if (training) {
      out.running_mean.data()[c] = static_cast<real>((1 - momentum) * running_mean.data()[c] + momentum * mean);
      out.running_var.data()[c] =
          static_cast<real>((1 - momentum) * running_var.data()[c] + momentum * var * M / (M - 1));
    } else {
      mean = running_mean.data()[c], var = running_var.data()[c];
    }
    for (int64_t n = 0; n < N; n++)
      for (int64_t i = 0; i < HW; i++)
        out.y.data()[(n * C + c) * HW + i] =
            static_cast<real>(gamma.data()[c] * (at(n, i) - mean) / std::sqrt(var + eps) + beta.data()[c]);
  }
  return out;
}

TEST_CASE("batch_norm forward", "[ops][batch_norm]") {
  Rng rng(41);
  // H*W = 10 and 35: the kernels sum 8 values at a time, then the rest (HW % 8) one by one
  for (Shape shape : {Shape{3, 4, 5, 2}, Shape{2, 3, 5, 7}, Shape{6, 3}})
    for (bool training : {true, false}) {
      CAPTURE(shape_str(shape), training);
      const int64_t C = shape[1];
      Tensor x = channel_varied(shape, rng);
      Tensor gamma = Tensor::normal({C}, 1, 0.3f, rng), beta = Tensor::normal({C}, 0, 1, rng);
      Tensor running_mean = Tensor::normal({C}, 0, 1, rng), running_var = Tensor::uniform({C}, 0.5f, 2, rng);
      BatchNormReference expected =
          batch_norm_reference(x, gamma, beta, running_mean, running_var, training, 0.2, 1e-5);
      Tensor y = batch_norm(x, gamma, beta, running_mean, running_var, training, 0.2f, 1e-5f);
      CHECK(allclose(y, expected.y, 1e-5, 1e-4));
      CHECK(allclose(running_mean, expected.running_mean));  // updated in place in training only
      CHECK(allclose(running_var, expected.running_var));
    }
}

TEST_CASE("batch_norm grad", "[ops][batch_norm][grad]") {
  Rng rng(42);
  for (Shape shape : {Shape{3, 4, 5, 2}, Shape{2, 3, 3, 3}, Shape{2, 2, 4, 5}, Shape{6, 3}})
    for (bool training : {true, false}) {
      CAPTURE(shape_str(shape), training);
      const int64_t C = shape[1];
      Tensor x = channel_varied(shape, rng);
      Tensor gamma = Tensor::normal({C}, 1, 0.3f, rng), beta = Tensor::normal({C}, 0, 1, rng);
      // Every call of f updates these in training, but in training y does not read them, and in
      // evaluation nothing writes them: so repeated calls of f give the same y.
      Tensor running_mean = Tensor::normal({C}, 0, 1, rng), running_var = Tensor::uniform({C}, 0.5f, 2, rng);
      auto f = [&](auto& in) { return batch_norm(in[0], in[1], in[2], running_mean, running_var, training); };
      CHECK(gradcheck(f, {x, gamma, beta}));
      // without gamma and beta (affine = False)
      auto plain = [&](auto& in) { return batch_norm(in[0], Tensor(), Tensor(), running_mean, running_var, training); };
      CHECK(gradcheck(plain, {x}));
    }
}

TEST_CASE("batch_norm running statistics", "[ops][batch_norm]") {
  Rng rng(43);
  Tensor x = channel_varied({4, 2, 3, 3}, rng).set_requires_grad(true);
  Tensor gamma = Tensor::ones({2}).set_requires_grad(true), beta = Tensor::zeros({2}).set_requires_grad(true);
  Tensor running_mean = Tensor::zeros({2}), running_var = Tensor::ones({2});
  {  // training updates them even in no-grad mode, as PyTorch does
    NoGradGuard no_grad;
    batch_norm(x, gamma, beta, running_mean, running_var, true);
  }
  std::vector<real> after_one = running_mean.to_vector();
  CHECK(after_one != std::vector<real>{0, 0});
  // the update is not part of the graph
  Tensor y = batch_norm(x, gamma, beta, running_mean, running_var, true);
  CHECK(y.requires_grad());
  CHECK_FALSE(running_mean.requires_grad());
  CHECK(running_mean.grad_fn() == nullptr);
  CHECK(running_var.grad_fn() == nullptr);
  // evaluation leaves them alone
  std::vector<real> after_two = running_mean.to_vector(), var_after_two = running_var.to_vector();
  batch_norm(x, gamma, beta, running_mean, running_var, false);
  CHECK(running_mean.to_vector() == after_two);
  CHECK(running_var.to_vector() == var_after_two);
  // and training without running tensors (track_running_stats = False) is allowed
  CHECK_NOTHROW(batch_norm(x, gamma, beta, Tensor(), Tensor(), true));
}

TEST_CASE("batch_norm errors", "[ops][batch_norm]") {
  Tensor x = Tensor::zeros({2, 3, 4, 4}), c3 = Tensor::ones({3});
  CHECK_THROWS_WITH(batch_norm(x, Tensor::ones({4}), c3, c3, c3, true), Catch::Contains("gamma must be (3)"));
  CHECK_THROWS_WITH(batch_norm(x, c3, c3, Tensor::ones({2}), c3, true), Catch::Contains("running_mean"));
  CHECK_THROWS_WITH(batch_norm(Tensor::zeros({2, 3, 4}), c3, c3, c3, c3, true), Catch::Contains("(N, C)"));
  CHECK_THROWS_WITH(batch_norm(x, c3, c3, Tensor(), Tensor(), false), Catch::Contains("running statistics"));
  CHECK_THROWS_WITH(batch_norm(Tensor::zeros({1, 3}), c3, c3, c3, c3, true), Catch::Contains("more than one value"));
  CHECK_THROWS_WITH(batch_norm(x, c3, Tensor::ones({2}), c3, c3, true), Catch::Contains("beta must be (3)"));
  CHECK_THROWS_WITH(batch_norm(x, c3, c3, c3, Tensor::ones({4}), true), Catch::Contains("running_var must be (3)"));
  CHECK_THROWS_WITH(batch_norm(x, c3, c3, c3, Tensor(), true), Catch::Contains("both given or both undefined"));
  CHECK_NOTHROW(batch_norm(Tensor::zeros({1, 3}), c3, c3, c3, c3, false));
}

// ---- batch_norm_relu ----

// beta per channel such that no output of gamma * xhat + beta is within `margin` of relu's kink
// at 0: the shift in [-1, 1] (steps of 1/200) that keeps the nearest output farthest from it.
static Tensor beta_away_from_kink(const Tensor& x, const Tensor& gamma, const Tensor& running_mean,
                                  const Tensor& running_var, bool training, real margin) {
  const int64_t C = x.size(1), HW = x.dim() == 4 ? x.size(2) * x.size(3) : 1;
  Tensor unshifted = batch_norm(x, gamma, Tensor::zeros({C}), running_mean.clone(), running_var.clone(), training);
  Tensor beta = Tensor::empty({C});
  for (int64_t c = 0; c < C; c++) {
    real best_shift = 0, best_distance = -1;
    for (int step = -200; step <= 200; step++) {
      const real shift = static_cast<real>(step) / 200;
      real distance = std::numeric_limits<real>::infinity();
      for (int64_t i = 0; i < unshifted.numel(); i++)
        if ((i / HW) % C == c) distance = std::min(distance, std::abs(unshifted.data()[i] + shift));
      if (distance > best_distance) best_shift = shift, best_distance = distance;
    }
    REQUIRE(best_distance > margin);
    beta.data()[c] = best_shift;
  }
  return beta;
}

TEST_CASE("batch_norm_relu grad", "[ops][batch_norm][grad]") {
  Rng rng(45);
  for (Shape shape : {Shape{3, 2, 2, 3}, Shape{2, 3, 1, 5}, Shape{8, 3}})
    for (bool training : {true, false}) {
      CAPTURE(shape_str(shape), training);
      const int64_t C = shape[1];
      Tensor x = channel_varied(shape, rng);
      Tensor gamma = Tensor::normal({C}, 1, 0.3f, rng);
      Tensor running_mean = Tensor::normal({C}, 0, 1, rng), running_var = Tensor::uniform({C}, 0.5f, 2, rng);
      Tensor beta = beta_away_from_kink(x, gamma, running_mean, running_var, training, 0.05f);
      auto f = [&](auto& in) { return batch_norm_relu(in[0], in[1], in[2], running_mean, running_var, training); };
      CHECK(gradcheck(f, {x, gamma, beta}));
    }
}

// The fused op is relu(batch_norm(...)) to the last bit: outputs, running statistics and every
// gradient, in training and evaluation, on planes with and without a tail of HW % 8 values.
TEST_CASE("batch_norm_relu is relu(batch_norm) exactly", "[ops][batch_norm]") {
  Rng rng(46);
  for (Shape shape : {Shape{4, 3, 5, 7}, Shape{2, 16, 8, 8}, Shape{6, 3}})
    for (bool training : {true, false}) {
      CAPTURE(shape_str(shape), training);
      const int64_t C = shape[1];
      Tensor x = channel_varied(shape, rng), dy = Tensor::normal(shape, 0, 1, rng);
      Tensor gamma = Tensor::normal({C}, 1, 0.3f, rng), beta = Tensor::normal({C}, 0, 1, rng);
      Tensor running_mean = Tensor::normal({C}, 0, 1, rng), running_var = Tensor::uniform({C}, 0.5f, 2, rng);
      struct Run {
        Tensor y, mean, var, dx, dgamma, dbeta;
      };
      auto run = [&](bool fused) {
        Run r{Tensor(), running_mean.clone(), running_var.clone(), Tensor(), Tensor(), Tensor()};
        Tensor xi = x.clone().set_requires_grad(true), g = gamma.clone().set_requires_grad(true),
               b = beta.clone().set_requires_grad(true);
        r.y = fused ? batch_norm_relu(xi, g, b, r.mean, r.var, training)
                    : relu(batch_norm(xi, g, b, r.mean, r.var, training));
        sum(r.y * dy).backward();
        r.dx = xi.grad(), r.dgamma = g.grad(), r.dbeta = b.grad();
        return r;
      };
      const Run fused = run(true), composed = run(false);
      CHECK(fused.y.to_vector() == composed.y.to_vector());
      CHECK(fused.mean.to_vector() == composed.mean.to_vector());
      CHECK(fused.var.to_vector() == composed.var.to_vector());
      CHECK(fused.dx.to_vector() == composed.dx.to_vector());
      CHECK(fused.dgamma.to_vector() == composed.dgamma.to_vector());
      CHECK(fused.dbeta.to_vector() == composed.dbeta.to_vector());
    }
}

TEST_CASE("batch_norm_relu errors name the op", "[ops][batch_norm]") {
  Tensor c3 = Tensor::ones({3});
  CHECK_THROWS_WITH(batch_norm_relu(Tensor::zeros({2, 3, 4}), c3, c3, c3, c3, true),
                    Catch::Contains("batch_norm_relu") && Catch::Contains("(N, C)"));
  CHECK_THROWS_WITH(batch_norm_relu(Tensor::zeros({2, 3}), Tensor::ones({4}), c3, c3, c3, true),
                    Catch::Contains("batch_norm_relu: gamma must be (3)"));
}

// Synchronised BN (the `across` of a data-parallel run, train/data_parallel.h) without MPI: two
// threads stand for two processes, each with half of the batch, and their ReplicaSum adds the two
// halves' per-channel sums (a barrier between writing and reading). Each half must come out as
// those rows of one batch_norm over the whole batch: the output, dx, the running statistics, and
// gamma's and beta's gradients adding up to the whole's (each process holds its share until the
// gradients are averaged). Both ops, batch_norm and batch_norm_relu.
TEST_CASE("batch_norm across two replicas is batch_norm over their whole batch", "[ops][batch_norm]") {
  Rng rng(44);
  const Shape whole_shape{4, 3, 3, 2};
  Tensor x = channel_varied(whole_shape, rng), r = Tensor::normal(whole_shape, 0, 1, rng);
  Tensor gamma = Tensor::normal({3}, 1, 0.3, rng), beta = Tensor::normal({3}, 0, 0.3, rng);
  struct Outcome {
    Tensor y, dx, dgamma, dbeta, running_mean, running_var;
  };
  using BatchNormOp = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, real,
                                 real, const ReplicaSum&);
  auto run = [&](BatchNormOp op, const Tensor& rows_x, const Tensor& rows_r, const ReplicaSum& across) {
    Outcome o;
    Tensor xi = rows_x.clone().set_requires_grad(true), g = gamma.clone().set_requires_grad(true),
           b = beta.clone().set_requires_grad(true);
    o.running_mean = Tensor::zeros({3});
    o.running_var = Tensor::ones({3});
    o.y = op(xi, g, b, o.running_mean, o.running_var, true, 0.1f, 1e-5f, across);
    sum(mul(o.y, rows_r)).backward();
    o.dx = xi.grad(), o.dgamma = g.grad(), o.dbeta = b.grad();
    return o;
  };
  for (BatchNormOp op : {BatchNormOp{batch_norm}, BatchNormOp{batch_norm_relu}}) {
    const Outcome whole = run(op, x, r, {});
    std::barrier<> sync(2);
    std::vector<double> shared[2];
    Outcome half[2];
    auto replica = [&](int id) {
      ReplicaSum across = [&, id](double* values, int64_t count) {
        shared[id].assign(values, values + count);
        sync.arrive_and_wait();  // both halves written
        for (int64_t i = 0; i < count; i++) values[i] = shared[0][i] + shared[1][i];
        sync.arrive_and_wait();  // both read before either writes again
      };
      half[id] = run(op, slice(x, 0, 2 * id, 2 * id + 2), slice(r, 0, 2 * id, 2 * id + 2), across);
    };
    std::thread first(replica, 0), second(replica, 1);
    first.join();
    second.join();
    for (int id : {0, 1}) {
      CAPTURE(id);
      CHECK(allclose(half[id].y, slice(whole.y, 0, 2 * id, 2 * id + 2), 1e-5, 1e-4));
      CHECK(allclose(half[id].dx, slice(whole.dx, 0, 2 * id, 2 * id + 2), 1e-5, 1e-4));
      CHECK(allclose(half[id].running_mean, whole.running_mean, 1e-6, 1e-5));
      CHECK(allclose(half[id].running_var, whole.running_var, 1e-6, 1e-5));
    }
    CHECK(allclose(add(half[0].dgamma, half[1].dgamma), whole.dgamma, 1e-5, 1e-4));
    CHECK(allclose(add(half[0].dbeta, half[1].dbeta), whole.dbeta, 1e-5, 1e-4));
  }
}
