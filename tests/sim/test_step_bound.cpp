// The compute bound (sim/step_bound.h) against the symmetric step simulation:
// never above it, for every schedule, and close enough below it to prune with.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "scenarios/loader.h"
#include "sim/step.h"
#include "sim/step_bound.h"
#include "tests/sim/fixtures.h"

using namespace tcsim;
using namespace tcsim::sim;

TEST_CASE("the compute bound is never above the simulated step, whatever the schedule") {
  const std::vector<std::vector<std::string>> plans = {
      {},
      {"parallelism.schedule=1f1b"},
      {"parallelism.schedule=zero-bubble"},
      {"parallelism.schedule=interleaved-1f1b", "parallelism.virtual_stages=2"},
      {"parallelism.schedule=interleaved-1f1b", "parallelism.virtual_stages=2", "parallelism.overlap_ep_comm=true"},
      {"parallelism.recompute=full"},
      {"parallelism.recompute=none", "parallelism.zero=3"},
      {"parallelism.micro_batch=2"},
      {"parallelism.pp=1", "parallelism.dp=64", "parallelism.schedule=1f1b"},
      {"parallelism.tp=2", "parallelism.dp=16", "parallelism.ep=16", "parallelism.sequence_parallel=true"},
      // Four stages: the wait for the first micro-batch's forward is a real part of the bound.
      {"parallelism.pp=4", "parallelism.dp=16", "parallelism.ep=16"},
      {"parallelism.pp=4", "parallelism.dp=16", "parallelism.ep=16", "parallelism.schedule=1f1b"},
      {"parallelism.pp=4", "parallelism.dp=16", "parallelism.ep=16", "parallelism.schedule=zero-bubble"},
  };
  for (auto sets : plans) {
    CAPTURE(sets);
    sets.insert(sets.begin(), "training.phases[0].batch=256");  // enough micro-batches for four DualPipe stages
    const StepShape shape =
        step_shape(scenario::load_scenario_text(std::string(tcsim_test::kSmallMoe), "bound.yaml", sets));
    const double bound = to_seconds(compute_bound(shape)).value();
    const StepResult step = simulate_step(shape, {});
    CHECK(bound <= step.time.value());
    // Compute is most of these steps: the bound is not vacuous.
    CHECK(bound >= 0.5 * step.time.value());
  }
}
