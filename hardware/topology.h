// A cluster as a graph: GPUs, NVSwitch domains, NICs and leaf/spine/core
// switches joined by directed links (one per direction of a cable), each with
// its own bandwidth and latency. Builders (hardware/builders.h) make one from a
// ClusterSpec; routing picks shortest paths with ECMP; the counts, bisection
// bandwidth and cost per endpoint are what a user can check against a
// datasheet or a paper. The graph's arrays, and Boost.Graph for max_flow, stay
// in topology.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/units.h"

namespace tcsim::hw {

enum class DeviceKind { gpu, nvswitch, nic, leaf, spine, core };

// nvlink: GPU <-> NVSwitch. host: GPU <-> its NIC (PCIe, folded into the NIC's
// figures). access: NIC <-> leaf switch. fabric: switch <-> switch.
enum class LinkKind { nvlink, host, access, fabric };

using DeviceId = int;
using LinkId = int;

struct Device {
  DeviceKind kind = DeviceKind::gpu;
  int node = -1;   // GPUs, NVSwitches and NICs: their node; switches: -1
  int index = 0;   // GPUs and NICs: index inside the node; switches: index in their layer
  int plane = -1;  // multi-plane fabrics: the plane of a NIC or switch; otherwise -1
};

struct Link {
  DeviceId from = 0;
  DeviceId to = 0;
  BytesPerSecond bandwidth;  // this direction only
  Seconds latency;           // this hop's share of the end-to-end small-message latency
  LinkKind kind = LinkKind::nvlink;
};

// The links a message crosses, in order, and the sum of their latencies.
struct Route {
  std::vector<LinkId> links;
  Seconds latency;
};

// What a builder hands over. GPUs must be devices 0..nodes*gpus_per_node-1,
// node-major.
struct TopologyParts {
  std::string description;
  int nodes = 0;
  int gpus_per_node = 0;
  std::vector<Device> devices;
  std::vector<Link> links;
  BytesPerSecond bisection;  // the builder's closed form (see docs/network.md)
  // Multi-plane fabrics: a GPU reaches another plane by NVLink to the GPU of
  // its node on that plane first (ISCA'25 arXiv:2505.09343 §5).
  bool cross_plane_forwarding = false;
};

// Devices by kind and cables (a cable is two links) by kind.
struct TopologyCounts {
  int nodes = 0;
  int gpus = 0;
  int nvswitches = 0;
  int nics = 0;
  int leaf_switches = 0;
  int spine_switches = 0;
  int core_switches = 0;
  int nvlink_cables = 0;
  int host_cables = 0;
  int access_cables = 0;  // NIC to leaf: one per scale-out endpoint
  int fabric_cables = 0;  // switch to switch
};

struct ClusterSpec;
class ClusterTopology;

// What a study's topologies share. Their routing tables, by shape (which
// devices are GPUs, which links exist; never bandwidths or latencies): a
// sweep over link speeds or prices searches each anchor switch once, and
// works out each destination's approaches once (docs/network.md,
// "Routing"). And the topologies themselves, by the spec they were built
// from: build_topology hands back a
// copy of one built from an equal spec (copies share the graph), so the steps
// of a plan search on one cluster build it once. Owned by whoever builds many
// topologies (a study's step memo, study/step_memo.h) and handed to
// build_topology; thread-safe; keeps the `shapes` most recently used shapes
// and as many built topologies.
class TopologyCache {
 public:
  explicit TopologyCache(std::size_t shapes = 8);
  ~TopologyCache();
  TopologyCache(const TopologyCache&) = delete;
  TopologyCache& operator=(const TopologyCache&) = delete;

  // A copy of a topology built from a spec equal to `spec`; null if none.
  std::unique_ptr<ClusterTopology> find_built(const ClusterSpec& spec);
  void keep_built(const ClusterSpec& spec, const ClusterTopology& topology);

 private:
  friend class ClusterTopology;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Contract:
// - Immutable after construction; copies share the graph. GPUs are devices
//   0..gpu_count()-1, node-major: GPU g sits in node g / gpus_per_node() at
//   local index g % gpus_per_node().
// - route(src, dst, key) returns a shortest path (fewest links) from GPU src to
//   GPU dst that passes through no third GPU. Where several next hops are
//   equally short, the hop is chosen by hashing `key` with the hop number
//   (per-hop ECMP): the same key always takes the same path, different keys
//   spread over all equal-cost paths. Where no such path exists and the
//   topology forwards across planes, the route first crosses NVLink to the GPU
//   of src's node with dst's local index, then takes that GPU's plane.
//   src == dst gives an empty route. Safe to call from several threads
//   (hop counts are cached under a lock; docs/network.md, "Routing").
// - bisection_bandwidth() is the builder's closed form, one direction.
// - max_flow(a, b) is the most bytes per second GPUs `a` can send to GPUs `b`
//   together over the physical links (any path, GPUs may forward): an
//   independent check of the closed forms.
class ClusterTopology {
 public:
  explicit ClusterTopology(TopologyParts parts);
  ~ClusterTopology();
  ClusterTopology(const ClusterTopology&);
  ClusterTopology(ClusterTopology&&) noexcept;
  ClusterTopology& operator=(const ClusterTopology&);
  ClusterTopology& operator=(ClusterTopology&&) noexcept;

  const std::string& description() const;
  int nodes() const;
  int gpus_per_node() const;
  int gpu_count() const;
  int node_of(int gpu) const { return gpu / gpus_per_node(); }
  int local_index(int gpu) const { return gpu % gpus_per_node(); }
  int gpu_at(int node, int local) const { return node * gpus_per_node() + local; }

  std::span<const Device> devices() const;
  std::span<const Link> links() const;
  const Link& link(LinkId id) const { return links()[static_cast<std::size_t>(id)]; }
  TopologyCounts counts() const;
  BytesPerSecond bisection_bandwidth() const;
  bool forwards_across_planes() const;

  Route route(int src_gpu, int dst_gpu, std::uint64_t key) const;
  // The same route's links appended to `links`; returns its latency.
  Seconds route_into(int src_gpu, int dst_gpu, std::uint64_t key, std::vector<LinkId>& links) const;
  // Number of distinct routes route() can return for this pair over all keys.
  double equal_cost_paths(int src_gpu, int dst_gpu) const;
  BytesPerSecond max_flow(std::span<const int> from_gpus, std::span<const int> to_gpus) const;

  // From now on, take hop distances from (and add them to) `cache`'s table
  // for this shape. Call before the first route; copies made earlier keep
  // their own table.
  void share_distances(TopologyCache& cache);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Prices of scale-out parts; a zero price leaves that part out of the sum.
// NVSwitches and NVLink are part of the node and never priced here.
struct NetworkPrices {
  Dollars per_switch;       // one leaf, spine or core switch
  Dollars per_fabric_link;  // one switch-to-switch cable with its two transceivers
  Dollars per_access_link;  // one NIC-to-leaf cable with its transceivers
  Dollars per_nic;          // one scale-out NIC
};

struct NetworkCost {
  int endpoints = 0;  // scale-out NIC ports
  Dollars switches;
  Dollars fabric_links;
  Dollars access_links;
  Dollars nics;
  Dollars total;
  Dollars per_endpoint;
};

NetworkCost network_cost(const ClusterTopology& topology, const NetworkPrices& prices);

}  // namespace tcsim::hw
