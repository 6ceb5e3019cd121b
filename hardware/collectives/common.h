// What the collective algorithms (one leaf file each in this folder) share.
// Private to hardware/.
#pragma once

#include <vector>

#include "hardware/collectives.h"

namespace tcsim::hw::detail {

inline int group_size(const GroupLayout& g) { return static_cast<int>(g.ranks.size()); }

// The group's GPUs node by node, nodes in order of first appearance.
std::vector<std::vector<int>> by_node(const GroupLayout& g);

// ConfigError for an empty group, a GPU twice, or channels below 1.
void check_group(const GroupLayout& g, int channels);

}  // namespace tcsim::hw::detail
