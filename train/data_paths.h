// Where a trainer finds its data: --data DIR when given, else the full set at data/<set> in the
// repository (where scripts/download_data.sh puts it), else the small sample bundled in
// data/sample/<set>, saying so.
#pragma once

#include <string>

namespace glimpse {

struct DataLocation {
  std::string dir;
  bool is_sample = false;
};

// set: "mnist" or "cifar10". A --data directory that does not exist or holds no such data set
// is an Error that says what was expected there and how to get it.
DataLocation find_data(const std::string& data_flag, const std::string& set, bool quiet);

std::string repository_root();  // compiled in: where the bundled sample lives

}  // namespace glimpse
