// Builders of cluster topologies: one node around an NVSwitch, and three
// scale-out fabrics between such nodes (fat-tree, rail-optimised, DeepSeek's
// multi-plane fat-tree). build_topology() picks one from a ClusterSpec and
// names the scenario key of any figure it needs and does not have.
#pragma once

#include <string>
#include <vector>

#include "hardware/spec.h"
#include "hardware/topology.h"

namespace tcsim::hw {

// One node: GPUs on one NVSwitch domain (H100/H800/A100 HGX boards: every GPU
// reaches every other at its full NVLink bandwidth), and its NICs.
struct NodeParams {
  int gpus_per_node = 0;
  BytesPerSecond nvlink_bandwidth;  // per GPU, per direction (GpuSpec::nvlink_bandwidth)
  Seconds nvlink_latency;           // GPU to GPU, end to end, small message
  int nics_per_node = 0;            // GPUs share NICs evenly: GPU i uses NIC i * nics / gpus
  BytesPerSecond nic_bandwidth;     // per NIC, per direction
};

// The switched scale-out fabric.
struct FabricParams {
  int switch_radix = 0;           // ports per switch
  double oversubscription = 1.0;  // leaf downlinks per uplink (1: non-blocking)
  // Three layers only: each aggregation switch's downlinks (to the leaves of
  // its pod) per uplink (to the core); 1: non-blocking.
  double pod_oversubscription = 1.0;
  // Three layers only: the GPUs whose NICs hang under one pod, a whole number
  // of leaves; the aggregation switches then get the ports a pod needs. 0:
  // pods of as many leaves as an aggregation switch's radix takes.
  int pod_gpus = 0;
  Seconds latency_intra_leaf;  // GPU to GPU through one leaf, end to end
  Seconds latency_cross_leaf;  // GPU to GPU through leaf, spine, leaf
  int layers = 0;              // switch layers, 2 or 3; 0: the fewest that fit
};

ClusterTopology build_single_node(const NodeParams& node);
ClusterTopology build_fat_tree(int nodes, const NodeParams& node, const FabricParams& fabric);
// NIC k of every node on rail k's leaf switches; spines join all rails.
ClusterTopology build_rail_optimized(int nodes, const NodeParams& node, const FabricParams& fabric);
// One two-layer fat-tree per NIC index (a plane); planes meet only inside nodes.
ClusterTopology build_multi_plane_fat_tree(int nodes, const NodeParams& node, const FabricParams& fabric);

// What the cluster's topology needs of the scenario and does not have, or has
// inconsistently, with the scenario key each finding is about
// ("hardware.network.nic_bandwidth", "needed by the fat-tree topology").
// Pure and cheap: the loader's rule set refuses such a network at load
// (scenarios/rules.h); build_topology throws the first as a ConfigError.
struct NetworkBreak {
  std::string key;
  std::string message;
};
std::vector<NetworkBreak> network_breaks(const ClusterSpec& spec);

// Switches over spec.network.topology. Throws ConfigError naming the scenario
// key ("hardware.network.nic_bandwidth: needed by the fat-tree topology") when
// a figure the topology needs is unset; there are no invented defaults.
ClusterTopology build_topology(const ClusterSpec& spec, TopologyCache* distances = nullptr);

}  // namespace tcsim::hw
