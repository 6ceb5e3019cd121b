#include "sim/expert_load.h"

#include <algorithm>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "core/error.h"
#include "sim/random.h"

namespace tcsim::sim {
namespace {

// Group positions node by node (nodes in order of first appearance).
std::vector<std::vector<int>> positions_by_node(const hw::GroupLayout& group) {
  std::vector<std::vector<int>> nodes;
  std::map<int, std::size_t> where;
  for (std::size_t pos = 0; pos < group.ranks.size(); ++pos) {
    const int node = group.ranks[pos] / group.gpus_per_node;
    const auto [it, fresh] = where.emplace(node, nodes.size());
    if (fresh) nodes.emplace_back();
    nodes[it->second].push_back(static_cast<int>(pos));
  }
  return nodes;
}

int nodes_per_token(const RoutingShape& shape, int nodes) {
  const int limit = shape.max_nodes > 0 ? shape.max_nodes : shape.top_k;
  return std::min({limit, nodes, shape.top_k});
}

double max_violation(const std::vector<double>& w) {
  const double mean = std::accumulate(w.begin(), w.end(), 0.0) / static_cast<double>(w.size());
  return *std::max_element(w.begin(), w.end()) / mean - 1.0;
}

}  // namespace

int balanced_tokens_per_rank(const hw::GroupLayout& group, const RoutingShape& /*shape*/) {
  const auto nodes = positions_by_node(group);
  return static_cast<int>(nodes.size() * nodes.front().size());
}

hw::RoutedTokens balanced_routing(const hw::GroupLayout& group, const RoutingShape& shape, int tokens_per_rank) {
  const auto nodes = positions_by_node(group);
  const int n = static_cast<int>(nodes.size());
  const int ranks = static_cast<int>(group.ranks.size());
  if (shape.experts % ranks != 0) {
    throw ConfigError(
        fmt::format("expert parallelism: {} experts do not spread evenly over {} ranks", shape.experts, ranks));
  }
  const int experts_per_rank = shape.experts / ranks;
  const int m = nodes_per_token(shape, n);
  hw::RoutedTokens out;
  out.top_k = shape.top_k;
  out.source.reserve(static_cast<std::size_t>(ranks) * static_cast<std::size_t>(tokens_per_rank));
  out.experts.reserve(out.source.capacity() * static_cast<std::size_t>(std::max(0, shape.top_k)));
  for (int s = 0; s < ranks; ++s) {
    for (int t = 0; t < tokens_per_rank; ++t) {
      out.source.push_back(s);
      const int round = t / n;
      for (int j = 0; j < m; ++j) {
        const std::vector<int>& node = nodes[static_cast<std::size_t>((t + s + j) % n)];
        const int g = static_cast<int>(node.size());
        const int here = shape.top_k / m + (j < shape.top_k % m ? 1 : 0);
        for (int i = 0; i < here; ++i) {
          // Experts beyond one per GPU of the node wrap to the next local expert.
          const int slot = round + i;
          const int pos = node[static_cast<std::size_t>(slot % g)];
          const int local_expert = (round / g + slot / g) % experts_per_rank;
          out.experts.push_back(pos * experts_per_rank + local_expert);
        }
      }
    }
  }
  return out;
}

std::vector<double> skewed_expert_weights(int experts, double max_viol, std::uint64_t seed) {
  // max / mean of Zipf weights grows with the exponent: bisect for it.
  double lo = 0.0, hi = 4.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (max_violation(hw::zipf_weights(experts, mid)) < max_viol ? lo : hi) = mid;
  }
  std::vector<double> w = hw::zipf_weights(experts, 0.5 * (lo + hi));
  shuffle(w, seed);
  return w;
}

std::vector<double> received_load(const hw::RoutedTokens& tokens, int ranks, int experts) {
  std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
  const int per_rank = experts / ranks;
  for (const int e : tokens.experts) load[static_cast<std::size_t>(e / per_rank)] += 1.0;
  const double mean = static_cast<double>(tokens.experts.size()) / ranks;
  for (double& l : load) l = mean > 0 ? l / mean : 1.0;
  return load;
}

}  // namespace tcsim::sim
