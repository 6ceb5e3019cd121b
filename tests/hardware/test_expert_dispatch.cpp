// Expert-parallel dispatch and combine with node-limited routing.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "hardware/collective_run.h"
#include "hardware/expert_dispatch.h"
#include "tests/hardware/fixtures.h"

using namespace tcsim;
using namespace tcsim::hw;
using namespace tcsim::hw::test;

namespace {

// DeepSeek-V3 (V3-TR §2.1.2, §4.2): 256 routed experts, 8 per token, at most 4 nodes per token.
constexpr int kExperts = 256;
constexpr int kTopK = 8;
constexpr int kMaxNodes = 4;
constexpr int kNodes = 8;  // EP64 over 8 nodes
constexpr int kRanks = kNodes * kGpusPerNode;
constexpr int kTokens = 256;  // per rank, enough for the counts below
constexpr Bytes kTokenBytes = bytes(7168);

GroupLayout ep_group() {
  GroupLayout g;
  g.ranks.resize(kRanks);
  std::iota(g.ranks.begin(), g.ranks.end(), 0);
  g.gpus_per_node = kGpusPerNode;
  return g;
}

MoeRouting v3_routing() { return {.experts = kExperts, .top_k = kTopK, .max_nodes = kMaxNodes}; }

int rank_of_expert(int e) { return e / (kExperts / kRanks); }
int node_of_rank(int r) { return r / kGpusPerNode; }

std::set<int> token_nodes(const RoutedTokens& t, std::size_t token) {
  std::set<int> nodes;
  for (int k = 0; k < t.top_k; ++k) nodes.insert(node_of_rank(rank_of_expert(t.experts[token * kTopK + k])));
  return nodes;
}

}  // namespace

TEST_CASE("node-limited dispatch never sends a token's data to more than M nodes") {
  const GroupLayout g = ep_group();
  const RoutedTokens t = route_tokens(g, v3_routing(), kTokens);
  REQUIRE(t.source.size() == static_cast<std::size_t>(kRanks * kTokens));
  std::size_t most = 0;
  for (std::size_t i = 0; i < t.source.size(); ++i) most = std::max(most, token_nodes(t, i).size());
  CHECK(most <= static_cast<std::size_t>(kMaxNodes));
  // Over the network each token goes once to each target node but its own, so a rank sends at most
  // tokens x M copies: scale-out bytes <= ranks x tokens x M x bytes per token.
  const ExpertTraffic d = expert_dispatch(g, t, kExperts, kTokenBytes);
  CHECK(d.scale_out_bytes.value() <= static_cast<double>(kRanks) * kTokens * kMaxNodes * kTokenBytes.value());
}

TEST_CASE("without a node limit tokens reach more than M nodes") {
  MoeRouting r = v3_routing();
  r.max_nodes = 0;
  const RoutedTokens t = route_tokens(ep_group(), r, kTokens);
  std::size_t most = 0;
  for (std::size_t i = 0; i < t.source.size(); ++i) most = std::max(most, token_nodes(t, i).size());
  CHECK(most > static_cast<std::size_t>(kMaxNodes));
}

TEST_CASE("dispatch sends one copy per remote node over the network and forwards it over NVLink") {
  const GroupLayout g = ep_group();
  const RoutedTokens t = route_tokens(g, v3_routing(), kTokens);
  // Independent count per token: network copies = target nodes other than the sender's;
  // NVLink copies = target ranks in the sender's node other than itself, plus, in each remote node,
  // target ranks other than the forwarding GPU (the one with the sender's local index).
  double network = 0, nvlink = 0;
  for (std::size_t i = 0; i < t.source.size(); ++i) {
    const int s = t.source[i];
    std::set<int> ranks;
    for (int k = 0; k < kTopK; ++k) ranks.insert(rank_of_expert(t.experts[i * kTopK + k]));
    for (const int node : token_nodes(t, i)) {
      if (node != node_of_rank(s)) ++network;
    }
    for (const int r : ranks) {
      const bool local = node_of_rank(r) == node_of_rank(s);
      const int forwarder = node_of_rank(r) * kGpusPerNode + s % kGpusPerNode;
      if ((local && r != s) || (!local && r != forwarder)) ++nvlink;
    }
  }
  const ExpertTraffic d = expert_dispatch(g, t, kExperts, kTokenBytes);
  CHECK(d.scale_out_bytes.value() == doctest::Approx(network * kTokenBytes.value()));
  CHECK(d.nvlink_bytes.value() == doctest::Approx(nvlink * kTokenBytes.value()));
  // Every network transfer joins GPUs of the same local index (one plane).
  for (const Transfer& x : d.schedule.steps.at(0).transfers) {
    if (node_of_rank(x.src) != node_of_rank(x.dst)) CHECK(x.src % kGpusPerNode == x.dst % kGpusPerNode);
  }
}

TEST_CASE("combine is dispatch reversed") {
  const GroupLayout g = ep_group();
  const RoutedTokens t = route_tokens(g, v3_routing(), kTokens);
  const ExpertTraffic d = expert_dispatch(g, t, kExperts, kTokenBytes);
  const ExpertTraffic c = expert_combine(g, t, kExperts, kTokenBytes * 2.0);
  const auto& dt = d.schedule.steps.at(0).transfers;
  const auto& ct = c.schedule.steps.at(0).transfers;
  REQUIRE(dt.size() == ct.size());
  for (std::size_t i = 0; i < dt.size(); ++i) {
    CHECK(ct[i].src == dt[i].dst);
    CHECK(ct[i].dst == dt[i].src);
    CHECK(ct[i].bytes.value() == doctest::Approx(2.0 * dt[i].bytes.value()));
  }
}

TEST_CASE("uniform load spreads tokens evenly over the experts") {
  const RoutedTokens t = route_tokens(ep_group(), v3_routing(), kTokens);
  std::vector<int> per_expert(kExperts, 0);
  for (const int e : t.experts) ++per_expert[static_cast<std::size_t>(e)];
  // Mean: ranks x tokens x top_k / experts = 64 x 256 x 8 / 256 = 512; sampling noise is about
  // sqrt(512) = 23, so every expert lies within 30% of the mean.
  const double mean = static_cast<double>(kRanks) * kTokens * kTopK / kExperts;
  for (const int n : per_expert) CHECK(std::abs(n - mean) < 0.3 * mean);
}

TEST_CASE("a Zipf-skewed load loads the hot experts' GPU and slows the dispatch") {
  const GroupLayout g = ep_group();
  MoeRouting skewed = v3_routing();
  skewed.expert_weights = zipf_weights(kExperts, 1.0);
  // Zipf exponent 1: w_e = 1 / (e + 1), so expert 0 weighs 256 times expert 255.
  CHECK(skewed.expert_weights.front() / skewed.expert_weights.back() == doctest::Approx(256.0));
  const RoutedTokens uniform = route_tokens(g, v3_routing(), kTokens);
  const RoutedTokens hot = route_tokens(g, skewed, kTokens);
  const auto tokens_on_rank = [](const RoutedTokens& t, int rank) {
    return std::count_if(t.experts.begin(), t.experts.end(), [&](int e) { return rank_of_expert(e) == rank; });
  };
  CHECK(tokens_on_rank(hot, 0) > 2 * tokens_on_rank(hot, kRanks - 1));
  const ClusterTopology topo = build_multi_plane_fat_tree(kNodes, hgx_node(kH800NvLink), ib_fabric());
  const double t_uniform = run_schedule(topo, expert_dispatch(g, uniform, kExperts, kTokenBytes).schedule).time.value();
  const double t_hot = run_schedule(topo, expert_dispatch(g, hot, kExperts, kTokenBytes).schedule).time.value();
  CHECK(t_hot > t_uniform);
}

TEST_CASE("routing is reproducible from its seed") {
  const RoutedTokens a = route_tokens(ep_group(), v3_routing(), 16);
  const RoutedTokens b = route_tokens(ep_group(), v3_routing(), 16);
  MoeRouting other = v3_routing();
  other.seed = 2;
  const RoutedTokens c = route_tokens(ep_group(), other, 16);
  CHECK(a.experts == b.experts);
  CHECK(a.experts != c.experts);
}

TEST_CASE("expert routing rejects experts that do not spread over the ranks") {
  MoeRouting r = v3_routing();
  r.experts = 100;  // not a multiple of 64
  CHECK(contains(config_error_of([&] { route_tokens(ep_group(), r, 1); }), "do not spread evenly"));
}
