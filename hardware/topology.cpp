#include "hardware/topology.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>

#include "hardware/spec.h"

namespace tcsim::hw {
namespace {

// Hop counts to one device (an anchor, below) from every transit device
// (Impl::slot), kUnreached where there is no path.
using Distances = std::vector<std::uint8_t>;
constexpr std::uint8_t kUnreached = std::numeric_limits<std::uint8_t>::max();
constexpr int kMaxHops = kUnreached - 1;  // deeper distances saturate here

// One way into a destination GPU, for hop counts composed from a shared table.
// `chain` starts at a device with a link into the destination; each next
// device is the only one (GPUs aside) with a link into the one before it, so
// every route through chain[j] from elsewhere comes through chain.back() (the
// anchor): a device w off the chain is anchor-distance(w) + chain.size() hops
// from the destination, chain[j] is j + 1. `anchor` is the anchor's table, or
// null when no device links into the anchor (an NVSwitch that only GPUs reach).
struct Approach {
  std::vector<std::uint32_t> chain;
  const Distances* anchor = nullptr;
};

// Hop counts to one destination GPU: the shortest over its approaches. On a
// fat-tree a GPU's approaches are its NVSwitch (nothing but GPUs link in) and
// its NIC (its leaf the anchor), so destinations share one table per leaf.
struct Target {
  std::uint32_t gpu = 0;
  std::vector<Approach> ways;
};

// SplitMix64 finaliser (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit
// hash for choosing ECMP next hops deterministically.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

// Routing between ids that are not GPUs is our bug, not the user's.
void check_pair(int src, int dst, int gpus) {
  if (src < 0 || dst < 0 || src >= gpus || dst >= gpus) {
    throw std::invalid_argument(fmt::format("topology: no GPU pair ({}, {}) among {} GPUs", src, dst, gpus));
  }
}

// Hop-count tables by anchor device and each destination GPU's approaches,
// filled on demand. They depend only on the graph's shape (which device is a
// GPU, which links exist), never on bandwidths or latencies, so clusters of
// one shape share them: a sweep over link speeds or prices searches each
// anchor once per process.
struct DistanceTable {
  std::mutex mutex;
  std::vector<std::unique_ptr<const Distances>> to;   // per anchor device, by device id
  std::vector<std::unique_ptr<const Target>> target;  // per destination GPU
  // target[dst].get() once made, read without the lock (every route reads
  // its destination's target; only the first one makes it).
  std::unique_ptr<std::atomic<const Target*>[]> made;
};

// The shape of a graph, exactly: device kinds, then link endpoints.
std::string shape_key(const TopologyParts& parts) {
  std::string key;
  key.reserve(parts.devices.size() + 8 * parts.links.size() + 16);
  for (const Device& d : parts.devices) key.push_back(static_cast<char>(d.kind));
  key.push_back('|');
  for (const Link& l : parts.links) {
    for (const std::int32_t v : {static_cast<std::int32_t>(l.from), static_cast<std::int32_t>(l.to)}) {
      key.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
  }
  return key;
}

std::shared_ptr<DistanceTable> new_table(const TopologyParts& parts) {
  auto table = std::make_shared<DistanceTable>();
  table->to.resize(parts.devices.size());
  const auto gpus = static_cast<std::size_t>(parts.nodes * parts.gpus_per_node);
  table->target.resize(gpus);
  table->made = std::make_unique<std::atomic<const Target*>[]>(gpus);
  return table;
}

}  // namespace

struct ClusterTopology::Impl {
  TopologyParts parts;
  std::shared_ptr<DistanceTable> distances;
  // The links as flat arrays, by vertex (vertex id == DeviceId): vertex v's
  // out-links are [out_first[v], out_first[v + 1]) in link id order, its
  // in-links [in_first[v], in_first[v + 1]).
  std::vector<std::uint32_t> out_first;
  std::vector<LinkId> out_link;
  std::vector<std::uint32_t> out_to;
  std::vector<double> out_latency;  // seconds, beside the link: a route's walk reads no Link
  std::vector<std::uint32_t> in_first;
  std::vector<std::uint32_t> in_from;
  std::vector<std::uint8_t> is_gpu;
  // A distance table holds the transit devices: vertex v's entry is slot[v],
  // -1 for the others, whose hop counts follow from it (anchor_hops):
  // - a GPU: 0 to itself, unreached from any other route;
  // - a dead end (no link to a device but GPUs: an NVSwitch): unreached
  //   unless it is the anchor;
  // - a stub (one device, GPUs aside, on both its in- and out-links: a NIC
  //   and its leaf): one hop more than that device, via[v]. No shortest
  //   route passes through a stub (it would enter and leave by one device),
  //   so the search neither counts nor crosses it.
  std::vector<std::int32_t> slot;
  std::vector<std::int32_t> via;
  std::size_t slots = 0;
  // The transit devices by slot, and each one's in-links from transit
  // devices as slots: the searches run on these alone.
  std::vector<std::uint32_t> slot_device;
  std::vector<std::uint32_t> slot_in_first;
  std::vector<std::uint32_t> slot_in_from;

  explicit Impl(TopologyParts p) : parts(std::move(p)), distances(new_table(parts)) {
    const std::size_t n = parts.devices.size();
    out_first.assign(n + 1, 0);
    in_first.assign(n + 1, 0);
    for (const Link& l : parts.links) {
      ++out_first[static_cast<std::size_t>(l.from) + 1];
      ++in_first[static_cast<std::size_t>(l.to) + 1];
    }
    for (std::size_t v = 0; v < n; ++v) {
      out_first[v + 1] += out_first[v];
      in_first[v + 1] += in_first[v];
    }
    out_link.resize(parts.links.size());
    out_to.resize(parts.links.size());
    out_latency.resize(parts.links.size());
    in_from.resize(parts.links.size());
    std::vector<std::uint32_t> out_fill(out_first.begin(), out_first.end() - 1);
    std::vector<std::uint32_t> in_fill(in_first.begin(), in_first.end() - 1);
    for (std::size_t i = 0; i < parts.links.size(); ++i) {
      const Link& l = parts.links[i];
      const std::uint32_t at = out_fill[static_cast<std::size_t>(l.from)]++;
      out_link[at] = static_cast<LinkId>(i);
      out_to[at] = static_cast<std::uint32_t>(l.to);
      out_latency[at] = l.latency.value();
      in_from[in_fill[static_cast<std::size_t>(l.to)]++] = static_cast<std::uint32_t>(l.from);
    }
    is_gpu.resize(n);
    for (std::size_t v = 0; v < n; ++v) is_gpu[v] = parts.devices[v].kind == DeviceKind::gpu ? 1 : 0;
    slot.assign(n, -1);
    via.assign(n, -1);
    for (std::size_t v = 0; v < n; ++v) {
      if (is_gpu[v]) continue;
      const auto vertex = static_cast<std::uint32_t>(v);
      const std::vector<std::uint32_t> out = neighbours(vertex, out_first, out_to);
      if (out.empty()) continue;  // a dead end
      const std::vector<std::uint32_t> in = neighbours(vertex, in_first, in_from);
      if (out.size() == 1 && (in.empty() || (in.size() == 1 && in.front() == out.front()))) {
        via[v] = static_cast<std::int32_t>(out.front());
        continue;
      }
      slot[v] = static_cast<std::int32_t>(slots++);
      slot_device.push_back(vertex);
    }
    slot_in_first.assign(1, 0);
    for (const std::uint32_t v : slot_device) {
      for (std::uint32_t i = in_first[v]; i < in_first[v + 1]; ++i) {
        if (slot[in_from[i]] >= 0) slot_in_from.push_back(static_cast<std::uint32_t>(slot[in_from[i]]));
      }
      slot_in_first.push_back(static_cast<std::uint32_t>(slot_in_from.size()));
    }
  }

  // The distinct devices, GPUs aside, at the other end of v's links in
  // (first, to): out-links or in-links.
  std::vector<std::uint32_t> neighbours(std::uint32_t v, const std::vector<std::uint32_t>& first,
                                        const std::vector<std::uint32_t>& to) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = first[v]; i < first[v + 1]; ++i) {
      const std::uint32_t u = to[i];
      if (!is_gpu[u] && std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
    }
    return out;
  }

  // Hops from device w (not a GPU) to `anchor`, from the anchor's table.
  std::uint8_t anchor_hops(const Distances& d, std::uint32_t anchor, std::uint32_t w) const {
    if (w == anchor) return 0;
    if (slot[w] >= 0) return d[static_cast<std::size_t>(slot[w])];
    const std::int32_t x = via[w];
    if (x < 0) return kUnreached;  // a dead end
    const auto next = static_cast<std::uint32_t>(x);
    if (next == anchor) return 1;
    if (slot[next] < 0) return kUnreached;  // a stub or dead end whose only way on leads back
    const std::uint8_t h = d[static_cast<std::size_t>(slot[next])];
    return h == kUnreached ? kUnreached : static_cast<std::uint8_t>(std::min(kMaxHops, h + 1));
  }

  int gpu_count() const { return parts.nodes * parts.gpus_per_node; }

  // Hops from device w to the target's GPU: kUnreached for any other GPU
  // (routes cross no third GPU).
  std::uint8_t hops(const Target& t, std::uint32_t w) const {
    if (w == t.gpu) return 0;
    if (is_gpu[w]) return kUnreached;
    int best = kUnreached;
    for (const Approach& a : t.ways) {
      int h = kUnreached;
      for (std::size_t j = 0; j < a.chain.size(); ++j) {
        if (a.chain[j] == w) {
          h = static_cast<int>(j) + 1;
          break;
        }
      }
      if (h == kUnreached && a.anchor) {
        const std::uint8_t d = anchor_hops(*a.anchor, a.chain.back(), w);
        if (d != kUnreached) h = std::min(kMaxHops, static_cast<int>(a.chain.size()) + d);
      }
      best = std::min(best, h);
    }
    return static_cast<std::uint8_t>(best);
  }

  // The distinct devices, GPUs aside, with a link into v.
  std::vector<std::uint32_t> feeders(std::uint32_t v) const { return neighbours(v, in_first, in_from); }

  // Breadth-first search from device `anchor` (not a GPU) over the reversed
  // links, through transit devices only (a route never crosses a third GPU,
  // and never a stub).
  Distances compute_distances(std::uint32_t anchor) const {
    Distances d(slots, kUnreached);
    if (slot[anchor] >= 0) d[static_cast<std::size_t>(slot[anchor])] = 0;
    std::vector<std::uint32_t> frontier{anchor}, next;
    for (int depth = 1; !frontier.empty(); ++depth) {
      next.clear();
      for (const std::uint32_t v : frontier) {
        for (std::uint32_t i = in_first[v]; i < in_first[v + 1]; ++i) {
          const std::uint32_t u = in_from[i];
          if (slot[u] < 0) continue;
          std::uint8_t& du = d[static_cast<std::size_t>(slot[u])];
          if (du != kUnreached) continue;
          du = static_cast<std::uint8_t>(std::min(depth, kMaxHops));
          next.push_back(u);
        }
      }
      frontier.swap(next);
    }
    return d;
  }

  // The same search from the transit devices of slots [first, first + kAnchorBatch)
  // at once, one bit of a word per anchor: a round of the search crosses
  // each link once for all of them, and a link's word carries the anchors
  // whose frontier reached it. The tables are those of compute_distances,
  // entry for entry. Caller holds distances->mutex; tables already made stay.
  static constexpr std::size_t kAnchorBatch = 64;  // the bits of a word
  void compute_distance_batch(std::size_t first) const {
    const std::size_t count = std::min(kAnchorBatch, slots - first);
    std::vector<std::uint64_t> seen(slots, 0), frontier(slots, 0), next(slots, 0);
    std::vector<Distances> tables(count, Distances(slots, kUnreached));
    std::vector<std::uint32_t> active, next_active;
    for (std::size_t j = 0; j < count; ++j) {
      const std::size_t v = first + j;
      seen[v] = frontier[v] = std::uint64_t{1} << j;
      tables[j][v] = 0;
      active.push_back(static_cast<std::uint32_t>(v));
    }
    for (int depth = 1; !active.empty(); ++depth) {
      const auto hop = static_cast<std::uint8_t>(std::min(depth, kMaxHops));
      next_active.clear();
      for (const std::uint32_t v : active) {
        const std::uint64_t reached = frontier[v];
        frontier[v] = 0;
        for (std::uint32_t i = slot_in_first[v]; i < slot_in_first[v + 1]; ++i) {
          const std::uint32_t u = slot_in_from[i];
          std::uint64_t fresh = reached & ~seen[u];
          if (fresh == 0) continue;
          if (next[u] == 0) next_active.push_back(u);
          seen[u] |= fresh;
          next[u] |= fresh;
          for (; fresh != 0; fresh &= fresh - 1) tables[static_cast<std::size_t>(std::countr_zero(fresh))][u] = hop;
        }
      }
      frontier.swap(next);  // next is all zero again: each active word was cleared
      active.swap(next_active);
    }
    for (std::size_t j = 0; j < count; ++j) {
      auto& table = distances->to[slot_device[first + j]];
      if (!table) table = std::make_unique<const Distances>(std::move(tables[j]));
    }
  }

  // Caller holds distances->mutex. A transit anchor's table comes with those
  // of the anchors beside it in slot order (a fat-tree's leaves, which the
  // destinations behind them all need).
  const Distances* anchor_table(std::uint32_t anchor) const {
    auto& table = distances->to[anchor];
    if (!table) {
      if (slot[anchor] >= 0) {
        compute_distance_batch(static_cast<std::size_t>(slot[anchor]) / kAnchorBatch * kAnchorBatch);
      } else {
        table = std::make_unique<const Distances>(compute_distances(anchor));
      }
    }
    return table.get();
  }

  Target make_target(int dst) const {
    Target t;
    t.gpu = static_cast<std::uint32_t>(dst);
    for (const std::uint32_t first : feeders(t.gpu)) {
      Approach a;
      a.chain.push_back(first);
      std::vector<std::uint32_t> in = feeders(first);
      while (in.size() == 1 && a.chain.size() < kMaxHops &&
             std::find(a.chain.begin(), a.chain.end(), in.front()) == a.chain.end()) {
        a.chain.push_back(in.front());
        in = feeders(in.front());
      }
      if (!in.empty()) a.anchor = anchor_table(a.chain.back());
      t.ways.push_back(std::move(a));
    }
    return t;
  }

  // The target lives as long as `distances` (each is made once, never
  // replaced), so the reference stays valid.
  const Target& target(int dst) const {
    std::atomic<const Target*>& made = distances->made[static_cast<std::size_t>(dst)];
    if (const Target* t = made.load(std::memory_order_acquire)) return *t;
    const std::lock_guard<std::mutex> lock(distances->mutex);
    auto& t = distances->target[static_cast<std::size_t>(dst)];
    if (!t) {
      t = std::make_unique<const Target>(make_target(dst));
      made.store(t.get(), std::memory_order_release);
    }
    return *t;
  }

  // Hop count from GPU `src` (which the BFS does not expand) to the target.
  int source_distance(int src, const Target& t) const {
    int best = kUnreached;
    for (std::uint32_t i = out_first[static_cast<std::size_t>(src)]; i < out_first[static_cast<std::size_t>(src) + 1];
         ++i) {
      const int h = hops(t, out_to[i]);
      if (h != kUnreached) best = std::min(best, h + 1);
    }
    return best;
  }

  // The out-links of `v` (`dist_v` hops from the target) that lie on a
  // shortest path to it, as positions in the out-link arrays, in link order.
  void next_hops(std::uint32_t v, int dist_v, const Target& t, std::vector<std::uint32_t>& out) const {
    out.clear();
    for (std::uint32_t i = out_first[v]; i < out_first[v + 1]; ++i) {
      const int h = hops(t, out_to[i]);
      if (h != kUnreached && h + 1 == dist_v) out.push_back(i);
    }
  }

  // Shortest path without transit GPUs; false, with nothing appended, when
  // there is none. At each
  // vertex the next hop is the (hash mod n)-th of the n out-links, in link
  // order, that lie on a shortest path (next_hops' order).
  // Appends the links to `links` and adds their latencies to `latency`.
  bool direct_route(int src, int dst, std::uint64_t key, std::vector<LinkId>& links, Seconds& latency) const {
    const Target& t = target(dst);
    int dist = source_distance(src, t);
    if (dist == kUnreached) return false;
    thread_local std::vector<std::uint32_t> on_path;  // scratch reused by the calling thread
    auto v = static_cast<std::uint32_t>(src);
    for (std::uint64_t hop = 0; static_cast<int>(v) != dst; ++hop) {
      next_hops(v, dist, t, on_path);
      const std::uint32_t i = on_path[mix(key ^ mix(hop)) % on_path.size()];
      links.push_back(out_link[i]);
      latency += Seconds(out_latency[i]);
      v = out_to[i];
      --dist;
    }
    return true;
  }

  double count_paths(std::uint32_t v, int dist_v, const Target& t, std::vector<double>& memo) const {
    if (v == t.gpu) return 1.0;
    if (memo[v] >= 0.0) return memo[v];
    std::vector<std::uint32_t> on_path;
    next_hops(v, dist_v, t, on_path);
    double n = 0.0;
    for (const std::uint32_t i : on_path) n += count_paths(out_to[i], dist_v - 1, t, memo);
    memo[v] = n;
    return n;
  }

  double direct_paths(int src, int dst) const {
    const Target& t = target(dst);
    const int dist = source_distance(src, t);
    if (dist == kUnreached) return 0.0;
    std::vector<double> memo(parts.devices.size(), -1.0);
    return count_paths(static_cast<std::uint32_t>(src), dist, t, memo);
  }

  int proxy_for(int src, int dst) const {
    const int g = parts.gpus_per_node;
    return (src / g) * g + dst % g;
  }
};

// The tables of the most recently used shapes, and the topologies built
// last, most recent last.
struct TopologyCache::Impl {
  std::size_t shapes;
  std::mutex mutex;
  std::vector<std::pair<std::string, std::shared_ptr<DistanceTable>>> kept;
  std::vector<std::pair<ClusterSpec, ClusterTopology>> built;

  std::shared_ptr<DistanceTable> table_for(const TopologyParts& parts) {
    std::string key = shape_key(parts);
    const std::lock_guard<std::mutex> lock(mutex);
    for (auto it = kept.begin(); it != kept.end(); ++it) {
      if (it->first == key) {
        auto entry = std::move(*it);
        kept.erase(it);
        kept.push_back(std::move(entry));
        return kept.back().second;
      }
    }
    auto table = new_table(parts);
    if (kept.size() == shapes) kept.erase(kept.begin());
    kept.emplace_back(std::move(key), table);
    return table;
  }
};

TopologyCache::TopologyCache(std::size_t shapes) : impl_(std::make_unique<Impl>()) {
  impl_->shapes = shapes > 0 ? shapes : 1;
}
TopologyCache::~TopologyCache() = default;

std::unique_ptr<ClusterTopology> TopologyCache::find_built(const ClusterSpec& spec) {
  const std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto it = impl_->built.begin(); it != impl_->built.end(); ++it) {
    if (it->first == spec) {
      auto copy = std::make_unique<ClusterTopology>(it->second);
      std::rotate(it, it + 1, impl_->built.end());  // most recently used last
      return copy;
    }
  }
  return nullptr;
}

void TopologyCache::keep_built(const ClusterSpec& spec, const ClusterTopology& topology) {
  const std::lock_guard<std::mutex> lock(impl_->mutex);
  for (const auto& [kept_spec, t] : impl_->built) {
    if (kept_spec == spec) return;  // another thread built it too
  }
  if (impl_->built.size() == impl_->shapes) impl_->built.erase(impl_->built.begin());
  impl_->built.emplace_back(spec, topology);
}

ClusterTopology::ClusterTopology(TopologyParts parts) : impl_(std::make_shared<Impl>(std::move(parts))) {}

void ClusterTopology::share_distances(TopologyCache& cache) { impl_->distances = cache.impl_->table_for(impl_->parts); }
ClusterTopology::~ClusterTopology() = default;
ClusterTopology::ClusterTopology(const ClusterTopology&) = default;
ClusterTopology::ClusterTopology(ClusterTopology&&) noexcept = default;
ClusterTopology& ClusterTopology::operator=(const ClusterTopology&) = default;
ClusterTopology& ClusterTopology::operator=(ClusterTopology&&) noexcept = default;

const std::string& ClusterTopology::description() const { return impl_->parts.description; }
int ClusterTopology::nodes() const { return impl_->parts.nodes; }
int ClusterTopology::gpus_per_node() const { return impl_->parts.gpus_per_node; }
int ClusterTopology::gpu_count() const { return impl_->gpu_count(); }
std::span<const Device> ClusterTopology::devices() const { return impl_->parts.devices; }
std::span<const Link> ClusterTopology::links() const { return impl_->parts.links; }
BytesPerSecond ClusterTopology::bisection_bandwidth() const { return impl_->parts.bisection; }
bool ClusterTopology::forwards_across_planes() const { return impl_->parts.cross_plane_forwarding; }

TopologyCounts ClusterTopology::counts() const {
  TopologyCounts c;
  c.nodes = nodes();
  for (const Device& d : devices()) {
    switch (d.kind) {
      case DeviceKind::gpu: ++c.gpus; break;
      case DeviceKind::nvswitch: ++c.nvswitches; break;
      case DeviceKind::nic: ++c.nics; break;
      case DeviceKind::leaf: ++c.leaf_switches; break;
      case DeviceKind::spine: ++c.spine_switches; break;
      case DeviceKind::core: ++c.core_switches; break;
    }
  }
  int nvlink = 0, host = 0, access = 0, fabric = 0;
  for (const Link& l : links()) {
    switch (l.kind) {
      case LinkKind::nvlink: ++nvlink; break;
      case LinkKind::host: ++host; break;
      case LinkKind::access: ++access; break;
      case LinkKind::fabric: ++fabric; break;
    }
  }
  // Every cable is two directed links.
  c.nvlink_cables = nvlink / 2;
  c.host_cables = host / 2;
  c.access_cables = access / 2;
  c.fabric_cables = fabric / 2;
  return c;
}

Route ClusterTopology::route(int src_gpu, int dst_gpu, std::uint64_t key) const {
  Route r;
  r.latency = route_into(src_gpu, dst_gpu, key, r.links);
  return r;
}

Seconds ClusterTopology::route_into(int src_gpu, int dst_gpu, std::uint64_t key, std::vector<LinkId>& links) const {
  check_pair(src_gpu, dst_gpu, gpu_count());
  Seconds latency(0.0);
  if (src_gpu == dst_gpu) return latency;
  if (impl_->direct_route(src_gpu, dst_gpu, key, links, latency)) return latency;
  const int proxy = impl_->proxy_for(src_gpu, dst_gpu);
  if (impl_->parts.cross_plane_forwarding && proxy != src_gpu &&
      impl_->direct_route(src_gpu, proxy, key, links, latency) &&
      impl_->direct_route(proxy, dst_gpu, key, links, latency)) {
    return latency;
  }
  throw std::logic_error(
      fmt::format("topology \"{}\": no route from GPU {} to GPU {}", description(), src_gpu, dst_gpu));
}

double ClusterTopology::equal_cost_paths(int src_gpu, int dst_gpu) const {
  check_pair(src_gpu, dst_gpu, gpu_count());
  if (src_gpu == dst_gpu) return 1.0;
  const double direct = impl_->direct_paths(src_gpu, dst_gpu);
  if (direct > 0.0 || !impl_->parts.cross_plane_forwarding) return direct;
  const int proxy = impl_->proxy_for(src_gpu, dst_gpu);
  return impl_->direct_paths(src_gpu, proxy) * impl_->direct_paths(proxy, dst_gpu);
}

BytesPerSecond ClusterTopology::max_flow(std::span<const int> from_gpus, std::span<const int> to_gpus) const {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const std::size_t n = impl_->parts.devices.size();
  FlowGraph g(n + 2);
  const auto source = static_cast<Traits::vertex_descriptor>(n);
  const auto sink = static_cast<Traits::vertex_descriptor>(n + 1);
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  const auto add = [&](std::size_t u, std::size_t v, double cap) {
    const auto e = boost::add_edge(u, v, g).first;
    const auto back = boost::add_edge(v, u, g).first;
    capacity[e] = cap;
    capacity[back] = 0.0;
    reverse[e] = back;
    reverse[back] = e;
  };
  for (const Link& l : links())
    add(static_cast<std::size_t>(l.from), static_cast<std::size_t>(l.to), l.bandwidth.value());
  // The super source and sink attach with the most any GPU could move.
  double unbounded = 0.0;
  for (const Link& l : links()) unbounded += l.bandwidth.value();
  for (const int gpu : from_gpus) add(source, static_cast<std::size_t>(gpu), unbounded);
  for (const int gpu : to_gpus) add(static_cast<std::size_t>(gpu), sink, unbounded);
  return BytesPerSecond(boost::push_relabel_max_flow(g, source, sink));
}

NetworkCost network_cost(const ClusterTopology& topology, const NetworkPrices& prices) {
  const TopologyCounts c = topology.counts();
  NetworkCost cost;
  cost.endpoints = c.access_cables;
  cost.switches = prices.per_switch * static_cast<double>(c.leaf_switches + c.spine_switches + c.core_switches);
  cost.fabric_links = prices.per_fabric_link * static_cast<double>(c.fabric_cables);
  cost.access_links = prices.per_access_link * static_cast<double>(c.access_cables);
  cost.nics = prices.per_nic * static_cast<double>(c.nics);
  cost.total = cost.switches + cost.fabric_links + cost.access_links + cost.nics;
  cost.per_endpoint = cost.endpoints > 0 ? cost.total / static_cast<double>(cost.endpoints) : Dollars(0);
  return cost;
}

}  // namespace tcsim::hw
