// The compute time of one piece of a chunk (model/workload.h) on a GPU, op by
// op from the calibration profile (hw::op_time): the step graph's compute
// tasks and the plan search's compute bound (sim/step_bound.h) time pieces
// the same way.
#pragma once

#include "core/sim_time.h"
#include "core/units.h"
#include "hardware/profile.h"
#include "model/workload.h"

namespace tcsim::sim {

struct PieceWork {
  Seconds full, shared;                // on every SM / on the SMs communication leaves
  Seconds expert_full, expert_shared;  // the routed experts' part, the same two ways
};

// Each op use with its recomputed forward where it has one; the routed
// experts' ops apart (their work follows the tokens a GPU receives).
PieceWork piece_work(const model::StepWorkload& workload, const model::WorkPiece& piece,
                     const hw::CalibrationProfile& profile, int sms, int shared_sms);

// The least a piece can take, as the step graph rounds it: the faster of its
// two rates, every expert at load 1 and the GPU at speed 1 (the bounds on a
// step, sim/step_bound.h).
SimTime least_time(const PieceWork& w);

}  // namespace tcsim::sim
