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

using namespace tcsim;
using namespace tcsim::sim;

namespace {

// 64 H800 in 8 nodes on DeepSeek's multi-plane fat-tree, four DeepSeek-V3 layers.
constexpr std::string_view kCluster = R"(
name: store
model: {preset: deepseek-v3, layers: 4}
parallelism: {tp: 1, pp: 2, ep: 32, dp: 32, micro_batch: 1, zero: 1, schedule: dualpipe, recompute: selective,
              comm_sms: 20}
precision: {gemm: fp8, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: bf16, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 8
  nodes: 8
  network: {topology: multi-plane-fat-tree, nic_bandwidth: "400 Gb/s", nics_per_node: 8, switch_radix: 64,
            latency_intra_leaf: "2.8 us", latency_cross_leaf: "3.7 us", latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 128}]
)";

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
  return step_shape(scenario::load_scenario_text(std::string(kCluster), "store.yaml", sets));
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
