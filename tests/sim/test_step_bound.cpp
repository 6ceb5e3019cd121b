// The compute bound and the bound with collectives (sim/step_bound.h) against
// the symmetric step simulation: never above it, for every schedule, overlap
// and ZeRO stage, and close enough below it to prune with.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "hardware/builders.h"
#include "scenarios/loader.h"
#include "sim/collective_store.h"
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

namespace {

StepShape small_shape(std::vector<std::string> sets) {
  sets.insert(sets.begin(), "training.phases[0].batch=256");
  return step_shape(scenario::load_scenario_text(std::string(tcsim_test::kSmallMoe), "bound.yaml", sets));
}

}  // namespace

TEST_CASE("the bound with collectives lies between the compute bound and the simulated step") {
  // Every schedule, with and without the overlaps the plan search turns on,
  // every ZeRO stage (ZeRO-3's gathers and ZeRO-1/2's updated-weight gathers
  // sit on the data-parallel lane), tensor parallelism (collectives on the
  // chunks' main line) and four stages (the first forward's wait).
  const std::vector<std::vector<std::string>> plans = {
      {},
      {"parallelism.zero=0"},
      {"parallelism.zero=2"},
      {"parallelism.zero=3"},
      {"parallelism.overlap_param_gather=true"},
      {"parallelism.overlap_grad_reduce=false"},
      {"parallelism.schedule=1f1b"},
      {"parallelism.schedule=1f1b", "parallelism.zero=3"},
      {"parallelism.schedule=zero-bubble"},
      {"parallelism.schedule=interleaved-1f1b", "parallelism.virtual_stages=2"},
      {"parallelism.schedule=interleaved-1f1b", "parallelism.virtual_stages=2", "parallelism.overlap_ep_comm=true"},
      {"parallelism.schedule=interleaved-1f1b", "parallelism.virtual_stages=2", "parallelism.overlap_ep_comm=true",
       "parallelism.delay_wgrad_compute=true"},
      {"parallelism.recompute=full"},
      {"parallelism.micro_batch=2"},
      {"parallelism.pp=1", "parallelism.dp=64", "parallelism.schedule=1f1b"},
      {"parallelism.pp=1", "parallelism.dp=64", "parallelism.schedule=1f1b", "parallelism.zero=3"},
      {"parallelism.tp=2", "parallelism.dp=16", "parallelism.ep=16", "parallelism.sequence_parallel=true"},
      {"parallelism.tp=2", "parallelism.dp=16", "parallelism.ep=16", "parallelism.sequence_parallel=true",
       "parallelism.overlap_tp_comm=true", "parallelism.schedule=1f1b"},
      {"parallelism.tp=2", "parallelism.dp=16", "parallelism.ep=16", "parallelism.expert_tp=2",
       "parallelism.schedule=1f1b"},
      {"parallelism.pp=4", "parallelism.dp=16", "parallelism.ep=16"},
      {"parallelism.pp=4", "parallelism.dp=16", "parallelism.ep=16", "parallelism.schedule=1f1b", "parallelism.zero=3"},
      {"parallelism.pp=4", "parallelism.dp=16", "parallelism.ep=16", "parallelism.schedule=zero-bubble"},
  };
  int tighter = 0;
  for (const auto& sets : plans) {
    CAPTURE(sets);
    const StepShape shape = small_shape(sets);
    const hw::ClusterTopology topology = hw::build_topology(shape.cluster);
    const SimTime compute = compute_bound(shape);
    const SimTime chained = step_bound(shape, topology);
    const SimTime step = to_sim_time(simulate_step(shape, {}).time);
    CHECK(compute <= chained);
    CHECK(chained <= step);
    CHECK(to_seconds(chained).value() >= 0.5 * to_seconds(step).value());
    if (chained.count() > compute.count() + compute.count() / 50) ++tighter;
  }
  // The collectives count: most of these plans wait for some beyond 2% of their compute.
  CHECK(tighter >= static_cast<int>(plans.size()) / 2);
}

TEST_CASE("ZeRO-3's weight gathers bound a step whose compute is a small part of it") {
  // The whole model gathered over 64 GPUs before every chunk: the step is
  // mostly the data-parallel lane, which the compute bound does not see.
  const StepShape shape = small_shape(
      {"parallelism.pp=1", "parallelism.dp=64", "parallelism.ep=1", "parallelism.schedule=1f1b", "parallelism.zero=3"});
  const hw::ClusterTopology topology = hw::build_topology(shape.cluster);
  const double compute = to_seconds(compute_bound(shape)).value();
  const double chained = to_seconds(step_bound(shape, topology)).value();
  const double step = simulate_step(shape, {}).time.value();
  CHECK(chained <= step);
  CHECK(compute < 0.5 * step);
  CHECK(chained > 0.8 * step);
}

TEST_CASE("the bound with collectives is the same through a store, and the step finds them there") {
  const StepShape shape = small_shape({"parallelism.schedule=1f1b", "parallelism.zero=3"});
  const hw::ClusterTopology topology = hw::build_topology(shape.cluster);
  CollectiveStore store;
  const SimTime alone = step_bound(shape, topology);
  CHECK(step_bound(shape, topology, &store) == alone);
  CHECK(step_bound(shape, topology, &store) == alone);
  const std::int64_t hits = store.hits();
  CHECK(hits > 0);
  const StepGraph stored = build_step_graph(shape, topology, {}, &store);
  CHECK(store.hits() > hits);
}
