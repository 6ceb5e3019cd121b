// Double binary tree all-reduce (NCCL 2.4+): collectives.h.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/collectives/common.h"

namespace tcsim::hw {
namespace {

using detail::by_node;
using detail::check_group;
using detail::group_size;

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
  // Window boundaries fall on steps below the trees' heights plus the chunks:
  // marked by step, not sorted.
  int last = 0;
  for (const auto& windows : trees) {
    for (const EdgeWindow& w : windows) last = std::max(last, w.first_step + chunks);
  }
  std::vector<char> bound_at(static_cast<std::size_t>(last) + 1, 0);
  for (const auto& windows : trees) {
    for (const EdgeWindow& w : windows) {
      // The first chunk pays the latency, the rest stream behind it.
      bound_at[static_cast<std::size_t>(w.first_step)] = 1;
      bound_at[static_cast<std::size_t>(w.first_step) + 1] = 1;
      bound_at[static_cast<std::size_t>(w.first_step + chunks)] = 1;
    }
  }
  std::vector<int> bounds;
  for (std::size_t step = 0; step < bound_at.size(); ++step) {
    if (bound_at[step] != 0) bounds.push_back(static_cast<int>(step));
  }
  // Stretch k runs from bounds[k] to bounds[k + 1]. A window is busy over the
  // stretches from its first step to its last chunk's: each joins those, tree
  // by tree and window by window, so every stretch lists its transfers in
  // that order.
  std::vector<Step> stretches(bounds.empty() ? 0 : bounds.size() - 1);
  for (std::size_t tree = 0; tree < trees.size(); ++tree) {
    for (const EdgeWindow& w : trees[tree]) {
      auto k = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), w.first_step) - bounds.begin());
      for (; k < stretches.size() && bounds[k] < w.first_step + chunks; ++k) {
        stretches[k].transfers.push_back({g.ranks[static_cast<std::size_t>(w.src)],
                                          g.ranks[static_cast<std::size_t>(w.dst)], chunk, static_cast<int>(tree),
                                          bounds[k] != w.first_step});
      }
    }
  }
  for (std::size_t k = 0; k < stretches.size(); ++k) {
    if (stretches[k].transfers.empty()) continue;
    stretches[k].repeat = bounds[k + 1] - bounds[k];
    s.steps.push_back(std::move(stretches[k]));
  }
}

}  // namespace

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

}  // namespace tcsim::hw
