// Collectives shared by the steps of a study (sim/collective_store.h): a step
// run through a store that other steps filled gives the same result, to the
// bit, as the step run on its own; only clusters equal in every link share.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "scenarios/loader.h"
#include "sim/collective_store.h"
#include "sim/step.h"
#include "tests/sim/fixtures.h"

using namespace tcsim;
using namespace tcsim::sim;

namespace {

// Plans on that cluster that run some of the same rings and sends, and one
// plan on a cluster with slower NICs.
const std::vector<std::vector<std::string>> kPlans = {
    {},
    {"parallelism.schedule=1f1b"},
    {"parallelism.zero=0"},
    {"parallelism.pp=1", "parallelism.dp=64", "parallelism.schedule=1f1b"},
    {"hardware.network.nic_bandwidth=200 Gb/s"},
};

StepShape shape_of(const std::vector<std::string>& sets) {
  return step_shape(scenario::load_scenario_text(std::string(tcsim_test::kSmallMoe), "store.yaml", sets));
}

void check_same(const StepResult& a, const StepResult& b) {
  CHECK(a.time.value() == b.time.value());
  CHECK(a.breakdown.bubble.value() == b.breakdown.bubble.value());
  CHECK(a.breakdown.exposed_comm.value() == b.breakdown.exposed_comm.value());
  CHECK(a.events == b.events);
  CHECK(a.collective_runs == b.collective_runs);
  CHECK(a.collective_flows == b.collective_flows);
  REQUIRE(a.link_use.size() == b.link_use.size());
  for (std::size_t i = 0; i < a.link_use.size(); ++i) {
    CHECK(a.link_use[i].link == b.link_use[i].link);
    CHECK(a.link_use[i].bytes.value() == b.link_use[i].bytes.value());
  }
}

}  // namespace

TEST_CASE("steps through a shared store of collectives equal the same steps on their own, in any order") {
  for (const Fidelity fidelity : {Fidelity::symmetric, Fidelity::full}) {
    StepOptions o;
    o.fidelity = fidelity;
    std::vector<StepResult> alone;
    for (const auto& sets : kPlans) alone.push_back(simulate_step(shape_of(sets), o));

    CollectiveStore forward;
    for (std::size_t i = 0; i < kPlans.size(); ++i) {
      CAPTURE(i);
      check_same(simulate_step(shape_of(kPlans[i]), o, nullptr, &forward), alone[i]);
    }
    CHECK(forward.hits() > 0);  // the plans do share collectives

    CollectiveStore backward;
    for (std::size_t i = kPlans.size(); i-- > 0;) {
      CAPTURE(i);
      check_same(simulate_step(shape_of(kPlans[i]), o, nullptr, &backward), alone[i]);
    }
    // The same step twice: the second one times nothing itself.
    const std::int64_t before = backward.hits();
    check_same(simulate_step(shape_of(kPlans[0]), o, nullptr, &backward), alone[0]);
    CHECK(backward.hits() > before);
  }
}

TEST_CASE("a cluster that differs in one link's speed shares link patterns, never times") {
  // The plans' all-to-alls and rings cross the NICs, whose speed differs: a time taken from the
  // other cluster would change the step.
  const std::vector<std::string> slower{"hardware.network.nic_bandwidth=200 Gb/s"};
  const StepResult alone = simulate_step(shape_of(slower), {});
  CollectiveStore store;
  (void)simulate_step(shape_of(kPlans[0]), {}, nullptr, &store);
  const std::int64_t hits = store.hits();
  check_same(simulate_step(shape_of(slower), {}, nullptr, &store), alone);
  CHECK(store.hits() > hits);  // the patterns, which follow the routes alone
}
