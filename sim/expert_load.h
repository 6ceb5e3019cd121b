// Which experts the tokens of one micro-batch reach, for the EP all-to-all and
// the experts' compute.
// - balanced_routing: the mean traffic of uniform routing, exactly: every
//   rank sends each node of the group the same share of its tokens and each
//   expert receives the same number. What the symmetric mode assumes (every
//   replica identical).
// - skewed_expert_weights: relative expert loads for the full mode's sampled
//   routing (hw::route_tokens), set so that the hottest expert's excess over
//   the mean is a published figure.
#pragma once

#include <cstdint>
#include <vector>

#include "hardware/collectives.h"
#include "hardware/expert_dispatch.h"

namespace tcsim::sim {

struct RoutingShape {
  int experts = 0;    // routed experts, spread evenly over the group's ranks in order
  int top_k = 0;      // experts per token
  int max_nodes = 0;  // node-limited routing; 0: no limit
};

// Token t of group position s goes to the m = min(max_nodes or top_k, nodes)
// consecutive group nodes starting at (t + s) mod nodes, top_k / m experts on
// each (the first top_k mod m nodes one more), on consecutive GPUs of that
// node starting at (t / nodes) mod GPUs-per-node. With tokens_per_rank a
// multiple of nodes x GPUs-per-node every (source, node) pair and every GPU
// gets exactly its mean share of token copies; a multiple of that times
// experts-per-rank also balances the experts inside each GPU (which the
// traffic does not depend on).
hw::RoutedTokens balanced_routing(const hw::GroupLayout& group, const RoutingShape& shape, int tokens_per_rank);

// The smallest tokens_per_rank for which balanced_routing's traffic is exact:
// nodes x GPUs-per-node of the group.
int balanced_tokens_per_rank(const hw::GroupLayout& group, const RoutingShape& shape);

// Zipf weights (e + 1)^-a with a chosen so that max / mean - 1 equals
// `max_violation`, shuffled by `seed` so the hottest experts land on
// different ranks in different samples.
std::vector<double> skewed_expert_weights(int experts, double max_violation, std::uint64_t seed);

// Token-expert assignments each group position receives, over the mean.
std::vector<double> received_load(const hw::RoutedTokens& tokens, int ranks, int experts);

}  // namespace tcsim::sim
