// A scenario fully resolved: presets applied, `extends` merged, --set
// overrides applied, units parsed and cross-field checks passed. Everything
// downstream of the loader sees only this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"
#include "hardware/spec.h"
#include "model/spec.h"

namespace tcsim::scenario {

// Global batch grows linearly in sequences from `from` to the phase batch over
// the first `over_tokens` tokens (DeepSeek-V3: 3072 -> 15360 over 469B).
struct BatchRamp {
  std::int64_t from = 0;
  std::int64_t over_tokens = 0;
};

struct Phase {
  std::string name;
  std::int64_t tokens = 0;  // 0 when the phase is given in steps
  std::int64_t steps = 0;   // 0 when the phase is given in tokens
  std::int64_t batch = 0;   // global batch in sequences (final value when ramped)
  std::optional<BatchRamp> ramp;
  int seq_len = 0;
  model::ParallelPlan parallelism;  // the top-level plan with this phase's overrides
  // A phase may carry a published measurement instead of being simulated.
  std::optional<GpuHours> measured_gpu_hours;
  std::string source;
};

struct TrainingPlan {
  int seq_len = 0;
  std::vector<Phase> phases;
};

struct ReliabilitySpec {
  Seconds mtbf_per_gpu;  // mean time between interruptions, per GPU
  Seconds restart_time;  // detection plus restart after an interruption
  Seconds checkpoint_interval;
  BytesPerSecond checkpoint_bandwidth;  // aggregate storage write bandwidth
};

struct CostSpec {
  DollarsPerGpuHour rental;  // the final-run rental assumption
  std::string rental_source;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;  // where it was loaded from ("<builtin>/deepseek-v3.yaml" for the default)
  model::ModelSpec model;
  model::ParallelPlan parallelism;
  model::PrecisionSpec precision;
  hw::ClusterSpec hardware;
  TrainingPlan training;
  ReliabilitySpec reliability;
  CostSpec cost;
};

constexpr int gpu_count(const Scenario& s) { return hw::gpu_count(s.hardware); }

}  // namespace tcsim::scenario
