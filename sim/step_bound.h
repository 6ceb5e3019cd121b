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
#include "hardware/topology.h"
#include "sim/step_shape.h"

namespace tcsim::sim {

class CollectiveStore;

SimTime compute_bound(const StepShape& shape);

// The same bound with the collectives the chunks wait for (sim::step_floors:
// each at its time alone, which the engine never beats). A slot's window
// (sim/step_graph.h) lasts at least its longest chain of pieces to a compute
// piece, collectives in the order of the GPU's one communication lane, which
// runs on from slot to slot; and after every earliest start t, at least t
// plus the work of the compute pieces that cannot start before t (t = 0: the
// compute back to back). The first forward's wait counts the collectives on
// its way; the data-parallel lane (ZeRO-3's gathers, the updated weights'
// gathers, the gradient buckets), the gradient norm and the optimizer come
// after. Builds no task and runs nothing, but times the collectives alone on
// `topology`, through `store` (sim/collective_store.h) when given, where the
// step simulated after it finds them. docs/plan-search.md, "Skipping outpaced
// plans".
//
// Contract: compute_bound(shape) <= step_bound(shape, ...) <= the symmetric
// step simulate_step(shape, {}) (tests/sim: every schedule, overlap and ZeRO
// stage).
SimTime step_bound(const StepShape& shape, const hw::ClusterTopology& topology, CollectiveStore* store = nullptr);

}  // namespace tcsim::sim
