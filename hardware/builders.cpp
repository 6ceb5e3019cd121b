#include "hardware/builders.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/names.h"

namespace tcsim::hw {
namespace {

// Appends devices and cables; a cable is two directed links with the same
// bandwidth and latency.
class PartsBuilder {
 public:
  DeviceId add_device(const Device& d) {
    parts_.devices.push_back(d);
    return static_cast<DeviceId>(parts_.devices.size() - 1);
  }
  void add_cable(DeviceId a, DeviceId b, BytesPerSecond bandwidth, Seconds latency, LinkKind kind) {
    parts_.links.push_back({.from = a, .to = b, .bandwidth = bandwidth, .latency = latency, .kind = kind});
    parts_.links.push_back({.from = b, .to = a, .bandwidth = bandwidth, .latency = latency, .kind = kind});
  }
  TopologyParts& parts() { return parts_; }

 private:
  TopologyParts parts_;
};

// Per-hop latencies, split so that the end-to-end sums reproduce the measured
// small-message figures (ISCA'25 arXiv:2505.09343 §4: NVLink 3.33 us, IB 2.8 us
// same leaf, 3.7 us across leaves):
//   GPU -NVLink-> NVSwitch -NVLink-> GPU                   = 2 x nvlink_hop
//   GPU -host-> NIC -access-> leaf -access-> NIC -host-> GPU = 2 x access_hop (host hops: 0)
//   ... leaf -fabric-> spine -fabric-> leaf ...            = + 2 x fabric_hop
// Each further switch layer (three-layer fat-trees) adds the same fabric_hop
// per link: an extrapolation, since no three-layer figure is published here.
struct HopLatencies {
  Seconds nvlink_hop;
  Seconds access_hop;
  Seconds fabric_hop;
};

constexpr double kHopsPerTraversal = 2.0;  // a path enters and leaves each layer once

std::string_view topology_name(Topology t) { return name_of(kTopologyNames, t); }

constexpr std::string_view kPodOversubscriptionKey = "hardware.network.pod_oversubscription";
constexpr std::string_view kPodGpusKey = "hardware.network.pod_gpus";

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// Ports of a switch with oversubscription `o` (downlinks per uplink): `up` =
// floor(radix / (1 + o)) uplinks and `down` = floor(up x o) downlinks, as many
// as fit in the radix. Both are 0 when `o` leaves no uplink.
struct SwitchPorts {
  int down = 0;
  int up = 0;
};

SwitchPorts split_ports(int radix, double oversubscription) {
  const int up = static_cast<int>(std::floor(radix / (1.0 + oversubscription)));
  const int down = static_cast<int>(std::floor(up * oversubscription));
  if (up < 1 || down < 1) return {};
  return {.down = down, .up = up};
}

std::string no_uplink(double oversubscription, int radix) {
  return fmt::format("{}:1 leaves no uplink on a {}-port switch", oversubscription, radix);
}

// A pod of a three-layer fabric: `leaves` leaves, each with one cable to each
// of the pod's aggregation switches, and `up` uplinks from every aggregation
// switch to the core. Without pod_gpus an aggregation switch splits its radix
// as a leaf does; with it, the pod is pod_gpus / gpus_per_leaf leaves and an
// aggregation switch has the fewest uplinks that keep its downlinks per uplink
// at most pod_oversubscription.
struct PodShape {
  int leaves = 0;
  int up = 0;
};

PodShape pod_shape(const FabricParams& f, int gpus_per_leaf) {
  if (f.pod_gpus > 0) {
    const int leaves = f.pod_gpus / gpus_per_leaf;
    int up = static_cast<int>(std::ceil(leaves / f.pod_oversubscription));
    if (up > 1 && (up - 1) * f.pod_oversubscription >= leaves) --up;  // leaves / o rounded up past a whole number
    return {.leaves = leaves, .up = std::max(up, 1)};
  }
  const SwitchPorts agg = split_ports(f.switch_radix, f.pod_oversubscription);
  return {.leaves = agg.down, .up = agg.up};
}

// Switch layers of a Clos of `endpoints` NIC ports on `leaves` leaves: as
// given, else two for rail-optimised fabrics (rails meet only above the
// leaves), else the fewest that fit.
int clos_layers(Topology t, const FabricParams& f, int endpoints, int leaves) {
  if (f.layers != 0) return f.layers;
  if (t == Topology::rail_optimized) return 2;
  if (leaves == 1 && endpoints <= f.switch_radix) return 1;
  return leaves <= f.switch_radix ? 2 : 3;
}

// Endpoints and leaves of one Clos of a topology (every plane of a
// multi-plane fabric is the same size), for leaves of `leaf_down` downlinks.
struct ClosSize {
  int endpoints = 0;
  int leaves = 0;
};

ClosSize clos_size(Topology t, int nodes, const NodeParams& n, int leaf_down) {
  switch (t) {
    case Topology::single_node: return {};
    case Topology::fat_tree: {
      const int endpoints = nodes * n.nics_per_node;
      return {.endpoints = endpoints, .leaves = ceil_div(endpoints, leaf_down)};
    }
    case Topology::rail_optimized:
      return {.endpoints = nodes * n.nics_per_node, .leaves = n.nics_per_node * ceil_div(nodes, leaf_down)};
    case Topology::multi_plane_fat_tree: return {.endpoints = nodes, .leaves = ceil_div(nodes, leaf_down)};
  }
  return {};
}

// The figures a topology needs and their consistency, as breaks (pure: the
// loader's rule set asks for them too, scenarios/rules.h).
class NetworkChecks {
 public:
  explicit NetworkChecks(Topology t) : t_(t) {}

  void missing(std::string_view key, std::string_view why = {}) {
    out_.push_back({std::string(key), fmt::format("needed by the {} topology{}", topology_name(t_), why)});
  }
  void require(bool ok, std::string_view key, std::string message) {
    if (!ok) out_.push_back({std::string(key), std::move(message)});
  }

  void node(const NodeParams& n, bool scale_out) {
    if (n.gpus_per_node < 1) missing("hardware.gpus_per_node");
    if (n.gpus_per_node > 1) {
      const std::string why = fmt::format(" ({} GPUs per node share an NVSwitch)", n.gpus_per_node);
      if (n.nvlink_bandwidth.value() <= 0.0) missing("hardware.gpu.nvlink_bandwidth", why);
      if (n.nvlink_latency.value() <= 0.0) missing("hardware.network.latency_nvlink", why);
    }
    if (!scale_out) return;
    if (n.nics_per_node < 1) missing("hardware.network.nics_per_node");
    if (n.nic_bandwidth.value() <= 0.0) missing("hardware.network.nic_bandwidth");
    if (n.nics_per_node >= 1) {
      require(n.gpus_per_node % n.nics_per_node == 0, "hardware.network.nics_per_node",
              fmt::format("{} NICs do not divide {} GPUs per node evenly", n.nics_per_node, n.gpus_per_node));
    }
  }

  void fabric(const FabricParams& f) {
    if (f.switch_radix < 2) missing("hardware.network.switch_radix");
    require(f.oversubscription >= 1.0, "hardware.network.oversubscription",
            fmt::format("expected at least 1 (downlinks per uplink), got {}", f.oversubscription));
    if (f.switch_radix >= 2 && f.oversubscription >= 1.0) {
      require(split_ports(f.switch_radix, f.oversubscription).up >= 1, "hardware.network.oversubscription",
              no_uplink(f.oversubscription, f.switch_radix));
    }
    require(f.pod_oversubscription >= 1.0, kPodOversubscriptionKey,
            fmt::format("expected at least 1 (downlinks per uplink), got {}", f.pod_oversubscription));
    require(f.pod_gpus >= 0, kPodGpusKey,
            fmt::format("expected a GPU count (0: pods from the radix), got {}", f.pod_gpus));
    if (f.latency_intra_leaf.value() <= 0.0) missing("hardware.network.latency_intra_leaf");
    if (f.latency_cross_leaf.value() <= 0.0) missing("hardware.network.latency_cross_leaf");
    if (f.latency_intra_leaf.value() > 0.0 && f.latency_cross_leaf.value() > 0.0) {
      require(!(f.latency_cross_leaf < f.latency_intra_leaf), "hardware.network.latency_cross_leaf",
              fmt::format("{} is below latency_intra_leaf {}", f.latency_cross_leaf, f.latency_intra_leaf));
    }
    require(f.layers == 0 || f.layers == 2 || f.layers == 3, "hardware.network.layers",
            fmt::format("fat-tree layers: expected 2 or 3, got {}", f.layers));
  }

  // The pod keys shape a three-layer fabric's aggregation switches: they need
  // three layers, pod_gpus whole leaves and at most a core switch's ports in
  // pods, an aggregation switch an uplink. Without them a three-layer fabric
  // still has at most `switch_radix` pods (one core port each), checked here
  // with the builder's own arithmetic so a cluster too large is refused
  // before anything is allocated (add_pods_and_core refuses the same). Quiet
  // where the figures the layers follow from are themselves missing or broken
  // (node() and fabric() report those).
  void pods(int nodes, const NodeParams& n, const FabricParams& f) {
    const bool oversubscribed = f.pod_oversubscription != 1.0;
    const bool sized = f.pod_gpus != 0;
    const auto refuse = [&](const std::string& why) {
      const std::string message = fmt::format("applies above the pods of a three-layer fabric; {}", why);
      if (oversubscribed) out_.push_back({std::string(kPodOversubscriptionKey), message});
      if (sized) out_.push_back({std::string(kPodGpusKey), message});
    };
    if (t_ == Topology::single_node) {
      if (oversubscribed || sized) refuse("the single-node topology has no switches");
      return;
    }
    if (nodes < 1 || n.nics_per_node < 1 || n.gpus_per_node % n.nics_per_node != 0 || f.switch_radix < 2 ||
        f.oversubscription < 1.0 || f.pod_oversubscription < 1.0 || f.pod_gpus < 0) {
      return;
    }
    const SwitchPorts leaf = split_ports(f.switch_radix, f.oversubscription);
    if (leaf.up < 1) return;
    const ClosSize size = clos_size(t_, nodes, n, leaf.down);
    const int layers = clos_layers(t_, f, size.endpoints, size.leaves);
    if (layers != 3) {
      if (!oversubscribed && !sized) return;
      std::string why;
      if (layers == 1) {
        why = fmt::format("its {} endpoints share one {}-port switch", size.endpoints, f.switch_radix);
      } else if (t_ == Topology::rail_optimized && f.layers == 0) {
        why = "its rails meet at one spine layer";
      } else if (f.layers == 0) {
        why = fmt::format("its {} leaves fit under one layer of {}-port spines", size.leaves, f.switch_radix);
      }
      refuse(fmt::format("this {} fabric has {} switch layer{}{}", topology_name(t_), layers, layers == 1 ? "" : "s",
                         why.empty() ? "" : " (" + why + ")"));
      return;
    }
    const int gpus_per_leaf = leaf.down * (n.gpus_per_node / n.nics_per_node);
    if (sized) {
      require(f.pod_gpus % gpus_per_leaf == 0, kPodGpusKey,
              fmt::format("expected whole leaves, a multiple of the {} GPUs under one leaf, got {}", gpus_per_leaf,
                          f.pod_gpus));
      const int pods = ceil_div(size.leaves, std::max(1, f.pod_gpus / gpus_per_leaf));
      require(pods <= f.switch_radix, kPodGpusKey,
              fmt::format("{} GPUs a pod make {} pods; a {}-port core switch reaches at most {}", f.pod_gpus, pods,
                          f.switch_radix, f.switch_radix));
      return;
    }
    if (split_ports(f.switch_radix, f.pod_oversubscription).up < 1) {
      require(false, kPodOversubscriptionKey,
              fmt::format("{} (an aggregation switch)", no_uplink(f.pod_oversubscription, f.switch_radix)));
      return;
    }
    const int pods = ceil_div(size.leaves, pod_shape(f, gpus_per_leaf).leaves);
    require(pods <= f.switch_radix, "hardware.network.switch_radix",
            fmt::format("{} pods exceed a three-layer fat-tree of {}-port switches", pods, f.switch_radix));
  }

  void one_nic_per_gpu(const NodeParams& n) {
    require(n.nics_per_node == n.gpus_per_node, "hardware.network.nics_per_node",
            fmt::format("the {} topology pairs one NIC with each GPU; got {} NICs for {} GPUs per node",
                        topology_name(t_), n.nics_per_node, n.gpus_per_node));
  }

  std::vector<NetworkBreak> take() { return std::move(out_); }

 private:
  Topology t_;
  std::vector<NetworkBreak> out_;
};

// The first break as the ConfigError the builders throw: "key: message".
void throw_first(const std::vector<NetworkBreak>& breaks) {
  if (!breaks.empty()) throw ConfigError(fmt::format("{}: {}", breaks.front().key, breaks.front().message));
}

void check_node(const NodeParams& n, Topology t, bool scale_out) {
  NetworkChecks c(t);
  c.node(n, scale_out);
  throw_first(c.take());
}

void check_scale_out(int nodes, const NodeParams& n, const FabricParams& f, Topology t) {
  NetworkChecks c(t);
  c.node(n, /*scale_out=*/true);
  c.fabric(f);
  c.pods(nodes, n, f);
  throw_first(c.take());
}

void check_one_nic_per_gpu(const NodeParams& n, Topology t) {
  NetworkChecks c(t);
  c.one_nic_per_gpu(n);
  throw_first(c.take());
}

HopLatencies hop_latencies(const NodeParams& n, const FabricParams& f) {
  return {.nvlink_hop = n.nvlink_latency / kHopsPerTraversal,
          .access_hop = f.latency_intra_leaf / kHopsPerTraversal,
          .fabric_hop = (f.latency_cross_leaf - f.latency_intra_leaf) / kHopsPerTraversal};
}

// The GPUs (devices 0..N-1), each node's NVSwitch, and its NICs. Returns the
// NIC device ids, node-major: nics[node * nics_per_node + k].
std::vector<DeviceId> add_nodes(PartsBuilder& b, int nodes, const NodeParams& n, Seconds nvlink_hop, bool with_nics) {
  for (int node = 0; node < nodes; ++node) {
    for (int i = 0; i < n.gpus_per_node; ++i) b.add_device({.kind = DeviceKind::gpu, .node = node, .index = i});
  }
  std::vector<DeviceId> nics;
  for (int node = 0; node < nodes; ++node) {
    const DeviceId first_gpu = node * n.gpus_per_node;
    if (n.gpus_per_node > 1) {
      const DeviceId sw = b.add_device({.kind = DeviceKind::nvswitch, .node = node});
      for (int i = 0; i < n.gpus_per_node; ++i) {
        b.add_cable(first_gpu + i, sw, n.nvlink_bandwidth, nvlink_hop, LinkKind::nvlink);
      }
    }
    if (!with_nics) continue;
    const int gpus_per_nic = n.gpus_per_node / n.nics_per_node;
    for (int k = 0; k < n.nics_per_node; ++k) {
      const DeviceId nic = b.add_device({.kind = DeviceKind::nic, .node = node, .index = k});
      nics.push_back(nic);
      // The GPU-NIC hop (PCIe) is not a separate constraint: its bandwidth is
      // the NIC's and its latency is inside the measured end-to-end figure.
      for (int i = k * gpus_per_nic; i < (k + 1) * gpus_per_nic; ++i) {
        b.add_cable(first_gpu + i, nic, n.nic_bandwidth, Seconds(0), LinkKind::host);
      }
    }
  }
  return nics;
}

// Ports of a leaf (split_ports at the leaf's oversubscription).
SwitchPorts leaf_ports(const FabricParams& f) {
  const SwitchPorts p = split_ports(f.switch_radix, f.oversubscription);
  if (p.up < 1) {
    throw ConfigError(
        fmt::format("hardware.network.oversubscription: {}", no_uplink(f.oversubscription, f.switch_radix)));
  }
  return p;
}

// The fewest switches, a divisor of `ports_each_needs`, such that every one of
// `peers` reaches each of them over ports_each_needs / count parallel cables
// and no switch needs more than `radix` ports toward the peers.
int switches_for(int peers, int ports_each_needs, int radix) {
  for (int count = 1; count <= ports_each_needs; ++count) {
    if (ports_each_needs % count == 0 && peers * (ports_each_needs / count) <= radix) return count;
  }
  return ports_each_needs;
}

// Switches are numbered per layer (leaf, spine, core) across planes.
constexpr int kSwitchLayers = 3;
using SwitchCounters = std::array<int, kSwitchLayers>;

// What the switch layers above a set of leaves are built with.
struct ClosContext {
  PartsBuilder* builder = nullptr;
  FabricParams fabric;
  Topology topology = Topology::fat_tree;
  BytesPerSecond port;  // every switch port runs at the NIC's speed
  HopLatencies hops;
  int plane = -1;
  SwitchCounters* counters = nullptr;
  int gpus_per_endpoint = 1;  // GPUs sharing one NIC port
};

DeviceId add_switch(ClosContext& c, DeviceKind kind) {
  int& counter = (*c.counters)[static_cast<std::size_t>(static_cast<int>(kind) - static_cast<int>(DeviceKind::leaf))];
  return c.builder->add_device({.kind = kind, .node = -1, .index = counter++, .plane = c.plane});
}

void connect(ClosContext& c, DeviceId lower, DeviceId upper, int cables) {
  for (int k = 0; k < cables; ++k) c.builder->add_cable(lower, upper, c.port, c.hops.fabric_hop, LinkKind::fabric);
}

// Spines (two layers): each leaf spreads its uplinks evenly over every spine.
double add_spines(ClosContext& c, std::span<const DeviceId> leaves, int up) {
  const int leaf_count = static_cast<int>(leaves.size());
  if (leaf_count > c.fabric.switch_radix) {
    throw ConfigError(
        fmt::format("hardware.network.switch_radix: {} leaves exceed a two-layer {} fabric of {}-port "
                    "switches; use more layers or bigger switches",
                    leaf_count, topology_name(c.topology), c.fabric.switch_radix));
  }
  const int spines = switches_for(leaf_count, up, c.fabric.switch_radix);
  for (int s = 0; s < spines; ++s) {
    const DeviceId spine = add_switch(c, DeviceKind::spine);
    for (const DeviceId leaf : leaves) connect(c, leaf, spine, up / spines);
  }
  return static_cast<double>(leaf_count) * up;
}

// Pods (pod_shape) with `up` aggregation (spine) switches each, one per leaf
// uplink, and a core layer: aggregation switch j of every pod reaches core
// group j. Returns the narrower of the leaves' and the aggregation switches'
// uplink counts.
double add_pods_and_core(ClosContext& c, std::span<const DeviceId> leaves, int up) {
  const int radix = c.fabric.switch_radix;
  const PodShape pod = pod_shape(c.fabric, leaf_ports(c.fabric).down * c.gpus_per_endpoint);
  const int leaves_per_pod = pod.leaves;
  const int agg_up = pod.up;
  const int leaf_count = static_cast<int>(leaves.size());
  const int pods = ceil_div(leaf_count, leaves_per_pod);
  if (pods > radix) {
    throw ConfigError(
        fmt::format("hardware.network.switch_radix: {} pods exceed a three-layer fat-tree of {}-port "
                    "switches",
                    pods, radix));
  }
  std::vector<std::vector<DeviceId>> aggs(static_cast<std::size_t>(pods));
  for (int p = 0; p < pods; ++p) {
    for (int j = 0; j < up; ++j) {
      const DeviceId agg = add_switch(c, DeviceKind::spine);
      aggs[static_cast<std::size_t>(p)].push_back(agg);
      for (int l = p * leaves_per_pod; l < std::min(leaf_count, (p + 1) * leaves_per_pod); ++l) {
        connect(c, leaves[static_cast<std::size_t>(l)], agg, 1);
      }
    }
  }
  const int cores_per_group = switches_for(pods, agg_up, radix);
  for (int j = 0; j < up; ++j) {
    for (int k = 0; k < cores_per_group; ++k) {
      const DeviceId core = add_switch(c, DeviceKind::core);
      for (int p = 0; p < pods; ++p) {
        connect(c, aggs[static_cast<std::size_t>(p)][static_cast<std::size_t>(j)], core, agg_up / cores_per_group);
      }
    }
  }
  const double leaf_up_ports = static_cast<double>(leaf_count) * up;
  const double agg_up_ports = static_cast<double>(pods) * up * agg_up;
  return std::min(leaf_up_ports, agg_up_ports);
}

// A folded Clos over endpoint groups, one leaf per group (each group at most
// the leaf's downlinks). Returns its bisection bandwidth: the smaller of half
// the endpoints' and half of each layer's uplink capacity (one direction).
BytesPerSecond add_clos(ClosContext& c, const std::vector<std::vector<DeviceId>>& groups) {
  const SwitchPorts ports = leaf_ports(c.fabric);
  int endpoints = 0;
  std::vector<DeviceId> leaves;
  for (const auto& group : groups) {
    const DeviceId leaf = add_switch(c, DeviceKind::leaf);
    leaves.push_back(leaf);
    for (const DeviceId nic : group) c.builder->add_cable(nic, leaf, c.port, c.hops.access_hop, LinkKind::access);
    endpoints += static_cast<int>(group.size());
  }
  const int layers = clos_layers(c.topology, c.fabric, endpoints, static_cast<int>(leaves.size()));
  double narrowest = endpoints;
  if (layers == 1) {
    narrowest = std::floor(endpoints / 2.0) * 2.0;  // one crossbar: pairs of ports
  } else if (layers == 2) {
    narrowest = std::min(narrowest, add_spines(c, leaves, ports.up));
  } else {
    narrowest = std::min(narrowest, add_pods_and_core(c, leaves, ports.up));
  }
  return c.port * (narrowest / 2.0);
}

// Splits `nics` (in order) into leaf-sized groups.
std::vector<std::vector<DeviceId>> chunk(const std::vector<DeviceId>& nics, int per_leaf) {
  std::vector<std::vector<DeviceId>> groups;
  for (std::size_t i = 0; i < nics.size(); i += static_cast<std::size_t>(per_leaf)) {
    const auto end = std::min(nics.size(), i + static_cast<std::size_t>(per_leaf));
    groups.emplace_back(nics.begin() + static_cast<std::ptrdiff_t>(i), nics.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return groups;
}

// NIC k of every node, in node order.
std::vector<DeviceId> rail(const std::vector<DeviceId>& nics, int nodes, int nics_per_node, int k) {
  std::vector<DeviceId> out;
  for (int node = 0; node < nodes; ++node) out.push_back(nics[static_cast<std::size_t>(node * nics_per_node + k)]);
  return out;
}

struct ScaleOut {
  PartsBuilder builder;
  std::vector<DeviceId> nics;
  SwitchCounters counters{};
  ClosContext context(const FabricParams& f, Topology t, const NodeParams& n, int plane) {
    return {.builder = &builder,
            .fabric = f,
            .topology = t,
            .port = n.nic_bandwidth,
            .hops = hop_latencies(n, f),
            .plane = plane,
            .counters = &counters,
            .gpus_per_endpoint = n.gpus_per_node / n.nics_per_node};
  }
};

ScaleOut start_scale_out(int nodes, const NodeParams& n, const FabricParams& f, Topology t) {
  if (nodes < 1) throw ConfigError(fmt::format("hardware.nodes: expected at least 1, got {}", nodes));
  check_scale_out(nodes, n, f, t);
  ScaleOut s;
  s.nics = add_nodes(s.builder, nodes, n, hop_latencies(n, f).nvlink_hop, /*with_nics=*/true);
  return s;
}

ClusterTopology finish(ScaleOut& s, int nodes, const NodeParams& n, BytesPerSecond bisection, std::string description) {
  TopologyParts& p = s.builder.parts();
  p.nodes = nodes;
  p.gpus_per_node = n.gpus_per_node;
  p.bisection = bisection;
  p.description = std::move(description);
  return ClusterTopology(std::move(p));
}

std::string describe(std::string_view what, int nodes, const NodeParams& n, const FabricParams& f) {
  std::string pods;
  if (f.pod_gpus != 0) pods += fmt::format(", pods of {} GPUs", f.pod_gpus);
  if (f.pod_oversubscription != 1.0) pods += fmt::format(", {}:1 above the pods", f.pod_oversubscription);
  return fmt::format("{}: {} nodes x {} GPUs, {} NICs/node at {}, {}-port switches, {}:1 oversubscription{}", what,
                     nodes, n.gpus_per_node, n.nics_per_node, n.nic_bandwidth, f.switch_radix, f.oversubscription,
                     pods);
}

}  // namespace

ClusterTopology build_single_node(const NodeParams& node) {
  check_node(node, Topology::single_node, /*scale_out=*/false);
  PartsBuilder b;
  add_nodes(b, 1, node, node.nvlink_latency / kHopsPerTraversal, /*with_nics=*/false);
  TopologyParts& p = b.parts();
  p.nodes = 1;
  p.gpus_per_node = node.gpus_per_node;
  // One NVSwitch domain is a crossbar: half the GPUs send to the other half
  // at full NVLink bandwidth.
  p.bisection = node.nvlink_bandwidth * std::floor(node.gpus_per_node / 2.0);
  p.description =
      fmt::format("single node: {} GPUs on one NVSwitch at {}/direction", node.gpus_per_node, node.nvlink_bandwidth);
  return ClusterTopology(std::move(p));
}

ClusterTopology build_fat_tree(int nodes, const NodeParams& node, const FabricParams& fabric) {
  constexpr Topology kTopo = Topology::fat_tree;
  ScaleOut s = start_scale_out(nodes, node, fabric, kTopo);
  ClosContext c = s.context(fabric, kTopo, node, -1);
  // Leaves fill with NICs in node-major order: a node's NICs share a leaf.
  const BytesPerSecond bisection = add_clos(c, chunk(s.nics, leaf_ports(fabric).down));
  return finish(s, nodes, node, bisection, describe("fat-tree", nodes, node, fabric));
}

ClusterTopology build_rail_optimized(int nodes, const NodeParams& node, const FabricParams& fabric) {
  constexpr Topology kTopo = Topology::rail_optimized;
  ScaleOut s = start_scale_out(nodes, node, fabric, kTopo);
  check_one_nic_per_gpu(node, kTopo);
  ClosContext c = s.context(fabric, kTopo, node, -1);
  std::vector<std::vector<DeviceId>> groups;
  for (int k = 0; k < node.nics_per_node; ++k) {
    for (auto& g : chunk(rail(s.nics, nodes, node.nics_per_node, k), leaf_ports(fabric).down)) groups.push_back(g);
  }
  const BytesPerSecond bisection = add_clos(c, groups);
  return finish(s, nodes, node, bisection, describe("rail-optimized", nodes, node, fabric));
}

ClusterTopology build_multi_plane_fat_tree(int nodes, const NodeParams& node, const FabricParams& fabric) {
  constexpr Topology kTopo = Topology::multi_plane_fat_tree;
  ScaleOut s = start_scale_out(nodes, node, fabric, kTopo);
  check_one_nic_per_gpu(node, kTopo);
  BytesPerSecond bisection;
  for (int plane = 0; plane < node.nics_per_node; ++plane) {
    ClosContext c = s.context(fabric, kTopo, node, plane);
    for (auto& nic : rail(s.nics, nodes, node.nics_per_node, plane)) {
      s.builder.parts().devices[static_cast<std::size_t>(nic)].plane = plane;
    }
    bisection += add_clos(c, chunk(rail(s.nics, nodes, node.nics_per_node, plane), leaf_ports(fabric).down));
  }
  s.builder.parts().cross_plane_forwarding = node.gpus_per_node > 1;
  return finish(s, nodes, node, bisection,
                describe(fmt::format("multi-plane fat-tree ({} planes)", node.nics_per_node), nodes, node, fabric));
}

namespace {

NodeParams node_params(const ClusterSpec& spec) {
  const NetworkSpec& net = spec.network;
  return {.gpus_per_node = spec.gpus_per_node,
          .nvlink_bandwidth = spec.gpu.nvlink_bandwidth,
          .nvlink_latency = net.latency_nvlink,
          .nics_per_node = net.nics_per_node,
          .nic_bandwidth = net.nic_bandwidth};
}

FabricParams fabric_params(const ClusterSpec& spec) {
  const NetworkSpec& net = spec.network;
  return {.switch_radix = net.switch_radix,
          .oversubscription = net.oversubscription,
          .pod_oversubscription = net.pod_oversubscription,
          .pod_gpus = net.pod_gpus,
          .latency_intra_leaf = net.latency_intra_leaf,
          .latency_cross_leaf = net.latency_cross_leaf,
          .layers = 0};
}

}  // namespace

std::vector<NetworkBreak> network_breaks(const ClusterSpec& spec) {
  const Topology t = spec.network.topology;
  NetworkChecks c(t);
  const NodeParams node = node_params(spec);
  if (t == Topology::single_node) {
    c.require(spec.nodes == 1, "hardware.nodes",
              fmt::format("the single-node topology has one node, got {}", spec.nodes));
    c.node(node, /*scale_out=*/false);
    c.pods(spec.nodes, node, fabric_params(spec));
    return c.take();
  }
  c.require(spec.nodes >= 1, "hardware.nodes", fmt::format("expected at least 1, got {}", spec.nodes));
  c.node(node, /*scale_out=*/true);
  const FabricParams fabric = fabric_params(spec);
  c.fabric(fabric);
  c.pods(spec.nodes, node, fabric);
  if (t == Topology::rail_optimized || t == Topology::multi_plane_fat_tree) c.one_nic_per_gpu(node);
  return c.take();
}

namespace {

ClusterTopology build_uncached(const ClusterSpec& spec) {
  const NetworkSpec& net = spec.network;
  const NodeParams node = node_params(spec);
  const FabricParams fabric = fabric_params(spec);
  switch (net.topology) {
    case Topology::single_node:
      throw_first(network_breaks(spec));  // one node, and no fabric keys it cannot honour
      return build_single_node(node);
    case Topology::fat_tree: return build_fat_tree(spec.nodes, node, fabric);
    case Topology::rail_optimized: return build_rail_optimized(spec.nodes, node, fabric);
    case Topology::multi_plane_fat_tree: return build_multi_plane_fat_tree(spec.nodes, node, fabric);
  }
  throw ConfigError("hardware.network.topology: unknown topology");
}

}  // namespace

ClusterTopology build_topology(const ClusterSpec& spec, TopologyCache* distances) {
  if (distances == nullptr) return build_uncached(spec);
  if (const auto kept = distances->find_built(spec)) return *kept;
  ClusterTopology t = build_uncached(spec);
  t.share_distances(*distances);
  distances->keep_built(spec, t);
  return t;
}

}  // namespace tcsim::hw
