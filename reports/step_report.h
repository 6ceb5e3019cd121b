// The simulated training step as the CLI reports it: the `step` object of
// `tcsim run --json` (step.time_s, step.breakdown_s.*, per-GPU and per-link
// utilisation, ...) and the step table of the text output, with the published
// figures of the validation suite's cases for the same scenario
// (validation/*.yaml, study/validation.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hardware/topology.h"
#include "reports/json.h"
#include "scenarios/scenario.h"
#include "sim/step.h"

namespace tcsim::reports {

// Links listed one by one in the JSON (the busiest first); the rest are
// summarised per link kind.
inline constexpr int kListedLinks = 64;

Json step_json(const scenario::Scenario& s, const sim::StepResult& r, const hw::ClusterTopology& topology);
std::string step_table(const scenario::Scenario& s, const sim::StepResult& r);

}  // namespace tcsim::reports
