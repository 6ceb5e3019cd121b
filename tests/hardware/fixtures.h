// Shared inputs for the hardware tests: published figures with their sources.
#pragma once

#include <string>

#include "core/error.h"
#include "core/units.h"
#include "hardware/builders.h"

namespace tcsim::hw::test {

// NVLink per direction: H100 450 GB/s, H800 200 GB/s (ISCA'25 arXiv:2505.09343 §4.1).
inline constexpr BytesPerSecond kH100NvLink = gigabytes_per_second(450);
inline constexpr BytesPerSecond kH800NvLink = gigabytes_per_second(200);
// InfiniBand NDR: 400 Gb/s per port = 50 GB/s per direction.
inline constexpr BytesPerSecond kNdr = gigabytes_per_second(50);
// 64-byte latencies (ISCA'25 §4): NVLink 3.33 us; IB 2.8 us same leaf, 3.7 us across leaves.
inline constexpr Seconds kNvLinkLatency = microseconds(3.33);
inline constexpr Seconds kIbSameLeaf = microseconds(2.8);
inline constexpr Seconds kIbCrossLeaf = microseconds(3.7);
inline constexpr int kGpusPerNode = 8;  // HGX H100/H800 boards
inline constexpr int kRadix = 64;       // 64-port 400G IB switches (ISCA'25 §5)

inline NodeParams hgx_node(BytesPerSecond nvlink) {
  return {.gpus_per_node = kGpusPerNode,
          .nvlink_bandwidth = nvlink,
          .nvlink_latency = kNvLinkLatency,
          .nics_per_node = kGpusPerNode,
          .nic_bandwidth = kNdr};
}

inline FabricParams ib_fabric(int radix = kRadix, double oversubscription = 1.0, int layers = 0) {
  return {.switch_radix = radix,
          .oversubscription = oversubscription,
          .latency_intra_leaf = kIbSameLeaf,
          .latency_cross_leaf = kIbCrossLeaf,
          .layers = layers};
}

// The message of the ConfigError `f` throws, or "" if it throws none.
template <class F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace tcsim::hw::test
