// A scenario evaluated on the cost side, end to end: the run-level simulation
// over a step-time oracle, then the ledger over the GPU-hours it produced.
// Two evaluations compare side by side, their difference attributed to what
// the run-level simulation and the ledger know; what only the step
// simulation can tell (compute, exposed communication, pipeline bubble inside
// a step) comes from the step oracle's parts, never estimated here.
#pragma once

#include <optional>

#include "core/units.h"
#include "cost/ledger.h"
#include "scenarios/scenario.h"
#include "sim/run_level.h"

namespace tcsim::cost {

struct EvalOptions {
  sim::RunOptions run;
  RndOptions rnd;
};

struct Evaluation {
  scenario::Scenario scenario;
  sim::RunResult run;
  Ledger ledger;
};

Evaluation evaluate(const scenario::Scenario& s, const sim::StepOracle& oracle, const EvalOptions& options = {});

// A run's GPU-hours by where the run-level simulation put them.
struct RunSplit {
  GpuHours compute;      // fault-free step time x GPUs, simulated phases
  GpuHours checkpoints;  // checkpoint stalls
  GpuHours failures;     // restarts and lost work
  GpuHours measured;     // phases given as measured GPU-hours
};
RunSplit run_split(const sim::RunResult& run);

// GPU-hours of the simulated phases' steps by part, when every simulated
// phase's oracle reported parts.
struct StepSplit {
  GpuHours compute, exposed_comm, bubble;
};
std::optional<StepSplit> step_split(const sim::RunResult& run);

// B - A. GPU-hours split by where the run-level simulation put them; dollars
// split exactly as (hB - hA) x rateA + hB x (rateB - rateA): the change in
// GPU-hours at A's rate plus the change in rate at B's GPU-hours.
struct Difference {
  Seconds wall;
  GpuHours gpu_hours;
  GpuHours compute;      // fault-free step time x GPUs, simulated phases
  GpuHours checkpoints;  // checkpoint stalls
  GpuHours failures;     // restarts and lost work
  GpuHours measured;     // phases given as measured GPU-hours
  // Inside the steps (simulated phases), when both oracles report where step time went.
  std::optional<GpuHours> step_compute;
  std::optional<GpuHours> exposed_comm;
  std::optional<GpuHours> bubble;
  Dollars final_run;
  Dollars final_run_from_gpu_hours;
  Dollars final_run_from_rate;
  std::optional<Dollars> owned;
  std::optional<Dollars> owned_from_gpu_hours;
  std::optional<Dollars> owned_from_rate;
  std::optional<Dollars> rnd_p50;
};

Difference difference(const Evaluation& a, const Evaluation& b);

}  // namespace tcsim::cost
