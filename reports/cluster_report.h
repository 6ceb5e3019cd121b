// The cluster as built from the scenario: what a user can check against a
// datasheet or a paper (devices and cables by kind, bisection bandwidth).
#pragma once

#include <string>

#include "hardware/topology.h"
#include "reports/json.h"

namespace tcsim::reports {

Json cluster_json(const hw::ClusterTopology& t);
std::string cluster_table(const hw::ClusterTopology& t);

}  // namespace tcsim::reports
