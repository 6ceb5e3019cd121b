// A lower bound on the symmetric step's time from compute alone, without
// building the step: each GPU has one compute stream that runs its compute
// tasks one at a time (sim/engine.h), and a task never takes less than its
// work on the faster of its two rates (every SM, or the SMs communication
// leaves). So no step can end before the busiest pipeline rank has run the
// compute pieces of every slot of its program (model/schedule.h) back to back,
// and none of them can start before the first micro-batch's forward has
// crossed the stages before the rank's first stage (each stage's longest
// chain of compute pieces to its output). Communication, the rest of the
// bubble, the optimizer and the data-parallel tail only add to it. The plan search (study/plan_search.h) skips plans
// whose bound is already slower than everything it reports.
//
// Contract: for a shape that passes scenarios/rules.h, compute_bound(shape)
// <= the symmetric step simulate_step(shape, {}) (tests/sim: every plan of a
// grid, every schedule). Throws what the step graph's inputs throw
// (ConfigError without a calibration profile).
#pragma once

#include "core/sim_time.h"
#include "sim/step_shape.h"

namespace tcsim::sim {

SimTime compute_bound(const StepShape& shape);

}  // namespace tcsim::sim
