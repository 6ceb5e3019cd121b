// One variant evaluated for a sweep row or a plan candidate: its figures are
// the step simulation's and the ledger's, whatever was remembered between
// variants; bad variants give a status and a reason, never an exception.
#include <doctest/doctest.h>

#include "model/memory.h"
#include "scenarios/loader.h"
#include "sim/step.h"
#include "sim/step_shape.h"
#include "study/step_memo.h"
#include "study/variant.h"

using namespace tcsim;

namespace {

scenario::Scenario deepseek(const std::string& set) {
  const std::vector<std::string> sets{set};
  return scenario::load_scenario("builtin:deepseek-v3", sets);
}

}  // namespace

TEST_CASE("a variant's step is the step simulation of its first phase at its final batch") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  study::VariantOptions o;
  o.depth = study::RunDepth::step;
  const study::VariantResult r = study::evaluate_variant(s, o);
  scenario::Scenario first = s;
  first.training.phases = {s.training.phases.front()};
  first.training.phases.front().ramp.reset();
  const sim::StepResult direct = sim::simulate_step(first, {});
  REQUIRE(r.step);
  CHECK(*r.step == direct.time);
  CHECK(*r.tokens_per_s_per_gpu == direct.tokens_per_second_per_gpu);
  CHECK(*r.exposed_comm == direct.breakdown.exposed_comm);
  CHECK(!r.gpu_hours);  // depth step: no run level
  // The memory budget as model::memory_per_gpu gives it, with the scenario's allowance; the row's status follows.
  const model::MemoryBudget m =
      model::memory_per_gpu(s.model, s.training.phases[0].parallelism, s.precision, s.training.phases[0].seq_len,
                            s.hardware.gpu.hbm_capacity, s.memory);
  CHECK(r.memory == m.total);
  CHECK(r.status == (m.fits ? study::VariantStatus::ok : study::VariantStatus::does_not_fit));
}

TEST_CASE("variants that differ only in price share the step and scale the dollars exactly") {
  study::VariantOptions o;
  o.run.trials = 20;
  o.rnd.samples = 200;
  study::StepMemo memo;
  const study::VariantResult a = study::evaluate_variant(scenario::load_scenario("builtin:deepseek-v3"), o, memo);
  const std::int64_t simulated = memo.misses();
  const study::VariantResult b = study::evaluate_variant(deepseek("cost.rental=$3/GPU-h"), o, memo);
  CHECK(memo.misses() == simulated);  // the price variant simulated no step of its own
  REQUIRE(a.gpu_hours);
  REQUIRE(b.gpu_hours);
  CHECK(a.step->value() == b.step->value());
  CHECK(*a.gpu_hours == *b.gpu_hours);
  // final run = GPU-hours x rental: $2 (V3-TR Table 1) and $3 per GPU-hour.
  CHECK(a.final_run->value() == doctest::Approx(2 * a.gpu_hours->value()));
  CHECK(b.final_run->value() == doctest::Approx(3 * b.gpu_hours->value()));
  // A step-relevant change is simulated anew, not taken from the remembered step.
  const study::VariantResult c = study::evaluate_variant(deepseek("hardware.gpu=h100"), o, memo);
  CHECK(memo.misses() > simulated);
  REQUIRE(c.step);
  CHECK(c.step->value() < a.step->value());  // NVLink 900 vs 400 GB/s: less exposed communication
}

TEST_CASE("a variant that cannot be simulated is a row with its reason") {
  // A GPU described from scratch has no calibration profile.
  const study::VariantResult r = study::evaluate_variant(deepseek(
      "hardware.gpu={name: custom, sms: 132, bf16_dense: \"989 TFLOP/s\", fp8_dense: \"1979 TFLOP/s\", "
      "hbm_capacity: \"80 GB\", hbm_bandwidth: \"3.35 TB/s\", nvlink_bandwidth: \"450 GB/s\", tdp: \"700 W\"}"));
  CHECK(r.status == study::VariantStatus::invalid);
  CHECK(r.reason.find("calibration") != std::string::npos);
  CHECK(!r.step);
  CHECK(study::status_name(r.status) == "invalid");
}

TEST_CASE("the step memo a study hands over is keyed by the whole shape and bounded") {
  // A 4-layer dense model on one node of 8 H800 (cheap steps).
  constexpr std::string_view kSmall = R"(
name: memo-small
model: {layers: 4, hidden: 256, vocab: 1024, attention: {kind: mha, heads: 8, kv_heads: 8, head_dim: 32},
        ffn: {kind: swiglu, intermediate: 512}}
parallelism: {tp: 1, pp: 2, ep: 1, dp: 4, micro_batch: 1, zero: 1, schedule: 1f1b, recompute: none}
precision: {gemm: bf16, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: fp32, activations: bf16}
hardware: {gpu: h800, gpus_per_node: 8, nodes: 1, network: {topology: single-node, latency_nvlink: "3.33 us"}}
training: {seq_len: 1024, phases: [{name: main, tokens: "1B", batch: 32}]}
cost: {rental: "$2/GPU-h"}
)";
  const auto small = [&](std::vector<std::string> sets) {
    return scenario::load_scenario_text(kSmall, "memo-small.yaml", sets);
  };
  const scenario::Scenario s = small({});
  const scenario::Scenario pricier = small({"cost.rental=$3/GPU-h"});
  const scenario::Scenario tdp_changed =
      small({"hardware.gpu={preset: h800, tdp: \"650 W\"}"});  // never read by a step
  const scenario::Scenario h100 = small({"hardware.gpu=h100"});
  study::StepMemo memo(2);
  study::VariantOptions o;
  o.depth = study::RunDepth::step;
  const study::VariantResult a = study::evaluate_variant(s, o, memo);
  CHECK(memo.misses() == 1);
  // Price: not part of the step's shape; the remembered step is taken.
  const study::VariantResult b = study::evaluate_variant(pricier, o, memo);
  CHECK(memo.hits() == 1);
  CHECK(*b.step == *a.step);
  // The TDP is part of the GPU spec, so of the shape's key, even though the step does not read it:
  // the key errs on the side of simulating again, never on sharing a step it should not.
  (void)study::evaluate_variant(tdp_changed, o, memo);
  CHECK(memo.misses() == 2);
  // A different GPU is a different step; with a capacity of 2 the least recently used is forgotten.
  const study::VariantResult c = study::evaluate_variant(h100, o, memo);
  CHECK(memo.misses() == 3);
  CHECK(memo.size() == 2);
  CHECK(*c.step == sim::simulate_step(h100, {}).time);
  // The first shape was the least recently used: asked again, it is simulated again, to the same figures.
  const study::VariantResult again = study::evaluate_variant(s, o, memo);
  CHECK(memo.misses() == 4);
  CHECK(*again.step == *a.step);
}

TEST_CASE("a plan's bound through the memo does not depend on what the study's store already holds") {
  // The plan search bounds plans ahead on workers the steps leave idle, so a plan's bound may come before or
  // after other plans' bounds and steps filled the store with their collectives: it must be the same figure.
  const sim::StepShape a = sim::step_shape(deepseek("parallelism.zero=2"));
  const sim::StepShape b = sim::step_shape(deepseek("parallelism.ep=16"));
  study::StepMemo fresh;
  const SimTime alone = fresh.bound(a);
  CHECK(alone > SimTime());
  study::StepMemo busy;
  busy.bound(b);
  busy.get(b, {});
  CHECK(busy.bound(a) == alone);
  busy.get(a, {});
  CHECK(busy.bound(a) == alone);
}
