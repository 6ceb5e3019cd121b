// Topology builders, counts, bisection, routing and ECMP.
#include <doctest/doctest.h>

#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "hardware/spec.h"
#include "hardware/topology.h"
#include "tests/hardware/fixtures.h"

using namespace tcsim;
using namespace tcsim::hw;
using namespace tcsim::hw::test;

namespace {

std::vector<int> iota_range(int from, int to) {
  std::vector<int> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

ClusterSpec deepseek_like_spec() {
  ClusterSpec c;
  c.gpu.name = "h800";
  c.gpu.nvlink_bandwidth = kH800NvLink;
  c.gpus_per_node = kGpusPerNode;
  c.nodes = 4;
  c.network = {.topology = Topology::fat_tree,
               .nic_bandwidth = kNdr,
               .nics_per_node = kGpusPerNode,
               .oversubscription = 1.0,
               .switch_radix = kRadix,
               .latency_intra_leaf = kIbSameLeaf,
               .latency_cross_leaf = kIbCrossLeaf,
               .latency_nvlink = kNvLinkLatency};
  return c;
}

}  // namespace

TEST_CASE("a single HGX node joins every GPU to one NVSwitch at its per-direction NVLink bandwidth") {
  const ClusterTopology t = build_single_node(hgx_node(kH100NvLink));
  const TopologyCounts c = t.counts();
  // 8 GPUs, one NVSwitch domain, one cable per GPU, no scale-out network.
  CHECK(c.gpus == 8);
  CHECK(c.nvswitches == 1);
  CHECK(c.nvlink_cables == 8);
  CHECK(c.nics == 0);
  const Route r = t.route(0, 5, 0);
  // GPU 0 -> NVSwitch -> GPU 5: two links at 450 GB/s, 3.33 us end to end.
  REQUIRE(r.links.size() == 2);
  for (const LinkId l : r.links) CHECK(t.link(l).bandwidth == kH100NvLink);
  CHECK(r.latency.value() == doctest::Approx(kNvLinkLatency.value()));
  // Bisection of a crossbar of 8 GPUs: 4 x 450 GB/s.
  CHECK(t.bisection_bandwidth().value() == doctest::Approx(4 * kH100NvLink.value()));
}

TEST_CASE("an A100-style node is the same NVSwitch domain at A100 NVLink speed") {
  // A100 SXM4: NVLink 600 GB/s both directions = 300 GB/s per direction (NVIDIA datasheet).
  NodeParams a100 = hgx_node(gigabytes_per_second(300));
  const ClusterTopology t = build_single_node(a100);
  CHECK(t.link(t.route(3, 7, 0).links.front()).bandwidth == gigabytes_per_second(300));
}

TEST_CASE("GPUs are numbered node-major") {
  const ClusterTopology t = build_fat_tree(4, hgx_node(kH800NvLink), ib_fabric());
  // GPU g: node g / 8, local index g % 8.
  CHECK(t.node_of(13) == 1);
  CHECK(t.local_index(13) == 5);
  CHECK(t.gpu_at(3, 2) == 26);
  CHECK(t.devices()[26].kind == DeviceKind::gpu);
  CHECK(t.devices()[26].node == 3);
  CHECK(t.devices()[26].index == 2);
}

TEST_CASE("a full two-layer fat-tree of 64-port switches has ISCA'25 Table 3's counts (FT2)") {
  // ISCA'25 Table 3, FT2: 2,048 endpoints, 96 switches (64 leaves + 32 spines), 2,048 links.
  // k-ary two-layer fat-tree: k^2/2 endpoints, k leaves, k/2 spines, k^2/2 leaf-spine cables.
  const ClusterTopology t = build_fat_tree(256, hgx_node(kH800NvLink), ib_fabric());
  const TopologyCounts c = t.counts();
  CHECK(c.access_cables == 2048);
  CHECK(c.leaf_switches == 64);
  CHECK(c.spine_switches == 32);
  CHECK(c.core_switches == 0);
  CHECK(c.fabric_cables == 2048);
}

TEST_CASE("a multi-plane fat-tree of 16,384 endpoints has ISCA'25 Table 3's counts (MPFT)") {
  // ISCA'25 Table 3, MPFT: 16,384 endpoints, 768 switches, 16,384 links: eight FT2 planes of 2,048.
  const ClusterTopology t = build_multi_plane_fat_tree(2048, hgx_node(kH800NvLink), ib_fabric());
  const TopologyCounts c = t.counts();
  CHECK(c.access_cables == 16384);
  CHECK(c.leaf_switches + c.spine_switches == 768);
  CHECK(c.fabric_cables == 16384);
}

TEST_CASE("a full three-layer fat-tree of 64-port switches has ISCA'25 Table 3's counts (FT3)") {
  // ISCA'25 Table 3, FT3: 65,536 endpoints (k^3/4), 5,120 switches (5k^2/4), 131,072 links (k^3/2).
  NodeParams one_gpu{.gpus_per_node = 1, .nics_per_node = 1, .nic_bandwidth = kNdr};
  const ClusterTopology t = build_fat_tree(65536, one_gpu, ib_fabric());
  const TopologyCounts c = t.counts();
  CHECK(c.access_cables == 65536);
  CHECK(c.leaf_switches + c.spine_switches + c.core_switches == 5120);
  CHECK(c.core_switches == 1024);
  CHECK(c.fabric_cables == 131072);
}

TEST_CASE("cost per endpoint sums switches and cables over the scale-out endpoints") {
  const ClusterTopology t = build_fat_tree(256, hgx_node(kH800NvLink), ib_fabric());
  const NetworkPrices prices{.per_switch = Dollars(20000),
                             .per_fabric_link = Dollars(1000),
                             .per_access_link = Dollars(500),
                             .per_nic = Dollars(0)};
  const NetworkCost cost = network_cost(t, prices);
  // (96 x 20,000 + 2,048 x 1,000 + 2,048 x 500) / 2,048 = 937.5 + 1,000 + 500 = 2,437.5 dollars.
  CHECK(cost.endpoints == 2048);
  CHECK(cost.per_endpoint.value() == doctest::Approx(2437.5));
}

TEST_CASE("a non-blocking fat-tree's bisection is half its endpoints' bandwidth") {
  // 32 nodes x 8 NICs = 256 endpoints at 50 GB/s: 256 / 2 x 50 GB/s = 6.4 TB/s.
  const ClusterTopology t = build_fat_tree(32, hgx_node(kH800NvLink), ib_fabric());
  CHECK(t.bisection_bandwidth().value() == doctest::Approx(6.4e12));
  // Max flow from the first 16 nodes' GPUs to the last 16 nodes' GPUs over the built links.
  CHECK(t.max_flow(iota_range(0, 128), iota_range(128, 256)).value() == doctest::Approx(6.4e12));
}

TEST_CASE("an oversubscribed fat-tree's bisection shrinks by the oversubscription") {
  // 3:1 on 64 ports: 48 down, 16 up per leaf. 48 nodes x 8 = 384 endpoints = 8 full leaves.
  // Bisection = 384 / 2 x 50 GB/s / 3 = 3.2 TB/s (= 4 leaves x 16 uplinks x 50 GB/s).
  const ClusterTopology t = build_fat_tree(48, hgx_node(kH800NvLink), ib_fabric(kRadix, 3.0));
  CHECK(t.counts().leaf_switches == 8);
  CHECK(t.bisection_bandwidth().value() == doctest::Approx(3.2e12));
  CHECK(t.max_flow(iota_range(0, 192), iota_range(192, 384)).value() == doctest::Approx(3.2e12));
}

TEST_CASE("a three-layer fat-tree's bisection is half its endpoints' bandwidth when non-blocking") {
  // Radix 8: 4 endpoints per leaf, 4 leaves per pod, 8 pods max. 64 one-GPU nodes = 16 leaves = 4 pods.
  // Bisection = 64 / 2 x 50 GB/s = 1.6 TB/s.
  NodeParams one_gpu{.gpus_per_node = 1, .nics_per_node = 1, .nic_bandwidth = kNdr};
  const ClusterTopology t = build_fat_tree(64, one_gpu, ib_fabric(8, 1.0, 3));
  CHECK(t.counts().core_switches > 0);
  CHECK(t.bisection_bandwidth().value() == doctest::Approx(1.6e12));
  CHECK(t.max_flow(iota_range(0, 32), iota_range(32, 64)).value() == doctest::Approx(1.6e12));
}

// One-GPU nodes with one NDR NIC each: every endpoint is one GPU.
NodeParams one_gpu_node() { return {.gpus_per_node = 1, .nics_per_node = 1, .nic_bandwidth = kNdr}; }

FabricParams pod_fabric(int radix, double pod_oversubscription, int pod_gpus = 0) {
  FabricParams f = ib_fabric(radix);
  f.pod_oversubscription = pod_oversubscription;
  f.pod_gpus = pod_gpus;
  return f;
}

TEST_CASE("with pod oversubscription o2, a GPU's bandwidth across pods is its bandwidth inside a pod over o2") {
  // Two full pods, non-blocking leaves (radix k: k/2 down, k/2 up). An aggregation switch at o2:1
  // has floor(k / (1 + o2)) uplinks and o2 times as many leaves below it; a pod has k/2 of them.
  struct Case {
    int radix;
    double o2;
    int pod_leaves;  // aggregation downlinks
    int agg_up;      // aggregation uplinks
  };
  // Radix 8 at 3:1: 2 up, 6 down. Radix 16 at 7:1 (Llama 3's ratio): 2 up, 14 down.
  for (const Case& k : {Case{8, 3.0, 6, 2}, Case{16, 7.0, 14, 2}}) {
    CAPTURE(k.radix);
    const int per_leaf = k.radix / 2;
    const int pod_gpus = k.pod_leaves * per_leaf;  // 24 and 112
    const ClusterTopology t = build_fat_tree(2 * pod_gpus, one_gpu_node(), pod_fabric(k.radix, k.o2));
    // 2 x pod_leaves leaves (12, 28) exceed the radix: three layers.
    REQUIRE(t.counts().core_switches > 0);
    CHECK(t.counts().spine_switches == 2 * per_leaf);
    const double b = kNdr.value();
    // Inside a pod nothing is oversubscribed: half the pod sends to the other half at b per GPU.
    const double inside = t.max_flow(iota_range(0, pod_gpus / 2), iota_range(pod_gpus / 2, pod_gpus)).value();
    CHECK(inside == doctest::Approx(pod_gpus / 2 * b));
    // Across pods, pod 0 reaches pod 1 only through its per_leaf x agg_up core uplinks.
    const double across = t.max_flow(iota_range(0, pod_gpus), iota_range(pod_gpus, 2 * pod_gpus)).value();
    CHECK(across == doctest::Approx(per_leaf * k.agg_up * b));  // 400 GB/s and 800 GB/s
    // Per GPU of the sending side: b inside a pod, b / o2 across pods.
    CHECK(across / pod_gpus == doctest::Approx(inside / (pod_gpus / 2) / k.o2));
    // The closed form: b/2 x min(E, L u, P u u2) = b/2 x 2 x per_leaf x agg_up, the cut across pods.
    CHECK(t.bisection_bandwidth().value() == doctest::Approx(across));
  }
}

TEST_CASE("pod_gpus sets the pod size; the aggregation switches get the ports a pod needs") {
  // Radix 8, non-blocking leaves of 4 GPUs; pods of 32 GPUs = 8 leaves, above the 4 a radix-8
  // aggregation switch would take. At 2:1 each of a pod's 4 aggregation switches has 8 leaf
  // downlinks and 8 / 2 = 4 core uplinks (12 ports). 64 GPUs: 16 leaves, 2 pods.
  const ClusterTopology t = build_fat_tree(64, one_gpu_node(), pod_fabric(8, 2.0, 32));
  const TopologyCounts c = t.counts();
  CHECK(c.leaf_switches == 16);
  CHECK(c.spine_switches == 2 * 4);
  // Core group j joins aggregation switch j of both pods, 4 cables each: one 8-port core per group.
  CHECK(c.core_switches == 4);
  // Leaf-aggregation 16 x 4, aggregation-core 8 x 4.
  CHECK(c.fabric_cables == 16 * 4 + 8 * 4);
  const double b = kNdr.value();
  // Across pods: 4 aggregation switches x 4 uplinks x 50 GB/s = 800 GB/s; the closed form agrees.
  const double across = t.max_flow(iota_range(0, 32), iota_range(32, 64)).value();
  CHECK(across == doctest::Approx(4 * 4 * b));
  CHECK(t.bisection_bandwidth().value() == doctest::Approx(across));
  // Inside a pod: 16 GPUs to 16 at full rate; per GPU that is 2x the rate across pods.
  const double inside = t.max_flow(iota_range(0, 16), iota_range(16, 32)).value();
  CHECK(inside == doctest::Approx(16 * b));
  CHECK(across / 32 == doctest::Approx(inside / 16 / 2.0));
  // pod_gpus counts GPUs, not NIC ports: 16 nodes of 8 GPUs sharing 4 NICs fill 16 leaves of 4 NICs
  // (8 GPUs); pods of 32 GPUs are 4 leaves, so 4 pods of 4 aggregation switches.
  NodeParams shared = hgx_node(kH800NvLink);
  shared.nics_per_node = 4;
  const ClusterTopology s = build_fat_tree(16, shared, pod_fabric(8, 2.0, 32));
  CHECK(s.counts().leaf_switches == 16);
  CHECK(s.counts().spine_switches == 4 * 4);
}

TEST_CASE("Llama 3's fabric: 8 pods of 3,072 GPUs with full bisection, 1:7 above them") {
  // Llama 3 (arXiv:2407.21783) §3.3.1: 24K GPUs in a three-layer Clos; 16 GPUs per rack on one ToR;
  // 192 racks form a pod of 3,072 GPUs with full bisection; eight pods joined by aggregation
  // switches at 1:7. One 400 Gb/s NIC per GPU. A leaf of 16 GPUs at 1:1: 32 ports.
  NodeParams node = hgx_node(kH100NvLink);
  FabricParams f = pod_fabric(32, 7.0, 3072);
  const ClusterTopology t = build_fat_tree(3072, node, f);  // 3,072 nodes x 8 = 24,576 GPUs
  const TopologyCounts c = t.counts();
  // 24,576 / 16 = 1,536 leaves; 1,536 / 192 = 8 pods of 16 aggregation switches.
  CHECK(c.leaf_switches == 1536);
  CHECK(c.spine_switches == 8 * 16);
  // 192 leaves / 7 is not whole: 28 uplinks per aggregation switch (27 x 7 = 189 < 192 <= 196),
  // 192:28 = 6.86:1. Core group j takes 8 pods x 28 cables; 32-port cores take 4 from each pod: 7 cores.
  CHECK(c.core_switches == 16 * 7);
  CHECK(c.fabric_cables == 1536 * 16 + 128 * 28);
  // Bisection: half of the 8 x 16 x 28 = 3,584 core uplinks at 50 GB/s = 89.6 TB/s, against
  // 24,576 / 2 x 50 GB/s = 614.4 TB/s were it non-blocking.
  CHECK(t.bisection_bandwidth().value() == doctest::Approx(3584 / 2 * 50e9));
}

TEST_CASE("the pod keys are refused, by key, where the fabric has no three layers") {
  ClusterSpec spec = deepseek_like_spec();
  spec.nodes = 32;  // 256 NICs on 64-port leaves: 8 leaves under one spine layer
  spec.network.pod_oversubscription = 7.0;
  CHECK(contains(config_error_of([&] { build_topology(spec); }),
                 "hardware.network.pod_oversubscription: applies above the pods of a three-layer fabric; this "
                 "fat-tree fabric has 2 switch layers (its 8 leaves fit under one layer of 64-port spines)"));
  spec.network.pod_oversubscription = 1.0;
  spec.network.pod_gpus = 128;
  CHECK(contains(config_error_of([&] { build_topology(spec); }), "hardware.network.pod_gpus: applies above"));
  // Rail-optimised fabrics meet at one spine layer whatever their size.
  spec.network.topology = Topology::rail_optimized;
  spec.network.pod_gpus = 0;
  spec.network.pod_oversubscription = 3.0;
  const std::vector<NetworkBreak> breaks = network_breaks(spec);
  REQUIRE(breaks.size() == 1);
  CHECK(breaks.front().key == "hardware.network.pod_oversubscription");
  CHECK(contains(breaks.front().message, "rails meet at one spine layer"));
  // One NVSwitch node has no switch layers at all.
  ClusterSpec single = deepseek_like_spec();
  single.nodes = 1;
  single.network.topology = Topology::single_node;
  single.network.pod_gpus = 8;
  REQUIRE(network_breaks(single).size() == 1);
  CHECK(network_breaks(single).front().key == "hardware.network.pod_gpus");
  // Below 1 is refused on any fabric.
  spec.network.topology = Topology::fat_tree;
  spec.network.pod_oversubscription = 0.5;
  CHECK(contains(config_error_of([&] { build_topology(spec); }),
                 "hardware.network.pod_oversubscription: expected at least 1 (downlinks per uplink), got 0.5"));
}

TEST_CASE("pod_gpus must be whole leaves, and few enough pods for a core switch") {
  // 128 nodes x 8 GPUs on 16-port leaves of 8 GPUs: 128 leaves > 16, three layers.
  ClusterSpec spec = deepseek_like_spec();
  spec.nodes = 128;
  spec.network.switch_radix = 16;
  spec.network.pod_gpus = 100;
  CHECK(contains(config_error_of([&] { build_topology(spec); }),
                 "hardware.network.pod_gpus: expected whole leaves, a multiple of the 8 GPUs under one leaf, got 100"));
  // Pods of one leaf: 128 pods, more than a 16-port core switch reaches.
  spec.network.pod_gpus = 8;
  CHECK(contains(config_error_of([&] { build_topology(spec); }),
                 "hardware.network.pod_gpus: 8 GPUs a pod make 128 pods"));
  // Pods of 8 leaves: 16 pods, each 8 aggregation switches of 8 leaf downlinks and 8 core uplinks.
  spec.network.pod_gpus = 64;
  CHECK(network_breaks(spec).empty());
  CHECK(build_topology(spec).counts().spine_switches == 16 * 8);
}

TEST_CASE("route latencies add up to the published end-to-end figures") {
  // 8 nodes x 8 NICs on 64-port switches, 32 NICs per leaf: nodes 0-3 share leaf 0, nodes 4-7 leaf 1.
  const ClusterTopology t = build_fat_tree(8, hgx_node(kH800NvLink), ib_fabric());
  CHECK(t.route(0, 1, 0).latency.value() == doctest::Approx(kNvLinkLatency.value()));  // NVLink
  CHECK(t.route(0, 8, 0).latency.value() == doctest::Approx(kIbSameLeaf.value()));     // same leaf
  CHECK(t.route(0, 32, 0).latency.value() == doctest::Approx(kIbCrossLeaf.value()));   // across leaves
  // Inside a node the NVSwitch path (2 links) beats the NICs (4 links).
  CHECK(t.route(0, 1, 0).links.size() == 2);
}

TEST_CASE("ECMP spreads flows over every equal-cost path and each key sticks to one") {
  // Radix 8, non-blocking: 4 NICs and 4 uplinks per leaf; 4 nodes x 4 NICs = 4 leaves; 2 spines with
  // 2 cables from each leaf. GPU 0 (leaf 0) to GPU 15 (leaf 3): 4 uplinks x 2 downlinks = 8 paths.
  NodeParams node = hgx_node(kH800NvLink);
  node.gpus_per_node = node.nics_per_node = 4;
  const ClusterTopology t = build_fat_tree(4, node, ib_fabric(8));
  CHECK(t.counts().spine_switches == 2);
  CHECK(t.equal_cost_paths(0, 15) == 8.0);
  std::map<std::vector<LinkId>, int> seen;
  constexpr int kKeys = 800;
  for (int key = 0; key < kKeys; ++key) ++seen[t.route(0, 15, static_cast<std::uint64_t>(key)).links];
  CHECK(seen.size() == 8);
  // Each path carries at least half its fair 1/8 share of the keys.
  for (const auto& [path, n] : seen) CHECK(n >= kKeys / 8 / 2);
  CHECK(t.route(0, 15, 42).links == t.route(0, 15, 42).links);
}

namespace {

// Fewest links from GPU `src` to GPU `dst` through no third GPU: a breadth-first search written here, apart from
// the topology's own.
int fewest_links(const ClusterTopology& t, int src, int dst) {
  const auto devices = t.devices();
  std::vector<int> depth(devices.size(), -1);
  std::vector<DeviceId> frontier{src};
  depth[static_cast<std::size_t>(src)] = 0;
  while (!frontier.empty()) {
    std::vector<DeviceId> next;
    for (const DeviceId v : frontier) {
      for (const Link& l : t.links()) {
        if (l.from != v || depth[static_cast<std::size_t>(l.to)] >= 0) continue;
        const bool gpu = devices[static_cast<std::size_t>(l.to)].kind == DeviceKind::gpu;
        if (gpu && l.to != dst) continue;
        depth[static_cast<std::size_t>(l.to)] = depth[static_cast<std::size_t>(v)] + 1;
        next.push_back(l.to);
      }
    }
    frontier = std::move(next);
  }
  return depth[static_cast<std::size_t>(dst)];
}

// Shortest paths from GPU `src` to GPU `dst` through no third GPU, counted over our own breadth-first layers
// (0 when there is none).
double shortest_paths(const ClusterTopology& t, int src, int dst) {
  const auto devices = t.devices();
  std::vector<int> depth(devices.size(), -1);
  std::vector<double> count(devices.size(), 0.0);
  std::vector<DeviceId> frontier{src};
  depth[static_cast<std::size_t>(src)] = 0;
  count[static_cast<std::size_t>(src)] = 1.0;
  while (!frontier.empty()) {
    std::vector<DeviceId> next;
    for (const DeviceId v : frontier) {
      if (v == dst) continue;
      for (const Link& l : t.links()) {
        if (l.from != v) continue;
        const auto w = static_cast<std::size_t>(l.to);
        if (devices[w].kind == DeviceKind::gpu && l.to != dst) continue;
        if (depth[w] < 0) {
          depth[w] = depth[static_cast<std::size_t>(v)] + 1;
          next.push_back(l.to);
        }
        if (depth[w] == depth[static_cast<std::size_t>(v)] + 1) count[w] += count[static_cast<std::size_t>(v)];
      }
    }
    frontier = std::move(next);
  }
  return count[static_cast<std::size_t>(dst)];
}

}  // namespace

TEST_CASE("a direct route is a shortest path: as many links as a breadth-first search of our own finds") {
  for (const ClusterTopology& t : {build_fat_tree(8, hgx_node(kH800NvLink), ib_fabric()),
                                   build_rail_optimized(4, hgx_node(kH800NvLink), ib_fabric())}) {
    CAPTURE(t.description());
    for (int src = 0; src < t.gpu_count(); src += 3) {
      for (int dst = 0; dst < t.gpu_count(); dst += 5) {
        if (src == dst) continue;
        CHECK(static_cast<int>(t.route(src, dst, 11).links.size()) == fewest_links(t, src, dst));
      }
    }
  }
}

TEST_CASE("equal-cost path counts are the shortest paths a search of our own counts, on every builder's fabric") {
  // Hop counts come from tables shared by the GPUs behind one switch; the counts of equal-cost paths
  // check every next-hop choice against an independent search, not just the route length.
  for (const ClusterTopology& t : {build_fat_tree(8, hgx_node(kH800NvLink), ib_fabric(8)),
                                   build_rail_optimized(4, hgx_node(kH800NvLink), ib_fabric()),
                                   build_multi_plane_fat_tree(4, hgx_node(kH800NvLink), ib_fabric(8)),
                                   build_fat_tree(64, one_gpu_node(), pod_fabric(8, 2.0, 32))}) {
    CAPTURE(t.description());
    int compared = 0;
    for (int src = 0; src < t.gpu_count(); src += 3) {
      for (int dst = 0; dst < t.gpu_count(); dst += 2) {
        const double expected = shortest_paths(t, src, dst);
        if (src == dst || expected == 0.0) continue;  // no direct route: a plane's proxy, checked elsewhere
        CAPTURE(src);
        CAPTURE(dst);
        CHECK(t.equal_cost_paths(src, dst) == expected);
        ++compared;
      }
    }
    CHECK(compared > 0);
  }
}

TEST_CASE("routes through chains of single-entry devices and a loop are the shortest a search of our own finds") {
  // GPU 0 -> NIC 2 -> switch 4, then two ways (5 or 7) to switch 6 -> NIC 3 -> GPU 1, and back the same way.
  // NIC 3 has one way in (6), so GPU 1's hop counts come through 6's table; 4 and 6 have two ways in.
  // Devices 8 and 9 feed each other and 9 feeds GPU 1: a loop of single-entry devices that GPU 0 enters
  // directly, the shortest way (3 links against 6). Device 10 hangs off switch 4 alone (a stub: in and out by
  // one device) and 11 only receives from 6 (a dead end): neither may shorten or add a route.
  TopologyParts p;
  p.description = "chains";
  p.nodes = 2;
  p.gpus_per_node = 1;
  p.devices = {{DeviceKind::gpu, 0, 0},    {DeviceKind::gpu, 1, 0},    {DeviceKind::nic, 0, 0},
               {DeviceKind::nic, 1, 0},    {DeviceKind::leaf, -1, 0},  {DeviceKind::spine, -1, 0},
               {DeviceKind::leaf, -1, 1},  {DeviceKind::spine, -1, 1}, {DeviceKind::spine, -1, 2},
               {DeviceKind::spine, -1, 3}, {DeviceKind::spine, -1, 4}, {DeviceKind::spine, -1, 5}};
  const auto both = [&](DeviceId a, DeviceId b) {
    p.links.push_back({a, b, kNdr, microseconds(1), LinkKind::fabric});
    p.links.push_back({b, a, kNdr, microseconds(1), LinkKind::fabric});
  };
  both(0, 2);
  both(2, 4);
  both(4, 5);
  both(4, 7);
  both(5, 6);
  both(7, 6);
  both(6, 3);
  both(3, 1);
  both(4, 10);
  p.links.push_back({6, 11, kNdr, microseconds(1), LinkKind::fabric});
  p.links.push_back({8, 9, kNdr, microseconds(1), LinkKind::fabric});
  p.links.push_back({9, 8, kNdr, microseconds(1), LinkKind::fabric});
  p.links.push_back({9, 1, kNdr, microseconds(1), LinkKind::fabric});
  p.links.push_back({0, 8, kNdr, microseconds(1), LinkKind::fabric});
  const ClusterTopology t(std::move(p));
  CHECK(fewest_links(t, 0, 1) == 3);
  CHECK(t.route(0, 1, 5).links.size() == 3);
  CHECK(t.equal_cost_paths(0, 1) == shortest_paths(t, 0, 1));
  CHECK(fewest_links(t, 1, 0) == 6);
  CHECK(t.equal_cost_paths(1, 0) == 2.0);
  CHECK(shortest_paths(t, 1, 0) == 2.0);
  for (const std::uint64_t key : {1ULL, 2ULL, 3ULL, 4ULL}) CHECK(t.route(1, 0, key).links.size() == 6);
}

TEST_CASE(
    "every route joins its GPUs link by link, through no other GPU but a plane's proxy, as short as any other key's") {
  for (const ClusterTopology& t : {build_fat_tree(8, hgx_node(kH800NvLink), ib_fabric()),
                                   build_multi_plane_fat_tree(4, hgx_node(kH800NvLink), ib_fabric())}) {
    CAPTURE(t.description());
    const auto devices = t.devices();
    for (int src = 0; src < t.gpu_count(); ++src) {
      for (int dst = 0; dst < t.gpu_count(); ++dst) {
        if (src == dst) continue;
        std::set<std::size_t> lengths;
        for (const std::uint64_t key : {0ULL, 7ULL, 0x9e3779b97f4a7c15ULL}) {
          const Route r = t.route(src, dst, key);
          REQUIRE(!r.links.empty());
          lengths.insert(r.links.size());
          DeviceId at = src;
          double latency = 0;
          for (std::size_t i = 0; i < r.links.size(); ++i) {
            const Link& l = t.link(r.links[i]);
            REQUIRE(l.from == at);
            latency += l.latency.value();
            at = l.to;
            // The one GPU a route may cross: on a multi-plane fabric, the GPU of src's node on dst's plane.
            if (i + 1 < r.links.size() && devices[static_cast<std::size_t>(at)].kind == DeviceKind::gpu) {
              CHECK(t.forwards_across_planes());
              CHECK(at == t.gpu_at(t.node_of(src), t.local_index(dst)));
            }
          }
          CHECK(at == dst);
          CHECK(r.latency.value() == doctest::Approx(latency));
        }
        CHECK(lengths.size() == 1);
      }
    }
  }
}

TEST_CASE("rail-optimized puts NIC k of every node on rail k's leaf") {
  const ClusterTopology t = build_rail_optimized(4, hgx_node(kH800NvLink), ib_fabric());
  // 8 rails, 4 nodes fit on one leaf each: 8 leaves.
  CHECK(t.counts().leaf_switches == 8);
  // Same rail (local index 3 of nodes 0 and 2): GPU -> NIC -> rail leaf -> NIC -> GPU.
  CHECK(t.route(3, 19, 0).links.size() == 4);
  CHECK(t.route(3, 19, 0).latency.value() == doctest::Approx(kIbSameLeaf.value()));
  // Different rails between nodes go up to a spine: 6 links, cross-leaf latency.
  CHECK(t.route(3, 20, 0).links.size() == 6);
}

TEST_CASE("multi-plane fat-tree: cross-plane traffic crosses NVLink to the same-index GPU first") {
  const ClusterTopology t = build_multi_plane_fat_tree(4, hgx_node(kH800NvLink), ib_fabric());
  CHECK(t.forwards_across_planes());
  // GPU 1 (node 0, plane 1) to GPU 13 (node 1, plane 5): NVLink to GPU 5 of node 0, then plane 5.
  const Route r = t.route(1, 13, 7);
  REQUIRE(r.links.size() == 6);
  CHECK(t.link(r.links[0]).kind == LinkKind::nvlink);
  CHECK(t.link(r.links[1]).kind == LinkKind::nvlink);
  CHECK(t.link(r.links[1]).to == 5);
  for (std::size_t i = 2; i < r.links.size(); ++i) {
    const Device& d = t.devices()[static_cast<std::size_t>(t.link(r.links[i]).to)];
    if (d.kind != DeviceKind::gpu) CHECK(d.plane == 5);
  }
  // Latency: NVLink 3.33 us, then IB through one leaf 2.8 us.
  CHECK(r.latency.value() == doctest::Approx((kNvLinkLatency + kIbSameLeaf).value()));
}

TEST_CASE("multi-plane fat-tree: same-plane traffic between nodes never touches NVLink") {
  const ClusterTopology t = build_multi_plane_fat_tree(4, hgx_node(kH800NvLink), ib_fabric());
  const Route r = t.route(2, 26, 3);  // local index 2 of nodes 0 and 3
  for (const LinkId l : r.links) CHECK(t.link(l).kind != LinkKind::nvlink);
  // Planes share nothing: 8 planes, each 1 leaf for 4 endpoints.
  CHECK(t.counts().leaf_switches == 8);
}

TEST_CASE("build_topology names the scenario key of a missing figure") {
  ClusterSpec spec = deepseek_like_spec();
  spec.network.nic_bandwidth = BytesPerSecond(0);
  CHECK(contains(config_error_of([&] { build_topology(spec); }),
                 "hardware.network.nic_bandwidth: needed by the fat-tree topology"));
  spec = deepseek_like_spec();
  spec.network.topology = Topology::multi_plane_fat_tree;
  spec.network.switch_radix = 0;
  CHECK(contains(config_error_of([&] { build_topology(spec); }),
                 "hardware.network.switch_radix: needed by the multi-plane-fat-tree topology"));
  spec = deepseek_like_spec();
  spec.network.latency_nvlink = Seconds(0);
  CHECK(contains(config_error_of([&] { build_topology(spec); }), "hardware.network.latency_nvlink"));
  spec = deepseek_like_spec();
  spec.network.topology = Topology::single_node;
  CHECK(contains(config_error_of([&] { build_topology(spec); }), "hardware.nodes"));
  spec = deepseek_like_spec();
  spec.network.topology = Topology::rail_optimized;
  spec.network.nics_per_node = 4;
  CHECK(contains(config_error_of([&] { build_topology(spec); }), "hardware.network.nics_per_node"));
}

TEST_CASE("build_topology follows spec.network.topology") {
  ClusterSpec spec = deepseek_like_spec();
  spec.network.topology = Topology::multi_plane_fat_tree;
  CHECK(build_topology(spec).forwards_across_planes());
  spec.network.topology = Topology::fat_tree;
  CHECK_FALSE(build_topology(spec).forwards_across_planes());
  spec.nodes = 1;
  spec.network.topology = Topology::single_node;
  CHECK(build_topology(spec).counts().nics == 0);
}

TEST_CASE("network_breaks names every figure a topology lacks, and the builder throws the first of them") {
  ClusterSpec spec;
  spec.gpu.nvlink_bandwidth = gigabytes_per_second(400);
  spec.gpus_per_node = 8;
  spec.nodes = 4;
  spec.network.topology = Topology::multi_plane_fat_tree;
  spec.network.nics_per_node = 4;  // one NIC per GPU is what a multi-plane fabric pairs
  const std::vector<NetworkBreak> breaks = network_breaks(spec);
  std::set<std::string> keys;
  for (const NetworkBreak& b : breaks) keys.insert(b.key);
  // NVLink latency, NIC bandwidth, switch radix, both fabric latencies missing; NICs not one per GPU.
  CHECK(keys == std::set<std::string>{"hardware.network.latency_nvlink", "hardware.network.nic_bandwidth",
                                      "hardware.network.switch_radix", "hardware.network.latency_intra_leaf",
                                      "hardware.network.latency_cross_leaf", "hardware.network.nics_per_node"});
  try {
    (void)build_topology(spec);
    CHECK(false);
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == breaks.front().key + ": " + breaks.front().message);
  }
  // Complete, the same spec breaks nothing and builds.
  spec.network.nics_per_node = 8;
  spec.network.nic_bandwidth = gigabytes_per_second(50);
  spec.network.switch_radix = 64;
  spec.network.latency_nvlink = Seconds(3.33e-6);
  spec.network.latency_intra_leaf = Seconds(2.8e-6);
  spec.network.latency_cross_leaf = Seconds(3.7e-6);
  CHECK(network_breaks(spec).empty());
  CHECK(build_topology(spec).gpu_count() == 32);
}

TEST_CASE("topologies that share a distance cache route as they would alone") {
  // Two fat-trees of one shape with different link speeds share hop distances: routes depend only on
  // the shape, so each routes exactly as an uncached copy of itself.
  ClusterSpec spec;
  spec.gpu.nvlink_bandwidth = gigabytes_per_second(400);
  spec.gpus_per_node = 8;
  spec.nodes = 8;
  spec.network.topology = Topology::fat_tree;
  spec.network.nics_per_node = 8;
  spec.network.nic_bandwidth = gigabytes_per_second(50);
  spec.network.switch_radix = 16;
  spec.network.latency_nvlink = Seconds(3.33e-6);
  spec.network.latency_intra_leaf = Seconds(2.8e-6);
  spec.network.latency_cross_leaf = Seconds(3.7e-6);
  ClusterSpec faster = spec;
  faster.network.nic_bandwidth = gigabytes_per_second(100);
  TopologyCache cache;
  const ClusterTopology a = build_topology(spec, &cache);
  const ClusterTopology b = build_topology(faster, &cache);
  const ClusterTopology alone = build_topology(faster);
  for (int src = 0; src < a.gpu_count(); src += 7) {
    for (int dst = 0; dst < a.gpu_count(); dst += 5) {
      for (std::uint64_t key : {1ULL, 99ULL}) {
        CHECK(b.route(src, dst, key).links == alone.route(src, dst, key).links);
        CHECK(a.route(src, dst, key).links == alone.route(src, dst, key).links);
      }
    }
  }
  // An equal spec gets the topology already built (the same graph, not a copy of it); the faster
  // one keeps its own links and speeds.
  const ClusterTopology again = build_topology(spec, &cache);
  CHECK(again.links().data() == a.links().data());
  CHECK(build_topology(faster, &cache).links().data() == b.links().data());
  CHECK(b.links().data() != a.links().data());
  CHECK(b.link(b.route(0, 63, 1).links[1]).bandwidth == gigabytes_per_second(100));
  CHECK(again.link(again.route(0, 63, 1).links[1]).bandwidth == gigabytes_per_second(50));
}
