// Counts in messages, as English writes them: count_of(1, "epoch") is "1 epoch",
// count_of(3, "epoch") is "3 epochs"; a noun whose plural is not noun + "s" gives it.
#pragma once

#include <cstdint>
#include <string>

namespace glimpse {

inline std::string count_of(int64_t n, const std::string& noun, const std::string& plural = "") {
  return std::to_string(n) + " " + (n == 1 ? noun : plural.empty() ? noun + "s" : plural);
}

}  // namespace glimpse
