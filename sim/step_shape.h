// What one step simulation reads, and nothing else: the model, the parallel
// plan, the precision, the cluster (with its calibration profile) and one
// phase's sequence length and global batch. Two equal shapes with equal
// StepOptions give the same step, bit for bit, which is what a memo of steps
// keys on (study/step_memo.h).
#pragma once

#include <cstdint>

#include "hardware/spec.h"
#include "model/spec.h"
#include "scenarios/scenario.h"

namespace tcsim::sim {

struct StepShape {
  model::ModelSpec model;
  model::ParallelPlan plan;
  model::PrecisionSpec precision;
  hw::ClusterSpec cluster;
  int seq_len = 0;
  std::int64_t batch = 0;  // sequences per step

  bool operator==(const StepShape&) const = default;
};

// The steady-state step of `phase` at `batch` sequences (the phase's own
// plan and sequence length).
StepShape step_shape(const scenario::Scenario& s, const scenario::Phase& phase, std::int64_t batch);

// The step `tcsim run` reports: the first phase at its final batch.
StepShape step_shape(const scenario::Scenario& s);

}  // namespace tcsim::sim
