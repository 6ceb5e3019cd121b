// All-to-all, direct or pairwise: collectives.h.
#include <utility>

#include "core/error.h"
#include "hardware/collectives/common.h"

namespace tcsim::hw {

using detail::check_group;
using detail::group_size;

Schedule all_to_all(const GroupLayout& group, Bytes size, CollectiveAlgo algo) {
  check_group(group, 1);
  const int n = group_size(group);
  const Bytes each = size / n;
  const auto rank = [&](int i) { return group.ranks[static_cast<std::size_t>(i % n)]; };
  Schedule s{algo == CollectiveAlgo::pairwise ? "pairwise all-to-all" : "direct all-to-all", {}};
  if (n == 1) return s;
  if (algo == CollectiveAlgo::pairwise) {
    for (int k = 1; k < n; ++k) {
      Step step;
      for (int i = 0; i < n; ++i) step.transfers.push_back({rank(i), rank(i + k), each, 0});
      s.steps.push_back(std::move(step));
    }
    return s;
  }
  if (algo != CollectiveAlgo::direct) throw ConfigError("all-to-all: the algorithm must be direct or pairwise");
  Step step;
  for (int i = 0; i < n; ++i) {
    for (int k = 1; k < n; ++k) step.transfers.push_back({rank(i), rank(i + k), each, 0});
  }
  s.steps.push_back(std::move(step));
  return s;
}

}  // namespace tcsim::hw
