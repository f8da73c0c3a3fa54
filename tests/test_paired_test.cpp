// McNemar's exact test against its definition summed with exact binomial coefficients, and
// against p-values computed apart (Python's math.comb).
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/tensor.h"
#include "train/paired_test.h"

using namespace glimpse;
using Catch::Contains;

// b images right only with the first classifier, c only with the second, `both` with both.
static PairedComparison compare(int64_t b, int64_t c, int64_t both = 3) {
  std::vector<uint8_t> first, second;
  for (int64_t i = 0; i < b; i++) first.push_back(1), second.push_back(0);
  for (int64_t i = 0; i < c; i++) first.push_back(0), second.push_back(1);
  for (int64_t i = 0; i < both; i++) first.push_back(1), second.push_back(1);
  first.push_back(0), second.push_back(0);  // one neither gets right
  return mcnemar_exact(first, second);
}

// The definition, for small b + c: 2 * sum_{i <= min(b, c)} C(b + c, i) / 2^(b + c), at most 1.
static double naive_p(int64_t b, int64_t c) {
  const int64_t n = b + c;
  double sum = 0, choose = 1;  // C(n, 0)
  for (int64_t i = 0; i <= std::min(b, c); i++) {
    sum += choose;
    choose = choose * static_cast<double>(n - i) / static_cast<double>(i + 1);
  }
  return std::min(1.0, 2 * sum / std::pow(2.0, static_cast<double>(n)));
}

TEST_CASE("mcnemar_exact counts the discordant images and gives the exact binomial p-value", "[train][stats]") {
  PairedComparison c = compare(1, 9);
  CHECK(c.images == 14);
  CHECK(c.only_first == 1);
  CHECK(c.only_second == 9);
  CHECK(c.p_value == Approx(22.0 / 1024).epsilon(1e-12));
  for (int64_t b = 0; b <= 12; b++)
    for (int64_t d = 0; d <= 12; d++) {
      INFO(b << " against " << d);
      CHECK(compare(b, d).p_value == Approx(naive_p(b, d)).epsilon(1e-10));
      CHECK(compare(b, d).p_value == compare(d, b).p_value);  // two-sided: symmetric
    }
  CHECK(compare(0, 0).p_value == 1);  // no evidence either way
  CHECK(compare(7, 7).p_value == 1);
  // computed apart; the last two sum far beyond where C(n, i) / 2^n fits a double
  CHECK(compare(10, 25).p_value == Approx(0.01667384780012071).epsilon(1e-9));
  CHECK(compare(121, 79).p_value == Approx(0.0036349479525299385).epsilon(1e-9));
  CHECK(compare(400, 480).p_value == Approx(0.007707305043339141).epsilon(1e-9));
}

TEST_CASE("describe_comparison says the difference, the counts and whether it is real at 5%", "[train][stats]") {
  CHECK_THAT(describe_comparison(compare(121, 79, 9799), "with the gates", "without"),
             Contains("+0.42 points on 10000 images: 121 right only with the gates, 79 only without") &&
                 Contains("p = 0.0036, a gain at the 5% level"));
  CHECK_THAT(describe_comparison(compare(79, 121, 9799), "with", "without"), Contains("a loss at the 5% level"));
  CHECK_THAT(describe_comparison(compare(10, 12), "with", "without"),
             Contains("not a real difference at the 5% level"));
  CHECK_THROWS_WITH(mcnemar_exact({1, 0}, {1}), Contains("scored on 2 and 1 images"));
}
