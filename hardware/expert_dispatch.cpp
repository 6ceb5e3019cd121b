#include "hardware/expert_dispatch.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim::hw {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seeded generator.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }
  // Uniform on (0, 1): the top 53 bits, offset by half a step so 0 never comes.
  double open_unit() {
    constexpr int kWordBits = 64;
    constexpr int kMantissaBits = 53;  // IEEE 754 double
    constexpr double kStep = 1.0 / static_cast<double>(std::uint64_t{1} << kMantissaBits);
    return (static_cast<double>(next() >> (kWordBits - kMantissaBits)) + 0.5) * kStep;
  }

 private:
  std::uint64_t state_;
};

// Where the group's ranks sit: group-node index per position (nodes in order
// of first appearance) and the experts of each group node.
struct Placement {
  int ranks = 0;
  int experts_per_rank = 0;
  std::vector<int> node_of_position;  // group-node index
  std::vector<int> physical_node;     // per group node: the cluster node
  std::vector<std::vector<int>> experts_of_node;
  std::unordered_map<int, int> position_of_gpu;
};

Placement place(const GroupLayout& g, int experts) {
  Placement p;
  p.ranks = static_cast<int>(g.ranks.size());
  if (p.ranks == 0) throw ConfigError("expert parallelism: the group has no GPUs");
  if (experts < p.ranks || experts % p.ranks != 0) {
    throw ConfigError(
        fmt::format("expert parallelism: {} experts do not spread evenly over {} ranks", experts, p.ranks));
  }
  p.experts_per_rank = experts / p.ranks;
  std::unordered_map<int, int> node_index;
  for (int pos = 0; pos < p.ranks; ++pos) {
    const int gpu = g.ranks[static_cast<std::size_t>(pos)];
    const int node = gpu / g.gpus_per_node;
    const auto [it, fresh] = node_index.emplace(node, static_cast<int>(p.physical_node.size()));
    if (fresh) {
      p.physical_node.push_back(node);
      p.experts_of_node.emplace_back();
    }
    p.node_of_position.push_back(it->second);
    p.position_of_gpu.emplace(gpu, pos);
  }
  for (int e = 0; e < experts; ++e) {
    p.experts_of_node[static_cast<std::size_t>(p.node_of_position[static_cast<std::size_t>(e / p.experts_per_rank)])]
        .push_back(e);
  }
  return p;
}

void check_routing(const MoeRouting& r) {
  if (r.top_k < 1 || r.top_k > r.experts) {
    throw ConfigError(fmt::format("expert routing: top_k {} must lie in 1..{} (the experts)", r.top_k, r.experts));
  }
  if (r.max_nodes < 0) throw ConfigError("expert routing: max_nodes must not be negative");
  if (!r.expert_weights.empty()) {
    if (static_cast<int>(r.expert_weights.size()) != r.experts) {
      throw ConfigError(
          fmt::format("expert routing: {} expert weights for {} experts", r.expert_weights.size(), r.experts));
    }
    for (const double w : r.expert_weights) {
      if (!(w > 0.0)) throw ConfigError("expert routing: every expert weight must be positive");
    }
  }
}

// Per-token routing with exponential keys: key_e = Exp(1) / w_e, so
// -log(key_e) = log w_e + Gumbel noise is the expert's affinity and the
// smallest keys are the top affinities (Efraimidis-Spirakis weighted sampling
// without replacement). A node's score, the sum of its best affinities, is
// minus the sum of the logs of its smallest keys.
//
// Only the keys that matter are drawn: by the memorylessness of the
// exponential (Renyi's representation), a node's smallest key is
// Exp(1) / W with W its experts' total weight, its expert is drawn with
// probability w_e / W, and each next key adds Exp(1) / (weight left). So a
// token costs a few draws per node instead of one per expert.
class NodeStream {
 public:
  // `experts` (the node's, in placement order) and their total weight
  // outlive the stream, which draws from them without copying: a token
  // draws a few keys per node, so the experts it has taken are kept as
  // overrides of the slots a swap-with-last removal would have written.
  void reset(const std::vector<int>& experts, double total_weight) {
    experts_ = &experts;
    size_ = experts.size();
    moved_.clear();
    weight_left_ = total_weight;
    key_ = 0.0;
    drawn_.clear();
    taken_ = 0;
  }
  static double total_weight(const std::vector<int>& experts, const std::vector<double>& weights) {
    double total = 0.0;
    for (const int e : experts) total += weight(weights, e);
    return total;
  }
  // The i-th smallest key of this node and its expert, drawing as needed;
  // false when the node has fewer experts.
  bool at(std::size_t i, Rng& rng, const std::vector<double>& weights, std::pair<double, int>& out) {
    while (drawn_.size() <= i) {
      if (size_ == 0) return false;
      draw(rng, weights);
    }
    out = drawn_[i];
    return true;
  }
  std::size_t taken() const { return taken_; }
  void take() { ++taken_; }

 private:
  static double weight(const std::vector<double>& weights, int e) {
    return weights.empty() ? 1.0 : weights[static_cast<std::size_t>(e)];
  }
  // The expert at position i of the experts not yet drawn.
  int left(std::size_t i) const {
    for (const auto& [at, expert] : moved_) {
      if (at == i) return expert;
    }
    return (*experts_)[i];
  }
  void draw(Rng& rng, const std::vector<double>& weights) {
    key_ += -std::log(rng.open_unit()) / weight_left_;
    std::size_t pick = 0;
    if (weights.empty()) {
      pick = std::min(size_ - 1, static_cast<std::size_t>(rng.open_unit() * static_cast<double>(size_)));
    } else {
      double target = rng.open_unit() * weight_left_;
      for (pick = 0; pick + 1 < size_; ++pick) {
        target -= weight(weights, left(pick));
        if (target <= 0.0) break;
      }
    }
    const int expert = left(pick);
    drawn_.emplace_back(key_, expert);
    weight_left_ -= weight(weights, expert);
    // Swap with the last and drop it: position `pick` now holds the last one.
    const int last = left(size_ - 1);
    --size_;
    if (pick == size_) return;
    const auto it = std::find_if(moved_.begin(), moved_.end(), [&](const auto& m) { return m.first == pick; });
    if (it != moved_.end()) {
      it->second = last;
    } else {
      moved_.emplace_back(pick, last);
    }
  }

  const std::vector<int>* experts_ = nullptr;
  std::size_t size_ = 0;                            // experts not yet drawn
  std::vector<std::pair<std::size_t, int>> moved_;  // (position, expert) where it differs from experts_
  double weight_left_ = 0.0;
  double key_ = 0.0;
  std::vector<std::pair<double, int>> drawn_;
  std::size_t taken_ = 0;
};

class TokenRouter {
 public:
  TokenRouter(const MoeRouting& r, const Placement& p) : r_(r), p_(p) {
    const int nodes = static_cast<int>(p.physical_node.size());
    limited_ = r.max_nodes > 0 && r.max_nodes < nodes;
    score_top_ = r.node_score_experts > 0 ? r.node_score_experts : std::max(1, r.top_k / std::max(1, r.max_nodes));
    streams_.resize(static_cast<std::size_t>(nodes));
    node_score_.resize(static_cast<std::size_t>(nodes));
    for (const auto& experts : p.experts_of_node) {
      node_weight_.push_back(NodeStream::total_weight(experts, r.expert_weights));
    }
  }

  void route(Rng& rng, std::vector<int>& out) {
    for (std::size_t m = 0; m < streams_.size(); ++m) streams_[m].reset(p_.experts_of_node[m], node_weight_[m]);
    chosen_.resize(streams_.size());
    std::iota(chosen_.begin(), chosen_.end(), 0);
    if (limited_) {
      score_nodes(rng);
      std::partial_sort(chosen_.begin(), chosen_.begin() + r_.max_nodes, chosen_.end(), [&](int a, int b) {
        return node_score_[static_cast<std::size_t>(a)] != node_score_[static_cast<std::size_t>(b)]
                   ? node_score_[static_cast<std::size_t>(a)] < node_score_[static_cast<std::size_t>(b)]
                   : a < b;
      });
      chosen_.resize(static_cast<std::size_t>(r_.max_nodes));
    }
    merge_top_k(rng, out);
  }

 private:
  // A node's score: the sum of the logs of its smallest keys (smaller is better).
  void score_nodes(Rng& rng) {
    std::pair<double, int> drawn;
    for (std::size_t m = 0; m < streams_.size(); ++m) {
      double log_sum = 0.0;
      for (std::size_t i = 0;
           i < static_cast<std::size_t>(score_top_) && streams_[m].at(i, rng, r_.expert_weights, drawn); ++i) {
        log_sum += std::log(drawn.first);
      }
      node_score_[m] = log_sum;
    }
  }

  // The top_k smallest keys over the chosen nodes, merging their streams.
  void merge_top_k(Rng& rng, std::vector<int>& out) {
    std::pair<double, int> drawn;
    for (int k = 0; k < r_.top_k; ++k) {
      int best = -1;
      double best_key = 0.0;
      for (const int m : chosen_) {
        NodeStream& s = streams_[static_cast<std::size_t>(m)];
        if (s.at(s.taken(), rng, r_.expert_weights, drawn) && (best < 0 || drawn.first < best_key)) {
          best = m;
          best_key = drawn.first;
        }
      }
      if (best < 0) return;  // fewer experts than top_k on the chosen nodes
      NodeStream& s = streams_[static_cast<std::size_t>(best)];
      s.at(s.taken(), rng, r_.expert_weights, drawn);
      out.push_back(drawn.second);
      s.take();
    }
  }

  const MoeRouting& r_;
  const Placement& p_;
  std::vector<NodeStream> streams_;
  std::vector<double> node_score_;
  std::vector<double> node_weight_;  // each node's experts' total weight
  std::vector<int> chosen_;
  bool limited_ = false;
  int score_top_ = 1;
};

// Token copies per (sender, receiver), in three kinds that stay separate
// flows: NVLink sends inside the sender's node, scale-out sends to the
// same-index GPU of another node, and that GPU's NVLink forwards.
struct TokenCounts {
  int local_count = 0;                  // GPUs per node in the cluster
  std::vector<std::int64_t> direct;     // [sender pos * g + target local index]
  std::vector<std::int64_t> forward;    // [proxy pos * g + target local index]
  std::vector<std::int64_t> scale_out;  // [sender pos * group nodes + target group node]
  std::int64_t node_copies = 0;         // (token, target node) pairs, own node included
  std::int64_t rank_copies = 0;         // (token, target rank) pairs, own rank included
};

enum Channel { kDirect = 0, kScaleOut = 1, kForward = 2 };

TokenCounts count_tokens(const GroupLayout& g, const Placement& p, const RoutedTokens& tokens) {
  const int gl = g.gpus_per_node;
  const int nodes = static_cast<int>(p.physical_node.size());
  TokenCounts c;
  c.local_count = gl;
  c.direct.assign(static_cast<std::size_t>(p.ranks * gl), 0);
  c.forward.assign(static_cast<std::size_t>(p.ranks * gl), 0);
  c.scale_out.assign(static_cast<std::size_t>(p.ranks * nodes), 0);
  // The group position of the GPU with local index `local` on group node m, -1 if none.
  std::vector<int> position_at(static_cast<std::size_t>(nodes * gl), -1);
  for (int m = 0; m < nodes; ++m) {
    for (int local = 0; local < gl; ++local) {
      const auto it = p.position_of_gpu.find(p.physical_node[static_cast<std::size_t>(m)] * gl + local);
      if (it != p.position_of_gpu.end()) position_at[static_cast<std::size_t>(m * gl + local)] = it->second;
    }
  }
  // Distinct target ranks, grouped by node so that each node comes in one run:
  // ordered by (node, position), a handful per token (insertion order).
  const auto before = [&](int a, int b) {
    const int na = p.node_of_position[static_cast<std::size_t>(a)];
    const int nb = p.node_of_position[static_cast<std::size_t>(b)];
    return na != nb ? na < nb : a < b;
  };
  std::vector<int> targets;
  for (std::size_t t = 0; t < tokens.source.size(); ++t) {
    const int s = tokens.source[t];
    const int s_gpu = g.ranks[static_cast<std::size_t>(s)];
    targets.clear();
    for (int k = 0; k < tokens.top_k; ++k) {
      const int pos =
          tokens.experts[t * static_cast<std::size_t>(tokens.top_k) + static_cast<std::size_t>(k)] / p.experts_per_rank;
      auto at = targets.end();
      while (at != targets.begin() && before(pos, *(at - 1))) --at;
      if (at != targets.begin() && *(at - 1) == pos) continue;  // a rank already chosen
      targets.insert(at, pos);
    }
    c.rank_copies += static_cast<std::int64_t>(targets.size());
    int last_node = -1;
    for (const int pos : targets) {
      const int m = p.node_of_position[static_cast<std::size_t>(pos)];
      const int local = g.ranks[static_cast<std::size_t>(pos)] % gl;
      if (m != last_node) ++c.node_copies;
      if (m == p.node_of_position[static_cast<std::size_t>(s)]) {
        if (pos != s) ++c.direct[static_cast<std::size_t>(s * gl + local)];
      } else {
        const int proxy = position_at[static_cast<std::size_t>(m * gl + s_gpu % gl)];
        if (proxy < 0) {
          throw ConfigError(
              fmt::format("expert parallelism: GPU {} forwards for GPU {} but is not in the group; the "
                          "group must hold the same local GPUs of every node",
                          p.physical_node[static_cast<std::size_t>(m)] * gl + s_gpu % gl, s_gpu));
        }
        if (m != last_node) ++c.scale_out[static_cast<std::size_t>(s * nodes + m)];
        if (proxy != pos) ++c.forward[static_cast<std::size_t>(proxy * gl + local)];
      }
      last_node = m;
    }
  }
  return c;
}

ExpertTraffic traffic(const GroupLayout& g, const RoutedTokens& tokens, int experts, Bytes bytes, bool combine) {
  const Placement p = place(g, experts);
  const TokenCounts c = count_tokens(g, p, tokens);
  const int gl = g.gpus_per_node;
  const int nodes = static_cast<int>(p.physical_node.size());
  ExpertTraffic out;
  out.schedule.name = combine ? "expert combine" : "expert dispatch";
  Step step;
  const auto add = [&](int src, int dst, std::int64_t count, Channel channel) {
    if (count == 0) return;
    const Bytes b = bytes * static_cast<double>(count);
    step.transfers.push_back(combine ? Transfer{dst, src, b, channel} : Transfer{src, dst, b, channel});
    (channel == kScaleOut ? out.scale_out_bytes : out.nvlink_bytes) += b;
  };
  for (int pos = 0; pos < p.ranks; ++pos) {
    const int gpu = g.ranks[static_cast<std::size_t>(pos)];
    const int node_base = (gpu / gl) * gl;
    for (int local = 0; local < gl; ++local) {
      add(gpu, node_base + local, c.direct[static_cast<std::size_t>(pos * gl + local)], kDirect);
      add(gpu, node_base + local, c.forward[static_cast<std::size_t>(pos * gl + local)], kForward);
    }
    for (int m = 0; m < nodes; ++m) {
      add(gpu, p.physical_node[static_cast<std::size_t>(m)] * gl + gpu % gl,
          c.scale_out[static_cast<std::size_t>(pos * nodes + m)], kScaleOut);
    }
  }
  out.schedule.steps.push_back(std::move(step));
  out.deepep_rdma_bytes_per_rank = bytes * (static_cast<double>(c.node_copies) / p.ranks);
  out.deepep_nvl_bytes_per_rank = bytes * (static_cast<double>(c.rank_copies) / p.ranks);
  return out;
}

}  // namespace

std::vector<double> zipf_weights(int experts, double exponent) {
  std::vector<double> w(static_cast<std::size_t>(std::max(0, experts)));
  for (int e = 0; e < experts; ++e) w[static_cast<std::size_t>(e)] = std::pow(e + 1.0, -exponent);
  return w;
}

RoutedTokens route_tokens(const GroupLayout& group, const MoeRouting& routing, int tokens_per_rank) {
  check_routing(routing);
  if (tokens_per_rank < 0) throw ConfigError("expert routing: tokens per rank must not be negative");
  const Placement p = place(group, routing.experts);
  RoutedTokens out;
  out.top_k = routing.top_k;
  TokenRouter router(routing, p);
  Rng rng(routing.seed);
  for (int pos = 0; pos < p.ranks; ++pos) {
    for (int t = 0; t < tokens_per_rank; ++t) {
      out.source.push_back(pos);
      router.route(rng, out.experts);
    }
  }
  return out;
}

ExpertTraffic expert_dispatch(const GroupLayout& group, const RoutedTokens& tokens, int experts,
                              Bytes bytes_per_token) {
  return traffic(group, tokens, experts, bytes_per_token, /*combine=*/false);
}

ExpertTraffic expert_combine(const GroupLayout& group, const RoutedTokens& tokens, int experts, Bytes bytes_per_token) {
  return traffic(group, tokens, experts, bytes_per_token, /*combine=*/true);
}

}  // namespace tcsim::hw
