#include "reports/cluster_report.h"

#include <fmt/format.h>

namespace tcsim::reports {

Json cluster_json(const hw::ClusterTopology& t) {
  const hw::TopologyCounts c = t.counts();
  Json j = Json::object();
  j.set("description", t.description());
  j.set("nodes", c.nodes);
  j.set("gpus", c.gpus);
  j.set("nvswitches", c.nvswitches);
  j.set("nics", c.nics);
  j.set("leaf_switches", c.leaf_switches);
  j.set("spine_switches", c.spine_switches);
  j.set("core_switches", c.core_switches);
  Json& cables = j.set("cables", Json::object());
  cables.set("nvlink", c.nvlink_cables);
  cables.set("host", c.host_cables);
  cables.set("access", c.access_cables);
  cables.set("fabric", c.fabric_cables);
  j.set("links", static_cast<std::int64_t>(t.links().size()));
  j.set("bisection_bytes_per_s", t.bisection_bandwidth().value());
  return j;
}

std::string cluster_table(const hw::ClusterTopology& t) {
  const hw::TopologyCounts c = t.counts();
  std::string out = fmt::format("\nCluster  {}\n", t.description());
  out += fmt::format("  {:<26}{:>14}\n", "GPUs", c.gpus);
  out += fmt::format("  {:<26}{:>14}\n", "NVSwitch domains", c.nvswitches);
  out += fmt::format("  {:<26}{:>14}\n", "NICs", c.nics);
  out += fmt::format("  {:<26}{:>14}  leaf {}, spine {}, core {}\n", "switches",
                     c.leaf_switches + c.spine_switches + c.core_switches, c.leaf_switches, c.spine_switches,
                     c.core_switches);
  out += fmt::format("  {:<26}{:>14}  NVLink {}, GPU-NIC {}, NIC-leaf {}, switch-switch {}\n", "cables",
                     c.nvlink_cables + c.host_cables + c.access_cables + c.fabric_cables, c.nvlink_cables,
                     c.host_cables, c.access_cables, c.fabric_cables);
  out += fmt::format("  {:<26}{:>14}  one direction, closed form (docs/network.md)\n", "bisection bandwidth",
                     to_string(t.bisection_bandwidth()));
  return out;
}

}  // namespace tcsim::reports
