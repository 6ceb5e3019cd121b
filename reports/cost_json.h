// The run and the ledger as the JSON of the contract (run.*, cost.*), and the
// resolved reliability and cost sections for the echo of a scenario.
#pragma once

#include "cost/ledger.h"
#include "reports/json.h"
#include "scenarios/scenario.h"
#include "sim/run_level.h"

namespace tcsim::reports {

// The contract's run.* and cost.* objects (DESIGN.md), with their sources and
// the step oracle's label.
Json run_json(const sim::RunResult& run);
Json cost_json(const cost::Ledger& ledger, const scenario::CostSpec& spec);

// The resolved reliability and cost sections, every field (for the echo of the
// resolved scenario).
Json reliability_spec_json(const scenario::ReliabilitySpec& r);
Json cost_spec_json(const scenario::CostSpec& c);

}  // namespace tcsim::reports
