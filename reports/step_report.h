// The simulated training step as the CLI reports it: the `step` object of
// `tcsim run --json` (step.time_s, step.breakdown_s.*, per-GPU and per-link
// utilisation, ...) and the step table of the text output, with the published
// figure it is validated against when the scenario has one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hardware/topology.h"
#include "reports/json.h"
#include "scenarios/scenario.h"
#include "sim/step.h"

namespace tcsim::reports {

// A published throughput a scenario's steady-state step can be checked
// against: GPU-hours per trillion tokens, as the source states it.
struct PublishedStep {
  std::string scenario;      // the scenario's `name`
  std::string scenario_ref;  // where `tcsim validate` loads it from
  std::string case_name;
  double gpu_hours_per_trillion_tokens = 0;
  std::string source;
};

// Every published step figure tcsim validates against.
const std::vector<PublishedStep>& published_steps();
std::optional<PublishedStep> published_step_for(const scenario::Scenario& s);

// Relative error of a prediction against a published value: (p - v) / v.
double relative_error(double predicted, double published);

// Links listed one by one in the JSON (the busiest first); the rest are
// summarised per link kind.
inline constexpr int kListedLinks = 64;

Json step_json(const scenario::Scenario& s, const sim::StepResult& r, const hw::ClusterTopology& topology);
std::string step_table(const scenario::Scenario& s, const sim::StepResult& r);

}  // namespace tcsim::reports
