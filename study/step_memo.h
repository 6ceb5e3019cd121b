// Steps already simulated, by everything a step reads (sim::StepShape) and
// how it was simulated (sim::StepOptions, but its thread count): variants
// that differ only in what a step never reads (prices, reliability, other
// phases) simulate each shape once. A simulation is deterministic, so a
// remembered step is the step. The key is the typed shape itself, compared
// field by field (defaulted operator==), so a field added to a spec is part
// of the key without anyone listing it.
//
// Owned by the study that uses it (a sweep, a plan search) and handed to
// evaluate_variant; shared by that study's threads (thread-safe); bounded:
// beyond `capacity` shapes the least recently used is forgotten. The
// clusters of its steps share hop distances (hw::TopologyCache) and the
// collectives their steps timed alone (sim::CollectiveStore) too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>

#include "hardware/topology.h"
#include "sim/collective_store.h"
#include "sim/run_level.h"
#include "sim/step_graph.h"
#include "sim/step_shape.h"

namespace tcsim::study {

// What a study keeps of a simulated step.
struct StepFigures {
  sim::StepTime time{Seconds(0)};
  double tokens_per_s_per_gpu = 0;
  double mfu = 0;  // model FLOPs (causal attention) / dense BF16 peak
};

class StepMemo {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  explicit StepMemo(std::size_t capacity = kDefaultCapacity);

  // The step of `shape` under `options`, simulated on a miss. Throws what
  // the simulation throws (ConfigError for a shape it cannot run).
  StepFigures get(const sim::StepShape& shape, const sim::StepOptions& options);

  // A lower bound on the symmetric step of `shape` (sim::step_bound), its
  // collectives timed alone into the store the steps share, where the step
  // simulated after it finds them. Throws what the step graph throws.
  SimTime bound(const sim::StepShape& shape);

  std::size_t size() const;
  std::int64_t hits() const;
  std::int64_t misses() const;

 private:
  struct Entry {
    sim::StepShape shape;
    sim::StepOptions options;
    StepFigures figures;
  };
  using Order = std::list<Entry>;  // most recently used first

  std::size_t capacity_;
  hw::TopologyCache distances_;       // hop distances of the clusters the steps ran on
  sim::CollectiveStore collectives_;  // collectives the steps timed, by cluster
  mutable std::mutex mutex_;
  Order order_;
  std::unordered_multimap<std::size_t, Order::iterator> index_;
  std::int64_t hits_ = 0;
  std::int64_t misses_ = 0;

  const StepFigures* find(std::size_t hash, const sim::StepShape& shape, const sim::StepOptions& options);
};

}  // namespace tcsim::study
