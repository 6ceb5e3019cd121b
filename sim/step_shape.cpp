#include "sim/step_shape.h"

namespace tcsim::sim {

StepShape step_shape(const scenario::Scenario& s, const scenario::Phase& phase, std::int64_t batch) {
  return {.model = s.model,
          .plan = phase.parallelism,
          .precision = s.precision,
          .cluster = s.hardware,
          .seq_len = phase.seq_len,
          .batch = batch};
}

StepShape step_shape(const scenario::Scenario& s) {
  const scenario::Phase& first = s.training.phases.front();
  return step_shape(s, first, first.batch);
}

}  // namespace tcsim::sim
