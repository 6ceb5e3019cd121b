// Plain resolved specs of the machine: one GPU model and the cluster built from
// it. Spec-sheet figures are ceilings; achieved rates come from a calibration
// profile (hardware/ reads it; see docs/calibration.md).
#pragma once

#include <optional>
#include <string>

#include "core/units.h"
#include "hardware/profile.h"

namespace tcsim::hw {

struct GpuSpec {
  std::string name;  // catalog key or user label ("h800")
  std::string source;
  int sms = 0;
  FlopsPerSecond bf16_dense;  // dense BF16/FP16 tensor-core peak
  FlopsPerSecond fp8_dense;   // dense FP8 tensor-core peak (0: not supported)
  Bytes hbm_capacity;
  BytesPerSecond hbm_bandwidth;
  BytesPerSecond nvlink_bandwidth;  // per direction, per GPU
  Watts tdp;
  std::string profile;  // default calibration profile ("public-h800"); empty: none yet

  bool operator==(const GpuSpec&) const = default;
};

enum class Topology { single_node, fat_tree, rail_optimized, multi_plane_fat_tree };

struct NetworkSpec {
  Topology topology = Topology::fat_tree;
  BytesPerSecond nic_bandwidth;  // per NIC, per direction
  int nics_per_node = 0;
  double oversubscription = 1.0;      // leaf uplink:downlink ratio denominator (1 = non-blocking)
  double pod_oversubscription = 1.0;  // three layers: aggregation downlinks per uplink to the core (1 = non-blocking)
  int pod_gpus = 0;                   // three layers: GPUs under one pod; 0: as many as the radix gives
  int switch_radix = 0;               // ports per switch
  Seconds latency_intra_leaf;         // small-message latency, same leaf
  Seconds latency_cross_leaf;         // small-message latency, across leaves
  Seconds latency_nvlink;             // small-message latency inside a node

  bool operator==(const NetworkSpec&) const = default;
};

struct ClusterSpec {
  GpuSpec gpu;
  int gpus_per_node = 0;
  int nodes = 0;
  NetworkSpec network;
  // A network section was given: the cluster can be built, and its figures
  // must be complete (scenarios/rules.h). Without one only the accounting runs.
  bool has_network = false;
  std::string calibration;                    // calibration profile: a path or builtin:NAME; empty: the GPU's default
  std::optional<CalibrationProfile> profile;  // resolved; empty when the GPU has none

  bool operator==(const ClusterSpec&) const = default;
};

constexpr int gpu_count(const ClusterSpec& c) { return c.gpus_per_node * c.nodes; }

}  // namespace tcsim::hw
