// One scenario evaluated end to end for a sweep row or a plan candidate: the
// memory budget, the simulated steady-state step, the run-level simulation
// and the ledger, reduced to the figures a table of thousands of scenarios
// compares. A scenario that cannot run (bad plan, no calibration profile)
// gives a result with its reason instead of an exception, so one bad
// variant never aborts a sweep.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cost/monte_carlo.h"
#include "scenarios/scenario.h"
#include "sim/run_level.h"
#include "sim/step_graph.h"
#include "study/step_memo.h"

namespace tcsim::study {

enum class RunDepth {
  step,  // memory and the steady-state step only (plan search)
  run,   // + run-level simulation, ledger and R&D Monte Carlo
};

struct VariantOptions {
  sim::StepOptions step;  // symmetric fidelity by default
  RunDepth depth = RunDepth::run;
  // Run level: the step simulation at the ramp's ends, interpolated between
  // them (sim::interpolated_oracle); "peak-flops" uses the labelled stand-in.
  std::string oracle = "step-simulation";
  sim::RunOptions run{1, 200};
  cost::RndOptions rnd{1, 2000, /*sensitivity=*/false};  // a row keeps the total's median only
};

// Why a variant has no figures, or has figures with a caveat.
enum class VariantStatus {
  ok,
  does_not_fit,  // simulated, but the memory budget exceeds the GPU's capacity
  invalid,       // the scenario or plan cannot be simulated; `reason` says why
};
std::string_view status_name(VariantStatus s);

struct VariantResult {
  VariantStatus status = VariantStatus::ok;
  std::string reason;  // empty when ok
  // Memory per GPU (first phase's plan and sequence length); capacity 0:
  // not evaluated.
  Bytes memory;
  Bytes capacity;
  // Steady-state step of the first phase at its final batch.
  std::optional<Seconds> step;
  std::optional<double> tokens_per_s_per_gpu;
  std::optional<double> mfu;  // model FLOPs (causal attention) / dense BF16 peak
  std::optional<Seconds> exposed_comm;
  std::optional<Seconds> bubble;
  // Run and cost (RunDepth::run).
  std::optional<GpuHours> gpu_hours;
  std::optional<Seconds> wall;
  std::optional<Dollars> final_run;
  std::optional<Dollars> owned;
  std::optional<Dollars> rnd_p50;
  std::string oracle;  // the run-level step oracle's name
};

// Never throws for a bad scenario or plan (ConfigError becomes `invalid`).
// Steps come from `memo` when it has them (study/step_memo.h).
VariantResult evaluate_variant(const scenario::Scenario& s, const VariantOptions& options, StepMemo& memo);
// With a memo of its own, for one scenario alone.
VariantResult evaluate_variant(const scenario::Scenario& s, const VariantOptions& options = {});

}  // namespace tcsim::study
