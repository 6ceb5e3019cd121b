// Hierarchical all-reduce: intra-node rings around an inter-node ring per
// local index: collectives.h.
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "hardware/collectives/common.h"

namespace tcsim::hw {
namespace {

using detail::by_node;
using detail::check_group;
using detail::group_size;

// The same GPUs (by local index) of every node the group touches.
std::vector<std::vector<int>> aligned_nodes(const GroupLayout& g) {
  auto nodes = by_node(g);
  for (auto& node : nodes) std::sort(node.begin(), node.end());
  for (const auto& node : nodes) {
    bool same = node.size() == nodes.front().size();
    for (std::size_t i = 0; same && i < node.size(); ++i) {
      same = node[i] % g.gpus_per_node == nodes.front()[i] % g.gpus_per_node;
    }
    if (!same) {
      throw ConfigError("hierarchical all-reduce: the group must hold the same local GPUs of every node it spans");
    }
  }
  return nodes;
}

}  // namespace

Schedule hierarchical_all_reduce(const GroupLayout& group, Bytes size) {
  check_group(group, 1);
  const auto nodes = aligned_nodes(group);
  const int per_node = static_cast<int>(nodes.front().size());
  const int node_count = static_cast<int>(nodes.size());
  Schedule s{"hierarchical all-reduce", {}};
  // Intra-node reduce-scatter and, last, all-gather: k-1 steps of size/k in every node.
  Step intra;
  intra.repeat = per_node - 1;
  for (const auto& node : nodes) {
    for (int i = 0; i < per_node; ++i) {
      intra.transfers.push_back(
          {node[static_cast<std::size_t>(i)], node[static_cast<std::size_t>((i + 1) % per_node)], size / per_node, 0});
    }
  }
  // Inter-node ring all-reduce of each GPU's 1/k shard among the GPUs of its
  // local index: 2(N-1) steps of size/(k N).
  Step inter;
  inter.repeat = 2 * (node_count - 1);
  for (int i = 0; i < per_node; ++i) {
    for (int j = 0; j < node_count; ++j) {
      inter.transfers.push_back({nodes[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)],
                                 nodes[static_cast<std::size_t>((j + 1) % node_count)][static_cast<std::size_t>(i)],
                                 size / (static_cast<double>(per_node) * node_count), i});
    }
  }
  if (per_node > 1) s.steps.push_back(intra);
  if (node_count > 1) s.steps.push_back(inter);
  if (per_node > 1) s.steps.push_back(intra);
  return s;
}

}  // namespace tcsim::hw
