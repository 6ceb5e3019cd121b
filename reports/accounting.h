// What `tcsim run` reports before any simulation: the resolved scenario, the
// model's accounting and the memory budget per GPU, as JSON keys of the
// user-facing contract (scenario.*, model.*, memory.*) or a readable table.
#pragma once

#include <string>

#include "core/units.h"
#include "model/memory.h"
#include "model/params.h"
#include "reports/json.h"
#include "scenarios/scenario.h"

namespace tcsim::reports {

struct Accounting {
  model::ParamCounts params;
  Flops train_flops_per_token_causal;  // attention counted as a causal kernel computes it
  Flops train_flops_per_token_full;    // attention over the full s x s matrix (PaLM's MFU convention)
  model::MemoryBudget memory;          // first phase's plan and sequence length
};

Accounting account(const scenario::Scenario& s);

// A parallel plan, every field (as the resolved scenario echoes it).
Json plan_json(const model::ParallelPlan& p);

// The resolved scenario, every field, so a run can be reproduced from it.
Json echo_scenario(const scenario::Scenario& s);

// {scenario: {...}, model: {...}, memory: {...}, resolved: {...}}
Json accounting_json(const scenario::Scenario& s, const Accounting& a);

std::string accounting_table(const scenario::Scenario& s, const Accounting& a);

}  // namespace tcsim::reports
