// One layer, one micro-batch, op by op: each op's predicted time per pass with
// the calibrated rate it used and where that rate came from.
#pragma once

#include <string>

#include "reports/json.h"
#include "scenarios/scenario.h"

namespace tcsim::reports {

// The first MoE layer (or the first layer of a dense model) under the first
// phase's plan. Empty JSON / text when the GPU has no calibration profile.
Json layer_ops_json(const scenario::Scenario& s);
std::string layer_ops_table(const scenario::Scenario& s);

}  // namespace tcsim::reports
