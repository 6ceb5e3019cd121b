// The compute bound (sim/step_bound.h) against the symmetric step simulation:
// never above it, for every schedule, and close enough below it to prune with.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "scenarios/loader.h"
#include "sim/step.h"
#include "sim/step_bound.h"

using namespace tcsim;
using namespace tcsim::sim;

namespace {

// 64 H800 in 8 nodes on DeepSeek's multi-plane fat-tree, four DeepSeek-V3 layers (three dense, one MoE).
constexpr std::string_view kMoe = R"(
name: bound
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
  phases: [{name: pre-training, tokens: "1B", batch: 256}]
)";

}  // namespace

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
  for (const auto& sets : plans) {
    CAPTURE(sets);
    const StepShape shape = step_shape(scenario::load_scenario_text(std::string(kMoe), "bound.yaml", sets));
    const double bound = to_seconds(compute_bound(shape)).value();
    const StepResult step = simulate_step(shape, {});
    CHECK(bound <= step.time.value());
    // Compute is most of these steps: the bound is not vacuous.
    CHECK(bound >= 0.5 * step.time.value());
  }
}
