// Expert routing for the EP all-to-all (sim/expert_load.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "sim/expert_load.h"

using namespace tcsim;
using namespace tcsim::sim;

namespace {

// DeepSeek-V3's EP group: 64 GPUs on 8 nodes; 256 experts, top-8, at most 4 nodes (V3-TR §2.1.2, §3.2).
hw::GroupLayout ep64() {
  hw::GroupLayout g{{}, 8};
  for (int i = 0; i < 64; ++i) g.ranks.push_back(i);
  return g;
}
constexpr RoutingShape kV3{.experts = 256, .top_k = 8, .max_nodes = 4};

}  // namespace

TEST_CASE("balanced routing sends every token to 8 distinct experts on exactly 4 nodes") {
  const hw::GroupLayout g = ep64();
  const int per_rank = balanced_tokens_per_rank(g, kV3);
  const hw::RoutedTokens t = balanced_routing(g, kV3, per_rank);
  CHECK(t.source.size() == static_cast<std::size_t>(64 * per_rank));
  for (std::size_t i = 0; i < t.source.size(); ++i) {
    std::set<int> experts, nodes;
    for (int k = 0; k < 8; ++k) {
      const int e = t.experts[i * 8 + static_cast<std::size_t>(k)];
      experts.insert(e);
      nodes.insert(e / 4 / 8);  // 4 experts per GPU, 8 GPUs per node
    }
    CHECK(experts.size() == 8);
    CHECK(nodes.size() == 4);
  }
}

TEST_CASE("balanced routing gives every GPU the mean load and every source each node half its tokens") {
  const hw::GroupLayout g = ep64();
  const int per_rank = balanced_tokens_per_rank(g, kV3);
  const hw::RoutedTokens t = balanced_routing(g, kV3, per_rank);
  // Mean load: every GPU receives tokens x 8 / 64 assignments: load 1 everywhere.
  for (const double l : received_load(t, 64, 256)) CHECK(l == doctest::Approx(1.0));
  // A token picks 4 of 8 nodes: each (source, node) pair gets 4/8 of the source's tokens.
  std::map<std::pair<int, int>, int> hits;
  for (std::size_t i = 0; i < t.source.size(); ++i) {
    std::set<int> nodes;
    for (int k = 0; k < 8; ++k) nodes.insert(t.experts[i * 8 + static_cast<std::size_t>(k)] / 32);
    for (const int n : nodes) ++hits[{t.source[i], n}];
  }
  for (const auto& [pair, count] : hits) CHECK(count * 2 == per_rank);
}

TEST_CASE("skewed expert weights hit the published max violation") {
  // Wang et al. 2024 (arXiv:2408.15664) Table 2: MaxVio 0.04. max / mean - 1 of the weights = 0.04.
  const std::vector<double> w = skewed_expert_weights(256, 0.04, 7);
  const double mean = std::accumulate(w.begin(), w.end(), 0.0) / 256.0;
  CHECK(*std::max_element(w.begin(), w.end()) / mean - 1.0 == doctest::Approx(0.04).epsilon(1e-6));
  // Another seed puts the hottest expert elsewhere.
  const std::vector<double> v = skewed_expert_weights(256, 0.04, 8);
  CHECK(std::max_element(w.begin(), w.end()) - w.begin() != std::max_element(v.begin(), v.end()) - v.begin());
}
