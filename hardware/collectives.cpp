#include "hardware/collectives.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/names.h"

namespace tcsim::hw {
namespace {

int group_size(const GroupLayout& g) { return static_cast<int>(g.ranks.size()); }

// The group's GPUs node by node, nodes in order of first appearance.
std::vector<std::vector<int>> by_node(const GroupLayout& g) {
  std::vector<std::vector<int>> nodes;
  std::map<int, std::size_t> where;
  for (const int r : g.ranks) {
    const int node = r / g.gpus_per_node;
    const auto [it, fresh] = where.emplace(node, nodes.size());
    if (fresh) nodes.emplace_back();
    nodes[it->second].push_back(r);
  }
  return nodes;
}

// Channel c's ring: node j's GPUs rotated to start at position (c - j) mod k,
// so the GPU leaving node j and the one entering node j+1 share a local index.
std::vector<int> ring_order(const std::vector<std::vector<int>>& nodes, int channel) {
  std::vector<int> order;
  for (std::size_t j = 0; j < nodes.size(); ++j) {
    const int k = static_cast<int>(nodes[j].size());
    const int start = ((channel - static_cast<int>(j)) % k + k) % k;
    for (int i = 0; i < k; ++i) order.push_back(nodes[j][static_cast<std::size_t>((start + i) % k)]);
  }
  return order;
}

// One ring step: every rank of every channel's ring sends `bytes` to its successor.
Step ring_step(const GroupLayout& g, Bytes bytes, int channels, int repeat) {
  const auto nodes = by_node(g);
  Step s;
  s.repeat = repeat;
  for (int c = 0; c < channels; ++c) {
    const std::vector<int> order = ring_order(nodes, c);
    for (std::size_t i = 0; i < order.size(); ++i) {
      s.transfers.push_back({order[i], order[(i + 1) % order.size()], bytes, c});
    }
  }
  return s;
}

void check_group(const GroupLayout& g, int channels) {
  if (g.ranks.empty()) throw ConfigError("collective: the group has no GPUs");
  if (g.gpus_per_node < 1) throw std::invalid_argument("collective: gpus_per_node must be positive");
  if (channels < 1) throw ConfigError(fmt::format("collective: channels must be at least 1, got {}", channels));
  if (std::set<int>(g.ranks.begin(), g.ranks.end()).size() != g.ranks.size()) {
    throw ConfigError("collective: a GPU appears twice in the group");
  }
}

// A ring collective of `steps` identical steps of size / (n x channels).
Schedule ring_collective(std::string name, const GroupLayout& g, Bytes size, int channels, int steps_per_n) {
  check_group(g, channels);
  const int n = group_size(g);
  Schedule s{std::move(name), {}};
  if (n == 1) return s;
  const Bytes chunk = size / (static_cast<double>(n) * channels);
  s.steps.push_back(ring_step(g, chunk, channels, steps_per_n * (n - 1)));
  return s;
}

// Parent of position r in NCCL's binary tree over n positions rooted at 0
// (NCCL src/graph/trees.cc, ncclGetBtree): clear r's lowest set bit and set
// the next one up; if that is out of range, only clear it.
int btree_parent(int n, int r) {
  if (r == 0) return -1;
  const int bit = r & -r;
  const int up = (r ^ bit) | (bit << 1);
  return up < n ? up : (r ^ bit);
}

// The second tree of the double binary tree: mirrored for even n, shifted by
// one for odd n (NCCL ncclGetDtree).
int dtree_parent(int n, int r) {
  if (n % 2 == 0) {
    const int p = btree_parent(n, n - 1 - r);
    return p < 0 ? -1 : n - 1 - p;
  }
  const int p = btree_parent(n, (r - 1 + n) % n);
  return p < 0 ? -1 : (p + 1) % n;
}

struct Tree {
  std::vector<int> parent;  // by position; -1 at the root
  std::vector<int> height;  // longest path down to a leaf
  std::vector<int> depth;   // distance from the root
  int root_height = 0;
};

Tree make_tree(int n, bool second) {
  Tree t;
  t.parent.resize(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) t.parent[static_cast<std::size_t>(r)] = second ? dtree_parent(n, r) : btree_parent(n, r);
  t.depth.assign(static_cast<std::size_t>(n), 0);
  for (int r = 0; r < n; ++r) {
    for (int p = t.parent[static_cast<std::size_t>(r)]; p >= 0; p = t.parent[static_cast<std::size_t>(p)]) {
      ++t.depth[static_cast<std::size_t>(r)];
    }
  }
  t.height.assign(static_cast<std::size_t>(n), 0);
  for (int r = 0; r < n; ++r) {
    int h = 0;
    for (int p = t.parent[static_cast<std::size_t>(r)]; p >= 0; p = t.parent[static_cast<std::size_t>(p)]) {
      ++h;
      t.height[static_cast<std::size_t>(p)] = std::max(t.height[static_cast<std::size_t>(p)], h);
    }
  }
  t.root_height = *std::max_element(t.height.begin(), t.height.end());
  return t;
}

// Pipelined reduce then broadcast of `chunks` chunks over one tree. The edge
// from v up to its parent carries chunk c at step c + height(v) (v has all of
// chunk c from its subtree by then); the root starts chunk c down at step
// c + root_height, and the edge from u down to a child at step
// c + root_height + depth(u).
struct EdgeWindow {
  int src = 0;
  int dst = 0;
  int first_step = 0;
};

std::vector<EdgeWindow> tree_windows(const Tree& t) {
  std::vector<EdgeWindow> w;
  for (int v = 0; v < static_cast<int>(t.parent.size()); ++v) {
    const int p = t.parent[static_cast<std::size_t>(v)];
    if (p < 0) continue;
    w.push_back({v, p, t.height[static_cast<std::size_t>(v)]});
    w.push_back({p, v, t.root_height + t.depth[static_cast<std::size_t>(p)]});
  }
  return w;
}

// Schedules the union of several trees' windows, each carrying `chunks`
// chunks: between consecutive window boundaries the set of busy edges is
// fixed, so each stretch is one step with a repeat count.
void add_windowed_steps(Schedule& s, const GroupLayout& g, const std::vector<std::vector<EdgeWindow>>& trees,
                        int chunks, Bytes chunk) {
  std::set<int> bounds;
  for (const auto& windows : trees) {
    for (const EdgeWindow& w : windows) {
      bounds.insert(w.first_step);
      bounds.insert(w.first_step + 1);  // the first chunk pays the latency, the rest stream behind it
      bounds.insert(w.first_step + chunks);
    }
  }
  for (auto it = bounds.begin(); std::next(it) != bounds.end(); ++it) {
    const int from = *it;
    Step step;
    step.repeat = *std::next(it) - from;
    for (std::size_t tree = 0; tree < trees.size(); ++tree) {
      for (const EdgeWindow& w : trees[tree]) {
        if (from >= w.first_step && from < w.first_step + chunks) {
          step.transfers.push_back({g.ranks[static_cast<std::size_t>(w.src)], g.ranks[static_cast<std::size_t>(w.dst)],
                                    chunk, static_cast<int>(tree), from != w.first_step});
        }
      }
    }
    if (!step.transfers.empty()) s.steps.push_back(std::move(step));
  }
}

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

Schedule ring_all_reduce(const GroupLayout& group, Bytes size, int channels) {
  return ring_collective("ring all-reduce", group, size, channels, 2);
}

Schedule ring_reduce_scatter(const GroupLayout& group, Bytes size, int channels) {
  return ring_collective("ring reduce-scatter", group, size, channels, 1);
}

Schedule ring_all_gather(const GroupLayout& group, Bytes size, int channels) {
  return ring_collective("ring all-gather", group, size, channels, 1);
}

Schedule tree_all_reduce(const GroupLayout& group, Bytes size, Bytes chunk) {
  check_group(group, 1);
  if (!(chunk.value() > 0.0)) throw ConfigError("tree all-reduce: the chunk size must be positive");
  const int n = group_size(group);
  Schedule s{"double-binary-tree all-reduce", {}};
  if (n == 1) return s;
  constexpr int kTrees = 2;  // each tree carries half the buffer
  const Bytes per_tree = size / kTrees;
  const int chunks = std::max(1, static_cast<int>(std::ceil(per_tree / chunk)));
  add_windowed_steps(s, group, {tree_windows(make_tree(n, false)), tree_windows(make_tree(n, true))}, chunks,
                     per_tree / chunks);
  return s;
}

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

Schedule send_recv(int src, int dst, Bytes size) {
  Schedule s{"send/recv", {}};
  Step step;
  step.transfers.push_back({src, dst, size, 0});
  s.steps.push_back(std::move(step));
  return s;
}

Schedule make_collective(CollectiveOp op, CollectiveAlgo algo, const GroupLayout& group, Bytes size,
                         const CollectiveOptions& options) {
  using enum CollectiveAlgo;
  switch (op) {
    case CollectiveOp::all_reduce:
      if (algo == ring) return ring_all_reduce(group, size, options.channels);
      if (algo == tree) return tree_all_reduce(group, size, options.tree_chunk);
      if (algo == hierarchical) return hierarchical_all_reduce(group, size);
      break;
    case CollectiveOp::reduce_scatter:
      if (algo == ring) return ring_reduce_scatter(group, size, options.channels);
      break;
    case CollectiveOp::all_gather:
      if (algo == ring) return ring_all_gather(group, size, options.channels);
      break;
    case CollectiveOp::all_to_all:
      if (algo == direct || algo == pairwise) return all_to_all(group, size, algo);
      break;
    case CollectiveOp::send_recv:
      if (algo == direct) {
        check_group(group, 1);
        return send_recv(group.ranks.front(), group.ranks.back(), size);
      }
      break;
  }
  throw ConfigError(fmt::format("collective: {} has no {} algorithm here (its default is {})",
                                name_of(kCollectiveOpNames, op), name_of(kCollectiveAlgoNames, algo),
                                name_of(kCollectiveAlgoNames, default_algorithm(op))));
}

CollectiveAlgo default_algorithm(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_gather: return CollectiveAlgo::ring;
    case CollectiveOp::all_to_all:
    case CollectiveOp::send_recv: return CollectiveAlgo::direct;
  }
  return CollectiveAlgo::ring;
}

double bus_bandwidth_factor(CollectiveOp op, int ranks) {
  const double n = ranks;
  switch (op) {
    case CollectiveOp::all_reduce: return 2.0 * (n - 1.0) / n;
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_gather:
    case CollectiveOp::all_to_all: return (n - 1.0) / n;
    case CollectiveOp::send_recv: return 1.0;
  }
  return 1.0;
}

std::vector<Bytes> bytes_sent_per_rank(const Schedule& schedule, int gpu_count) {
  std::vector<Bytes> sent(static_cast<std::size_t>(gpu_count));
  for (const Step& step : schedule.steps) {
    for (const Transfer& t : step.transfers) sent[static_cast<std::size_t>(t.src)] += t.bytes * step.repeat;
  }
  return sent;
}

}  // namespace tcsim::hw
