#include "train/paired_test.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/tensor.h"

namespace glimpse {

// P[X <= k] for X ~ Binomial(n, 1/2), summed in log space: C(n, i) / 2^n underflows a double
// once n passes about 1,000.
static double binomial_half_cdf(int64_t k, int64_t n) {
  const double log_half_power = static_cast<double>(n) * std::log(0.5);
  const double log_n_factorial = std::lgamma(static_cast<double>(n + 1));
  double sum = 0;
  for (int64_t i = 0; i <= k; i++) {
    const double log_choose =
        log_n_factorial - std::lgamma(static_cast<double>(i + 1)) - std::lgamma(static_cast<double>(n - i + 1));
    sum += std::exp(log_choose + log_half_power);
  }
  return sum;
}

PairedComparison mcnemar_exact(const std::vector<uint8_t>& first_right, const std::vector<uint8_t>& second_right) {
  if (first_right.size() != second_right.size())
    fail("mcnemar_exact: the two classifiers were scored on " + std::to_string(first_right.size()) + " and " +
         std::to_string(second_right.size()) + " images; a paired test needs the same images");
  PairedComparison comparison;
  comparison.images = static_cast<int64_t>(first_right.size());
  for (size_t i = 0; i < first_right.size(); i++) {
    comparison.only_first += first_right[i] && !second_right[i];
    comparison.only_second += !first_right[i] && second_right[i];
  }
  const int64_t discordant = comparison.only_first + comparison.only_second;
  const int64_t fewer = std::min(comparison.only_first, comparison.only_second);
  comparison.p_value = std::min(1.0, 2 * binomial_half_cdf(fewer, discordant));
  return comparison;
}

std::string describe_comparison(const PairedComparison& comparison, const std::string& first,
                                const std::string& second) {
  const double points = 100.0 * static_cast<double>(comparison.only_first - comparison.only_second) /
                        static_cast<double>(comparison.images);
  const bool real = comparison.p_value < 0.05;
  const char* verdict =
      !real ? "not a real difference at the 5% level"
            : (comparison.only_first > comparison.only_second ? "a gain at the 5% level" : "a loss at the 5% level");
  char text[320];
  std::snprintf(text, sizeof text,
                "%+.2f points on %lld images: %lld right only %s, %lld only %s; McNemar's exact p = %.2g, %s", points,
                static_cast<long long>(comparison.images), static_cast<long long>(comparison.only_first), first.c_str(),
                static_cast<long long>(comparison.only_second), second.c_str(), comparison.p_value, verdict);
  return text;
}

}  // namespace glimpse
