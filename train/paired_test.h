// Is one classifier really better than another on the same test images, or is the difference
// chance? McNemar's exact test (McNemar 1947; Dietterich 1998 recommends it for comparing two
// classifiers on one test set).
//
// Only the images exactly one of the two gets right carry evidence: b of them only the first
// gets right, c only the second. If the two were equally good, each of those b + c images would
// be a fair coin between them, so b ~ Binomial(b + c, 1/2), and the two-sided p-value is
//
//   p = min(1, 2 P[X <= min(b, c)]),   X ~ Binomial(b + c, 1/2).
//
// A difference is called real at the 5% level when p < 0.05.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

struct PairedComparison {
  int64_t images = 0;
  int64_t only_first = 0, only_second = 0;  // b and c: images only that classifier gets right
  double p_value = 1;
};

// first_right[i], second_right[i]: whether each classifier gets image i right (1) or not (0).
PairedComparison mcnemar_exact(const std::vector<uint8_t>& first_right, const std::vector<uint8_t>& second_right);

// "+0.42 points on 10,000 images: 121 right only with the learnt gates, 79 only with all gates
//  at one; McNemar's exact p = 0.0036, a gain at the 5% level"
std::string describe_comparison(const PairedComparison& comparison, const std::string& first,
                                const std::string& second);

}  // namespace glimpse
