// The training step end to end (sim/step.h): against independent arithmetic
// on one GPU, the accounting identity on DeepSeek-V3, and the full mode's
// seeded variation.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/op_time.h"
#include "model/ops.h"
#include "model/params.h"
#include "scenarios/loader.h"
#include "sim/step.h"
#include "tests/sim/fixtures.h"

using namespace tcsim;
using namespace tcsim::sim;

namespace {

// One H800, four DeepSeek-V3 layers (three dense, one MoE with its experts
// local), three micro-batches of one 4096-token sequence, no parallelism.
constexpr std::string_view kOneGpu = R"(
name: one-gpu
model: {preset: deepseek-v3, layers: 4}
parallelism: {tp: 1, pp: 1, ep: 1, dp: 1, micro_batch: 1, zero: 0, schedule: 1f1b, recompute: selective, comm_sms: 20}
precision: {gemm: fp8, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: bf16, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 1
  nodes: 1
  network: {topology: single-node, latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 3}]
reliability: {mtbf_per_gpu: "50676 h", checkpoint_interval: "1 h"}
cost: {rental: "$2/GPU-h"}
)";

using tcsim_test::kSmallMoe;

double seconds(const scenario::Scenario& s, const model::Op& op, model::Pass pass) {
  return hw::op_time(op, pass, *s.hardware.profile, s.hardware.profile->sms).time.value();
}

}  // namespace

TEST_CASE("on one GPU a step is every op of every micro-batch, one after another, then the norm and AdamW") {
  const scenario::Scenario s = scenario::load_scenario_text(kOneGpu, "one-gpu.yaml");
  const StepResult r = simulate_step(s, {});
  // Per micro-batch: each op's forward, input-gradient and weight-gradient time on all 132 SMs (no
  // communication kernel ever runs), plus the forward again for the ops selective recompute drops.
  const auto blocks = model::build_model_blocks(s.model, s.parallelism, s.precision, {1, 4096});
  double per_micro_batch = 0;
  for (const model::Block& b : blocks) {
    for (const model::Op& op : b.ops) {
      per_micro_batch += seconds(s, op, model::Pass::forward) + seconds(s, op, model::Pass::backward_input) +
                         seconds(s, op, model::Pass::backward_weight);
      if (op.recomputed) per_micro_batch += seconds(s, op, model::Pass::forward);
    }
  }
  // The gradient norm reads every FP32 gradient once (4 bytes per weight; one GPU: no all-reduce),
  // then AdamW, one fused pass over every weight (ZeRO-0: all of them): read FP32 master, FP32 gradient
  // and two BF16 moments, write master, moments and the BF16 working copy: 4+4+2+2 + 4+2+2+2 = 22 bytes,
  // both at the profile's 3.0 TB/s.
  const model::ParamCounts p = model::count_params(s.model);
  const double optimizer = static_cast<double>(p.total + p.mtp) * (4.0 + 22.0) / 3.0e12;
  CHECK(r.time.value() == doctest::Approx(3 * per_micro_batch + optimizer).epsilon(1e-6));
  CHECK(r.breakdown.bubble.value() == 0);
  CHECK(r.breakdown.exposed_comm.value() == 0);
  CHECK(r.breakdown.optimizer.value() == doctest::Approx(optimizer).epsilon(1e-6));
}

TEST_CASE("DeepSeek-V3 symmetric: the critical GPU's six parts add up to the step time") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const StepResult r = simulate_step(s, {});
  CHECK(r.breakdown.total().value() == doctest::Approx(r.time.value()).epsilon(1e-9));
  // One pipeline stands for the 128 replicas: 16 GPUs simulated; 15360 / 128 = 120 micro-batches each.
  CHECK(r.simulated_gpus == 16);
  CHECK(r.micro_batches == 120);
  CHECK(r.tokens == 15360LL * 4096);
  // Definitions: GPU-hours per 1e12 tokens and tokens/s/GPU are reciprocal up to 1e12 / 3600.
  CHECK(r.gpu_hours_per_trillion_tokens * r.tokens_per_second_per_gpu == doctest::Approx(1e12 / 3600.0));
  // The critical GPU computes the most. Under DualPipe rank r holds stages r and 15 - r (V3-TR §3.2.1
  // Fig. 5), so its mirror rank holds the same two stages and computes as long.
  double most = 0, critical = -1, mirror = -1;
  for (const GpuUse& g : r.gpu_use) {
    CHECK(g.compute_utilisation <= 1.0);
    most = std::max(most, g.compute.value());
    if (g.pipeline_rank == r.critical_pipeline_rank) critical = g.compute.value();
    if (g.pipeline_rank == 15 - r.critical_pipeline_rank) mirror = g.compute.value();
  }
  CHECK(critical == most);
  CHECK(mirror == doctest::Approx(critical).epsilon(1e-4));
}

TEST_CASE("once every rank is past its warm-up, each further micro-batch adds the same time") {
  // The steady state of a pipeline: a micro-batch more is one more forward and backward on every
  // rank, so the step is affine in the micro-batches per pipeline n (the plan search extrapolates
  // on it). With DualPipe on PP2 (warm-up 2 pp = 4), steps of n = 8, 12, 16: equal increments.
  const auto step = [](int n) {
    std::string text(kSmallMoe);
    text.replace(text.find("batch: 128"), 10, fmt::format("batch: {}", 32 * n));
    return simulate_step(scenario::load_scenario_text(text, "small-moe.yaml"), {}).time.value();
  };
  const double t8 = step(8), t12 = step(12), t16 = step(16);
  CHECK(t12 > t8);
  CHECK(t16 - t12 == doctest::Approx(t12 - t8).epsilon(1e-3));
}

TEST_CASE("faster kernels and faster links never slow the step") {
  const scenario::Scenario s = scenario::load_scenario_text(kSmallMoe, "small-moe.yaml");
  const double base = simulate_step(s, {}).time.value();
  // Every compute rate of the calibration profile twice as high: strictly faster.
  scenario::Scenario fast = s;
  hw::CalibrationProfile& p = *fast.hardware.profile;
  p.gemm_bf16.value = p.gemm_bf16.value * 2.0;
  p.gemm_fp8.value = p.gemm_fp8.value * 2.0;
  p.hbm.value = p.hbm.value * 2.0;
  p.attention_forward.value = p.attention_forward.value * 2.0;
  p.attention_backward.value = p.attention_backward.value * 2.0;
  CHECK(simulate_step(fast, {}).time.value() < base);
  // Twice the NIC and NVLink bandwidth: no slower (the all-to-all crosses both).
  scenario::Scenario wide = s;
  wide.hardware.network.nic_bandwidth = wide.hardware.network.nic_bandwidth * 2.0;
  wide.hardware.gpu.nvlink_bandwidth = wide.hardware.gpu.nvlink_bandwidth * 2.0;
  const StepResult w = simulate_step(wide, {});
  CHECK(w.time.value() <= base);
  CHECK(w.breakdown.exposed_comm.value() <= simulate_step(s, {}).breakdown.exposed_comm.value());
}

TEST_CASE("full fidelity is deterministic per seed, and its variation only slows the step") {
  const scenario::Scenario s = scenario::load_scenario_text(kSmallMoe, "small-moe.yaml");
  StepOptions full;
  full.fidelity = Fidelity::full;
  full.seed = 11;
  const StepResult a = simulate_step(s, full);
  const StepResult b = simulate_step(s, full);
  CHECK(a.time == b.time);  // bit for bit
  CHECK(a.simulated_gpus == 64);
  full.seed = 12;
  const StepResult c = simulate_step(s, full);
  CHECK(c.time != a.time);
  // Every GPU is at least as fast as nominal in symmetric mode (slowdown factors >= 1) and the
  // straggler of each collective sets its start: the full step is slower.
  const StepResult sym = simulate_step(s, {});
  CHECK(a.time > sym.time);
  CHECK(c.time > sym.time);
  CHECK(a.breakdown.total().value() == doctest::Approx(a.time.value()).epsilon(1e-9));
}

TEST_CASE("a plan the step simulation cannot run is refused at load, with its place") {
  // DualPipe needs at least 2 pp micro-batches per pipeline: 32 sequences over dp 32 is one.
  std::string text(kSmallMoe);
  text.replace(text.find("batch: 128"), 10, "batch: 32");
  try {
    (void)scenario::load_scenario_text(text, "small-moe.yaml");
    CHECK(false);
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    CHECK(m.starts_with("small-moe.yaml:"));
    CHECK(m.find("training.phases[0].batch: batch 32 is 1 micro-batches per pipeline") != std::string::npos);
  }
}

namespace {

// Durations of the tasks whose label has `name`.
struct Durations : Observer {
  const StepGraph& graph;
  std::string name;
  std::vector<std::int64_t> ns;
  Durations(const StepGraph& g, std::string n) : graph(g), name(std::move(n)) {}
  void on_end(const TaskEvent& t) override {
    if (graph.names[graph.labels[t.tag].name] == name) ns.push_back(t.end.count() - t.begin.count());
  }
};

}  // namespace

TEST_CASE("DeepSeek-V3's expert dispatch is bound by each GPU's 50 GB/s NIC") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  StepSimulation sim(step_shape(s), {});
  Durations dispatch(sim.graph(), "moe.dispatch");
  sim.add_observer(dispatch);
  sim.run();
  REQUIRE(!dispatch.ns.empty());
  // Balanced routing: a token reaches 4 of the group's 8 nodes (V3-TR §2.1.2), its own among them half the
  // time, so it leaves its node 4 x 7/8 = 3.5 times, once per node, 7168 FP8 bytes each (one byte per hidden
  // value): 4096 x 3.5 x 7168 B = 102.76 MB per GPU over its NIC at 400 Gb/s = 50 GB/s: 2.055 ms. Latencies
  // add microseconds; NVLink forwarding runs beside it.
  const double expected = 4096.0 * 3.5 * 7168.0 / 50e9;
  for (const std::int64_t t : dispatch.ns)
    CHECK(static_cast<double>(t) * 1e-9 == doctest::Approx(expected).epsilon(0.01));
}

namespace {

// DeepSeek-V3 cut to 4 layers on 16 H800 in two nodes: EP8, DP16, no pipeline, 1F1B, 12 micro-batches.
constexpr std::string_view kMoeNoPipeline = R"(
name: moe-no-pipeline
model: {preset: deepseek-v3, layers: 4}
parallelism: {tp: 1, pp: 1, ep: 8, micro_batch: 1, zero: 1, schedule: 1f1b, recompute: selective, comm_sms: 20}
precision: {gemm: fp8, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: bf16, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 8
  nodes: 2
  network: {topology: fat-tree, nic_bandwidth: "400 Gb/s", nics_per_node: 8, switch_radix: 64,
            latency_intra_leaf: "2.8 us", latency_cross_leaf: "3.7 us", latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 192}]
)";

// DeepSeek LLM 67B cut to 4 layers, TP8 on one H800 node, 4 micro-batches.
constexpr std::string_view kDenseTp8 = R"(
name: dense-tp8
model: {preset: deepseek-67b, layers: 4}
parallelism: {tp: 8, pp: 1, micro_batch: 1, zero: 1, schedule: 1f1b, recompute: selective}
precision: {gemm: bf16, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: fp32, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 8
  nodes: 1
  network: {topology: single-node, latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 4}]
)";

StepResult step_with(std::string_view text, const std::vector<std::string>& sets) {
  return simulate_step(scenario::load_scenario_text(std::string(text), "s.yaml", sets), {});
}

}  // namespace

TEST_CASE("combined 1F1B hides the expert all-to-all behind the other micro-batch's compute") {
  const StepResult plain = step_with(kMoeNoPipeline, {});
  const StepResult combined = step_with(kMoeNoPipeline, {"parallelism.overlap_ep_comm=true"});
  // The same work: every compute kind within 1% (pairs share the SMs with the other chunk's
  // communication kernels a little more often).
  CHECK(combined.breakdown.forward.value() == doctest::Approx(plain.breakdown.forward.value()).epsilon(0.01));
  CHECK(combined.breakdown.backward_input.value() ==
        doctest::Approx(plain.breakdown.backward_input.value()).epsilon(0.01));
  // Pairs leave exposed only what compute cannot cover: less than without, and the step is shorter.
  CHECK(combined.breakdown.exposed_comm.value() < 0.8 * plain.breakdown.exposed_comm.value());
  CHECK(combined.time.value() < plain.time.value());
  CHECK(combined.breakdown.total().value() == doctest::Approx(combined.time.value()).epsilon(1e-9));
  // The shared expert beside the dispatch hides part of it too, less than pairing does.
  const StepResult shared = step_with(kMoeNoPipeline, {"parallelism.overlap_shared_expert=true"});
  CHECK(shared.breakdown.exposed_comm.value() < plain.breakdown.exposed_comm.value());
  CHECK(shared.breakdown.exposed_comm.value() > combined.breakdown.exposed_comm.value());
}

TEST_CASE("delayed weight gradients fill the waits for the all-to-all: the same work, less exposed") {
  for (const bool combined : {false, true}) {
    std::vector<std::string> sets{fmt::format("parallelism.overlap_ep_comm={}", combined)};
    const StepResult plain = step_with(kMoeNoPipeline, sets);
    sets.push_back("parallelism.delay_wgrad_compute=true");
    const StepResult delayed = step_with(kMoeNoPipeline, sets);
    // Only the order on the stream changes: every compute kind's time is the same.
    CHECK(delayed.breakdown.backward_weight.value() ==
          doctest::Approx(plain.breakdown.backward_weight.value()).epsilon(0.01));
    CHECK(delayed.breakdown.backward_input.value() ==
          doctest::Approx(plain.breakdown.backward_input.value()).epsilon(0.01));
    // Input gradients first: the backward's next all-to-all starts sooner, and the weight
    // gradients run while it is in flight.
    CHECK(delayed.breakdown.exposed_comm.value() < plain.breakdown.exposed_comm.value());
    CHECK(delayed.time.value() < plain.time.value());
    CHECK(delayed.breakdown.total().value() == doctest::Approx(delayed.time.value()).epsilon(1e-9));
  }
}

TEST_CASE("sequence parallelism shards the norms; TP overlap hides its collectives behind the GEMMs") {
  const StepResult tp = step_with(kDenseTp8, {});
  const StepResult sp = step_with(kDenseTp8, {"parallelism.sequence_parallel=true"});
  const StepResult overlap =
      step_with(kDenseTp8, {"parallelism.sequence_parallel=true", "parallelism.overlap_tp_comm=true"});
  // Norms, residuals and the pipeline-free forward work shrink by the tp-sharded part; the GEMMs stay.
  CHECK(sp.breakdown.forward.value() < tp.breakdown.forward.value());
  CHECK(sp.breakdown.backward_weight.value() == doctest::Approx(tp.breakdown.backward_weight.value()).epsilon(1e-6));
  // Overlap changes no work, only when the collectives run.
  CHECK(overlap.breakdown.forward.value() == doctest::Approx(sp.breakdown.forward.value()).epsilon(1e-3));
  CHECK(overlap.breakdown.exposed_comm.value() < 0.7 * sp.breakdown.exposed_comm.value());
  CHECK(overlap.time.value() < sp.time.value());
  CHECK(overlap.breakdown.bubble.value() == 0);  // one pipeline rank: every wait is for a collective
}

namespace {

// Per GPU: when its last backward compute task ended, and when its first gradient reduction began.
struct GradientTiming : Observer {
  const StepGraph& graph;
  std::map<int, std::int64_t> last_backward, first_reduce;
  explicit GradientTiming(const StepGraph& g) : graph(g) {}
  void on_end(const TaskEvent& t) override {
    const TaskKind kind = graph.labels[t.tag].kind;
    if (kind == TaskKind::backward_input || kind == TaskKind::backward_weight) {
      last_backward[t.gpu] = std::max(last_backward[t.gpu], t.end.count());
    }
  }
  void on_begin(const TaskEvent& t) override {
    if (graph.labels[t.tag].kind != TaskKind::dp_comm) return;
    if (!graph.names[graph.labels[t.tag].name].starts_with("reduce grads")) return;
    for (const int g : t.gpus) {
      const auto it = first_reduce.find(g);
      if (it == first_reduce.end() || t.begin.count() < it->second) first_reduce[g] = t.begin.count();
    }
  }
};

}  // namespace

TEST_CASE("without overlap_grad_reduce every gradient reduction waits for the rank's last backward") {
  const std::vector<std::string> off{"parallelism.overlap_grad_reduce=false"};
  for (const bool overlap : {true, false}) {
    const scenario::Scenario s = scenario::load_scenario_text(std::string(kSmallMoe), "small-moe.yaml",
                                                              overlap ? std::vector<std::string>{} : off);
    StepSimulation sim(step_shape(s), {});
    GradientTiming timing(sim.graph());
    sim.add_observer(timing);
    sim.run();
    REQUIRE(!timing.first_reduce.empty());
    bool any_early = false;
    for (const auto& [gpu, begin] : timing.first_reduce) {
      REQUIRE(timing.last_backward.count(gpu) == 1);
      if (begin < timing.last_backward[gpu]) any_early = true;
    }
    // Megatron's bucketed overlap starts reducing while later backward work still runs (DualPipe's
    // ranks finish one stage's gradients well before the other's); without it, none does.
    CHECK(any_early == overlap);
  }
  const double with = simulate_step(scenario::load_scenario_text(std::string(kSmallMoe), "s.yaml"), {}).time.value();
  const double without =
      simulate_step(scenario::load_scenario_text(std::string(kSmallMoe), "s.yaml", off), {}).time.value();
  CHECK(without >= with);
}

namespace {

// Per GPU: when its first forward compute began, and when its weight all-gathers began and ended.
struct GatherTiming : Observer {
  const StepGraph& graph;
  std::map<int, std::int64_t> first_forward, first_gather_begin, last_gather_end, optimizer_end;
  explicit GatherTiming(const StepGraph& g) : graph(g) {}
  void on_begin(const TaskEvent& t) override {
    if (graph.labels[t.tag].kind == TaskKind::forward && !first_forward.count(t.gpu))
      first_forward[t.gpu] = t.begin.count();
  }
  void on_end(const TaskEvent& t) override {
    const TaskKind kind = graph.labels[t.tag].kind;
    if (kind == TaskKind::optimizer) optimizer_end[t.gpu] = t.end.count();
    if (kind != TaskKind::dp_comm || !graph.names[graph.labels[t.tag].name].starts_with("all-gather weights")) return;
    for (const int g : t.gpus) {
      if (!first_gather_begin.count(g) || t.begin.count() < first_gather_begin[g])
        first_gather_begin[g] = t.begin.count();
      last_gather_end[g] = std::max(last_gather_end[g], t.end.count());
    }
  }
};

}  // namespace

TEST_CASE("overlap_param_gather gathers the updated weights beside the next forward, not after the optimizer") {
  for (const bool overlap : {false, true}) {
    const std::vector<std::string> sets{fmt::format("parallelism.overlap_param_gather={}", overlap)};
    const scenario::Scenario s = scenario::load_scenario_text(std::string(kSmallMoe), "small-moe.yaml", sets);
    StepSimulation sim(step_shape(s), {});
    GatherTiming timing(sim.graph());
    sim.add_observer(timing);
    sim.run();
    REQUIRE(!timing.last_gather_end.empty());
    for (const auto& [gpu, end] : timing.last_gather_end) {
      REQUIRE(timing.optimizer_end.count(gpu) == 1);
      if (overlap) {
        // Issued at the step's start, each stage's first forward waiting for them: done before the
        // optimizer, and the first forward starts only once its stage's weights are in.
        CHECK(end < timing.optimizer_end[gpu]);
        CHECK(timing.first_gather_begin[gpu] == 0);
        CHECK(timing.first_forward[gpu] > 0);
      } else {
        CHECK(timing.first_gather_begin[gpu] >= timing.optimizer_end[gpu]);
      }
    }
  }
  const StepResult after = step_with(kSmallMoe, {});
  const StepResult beside = step_with(kSmallMoe, {"parallelism.overlap_param_gather=true"});
  CHECK(beside.time.value() < after.time.value());
  CHECK(beside.breakdown.forward.value() == doctest::Approx(after.breakdown.forward.value()).epsilon(0.01));
  // Megatron-LM's rules: the distributed optimizer (zero 1 or 2) and overlap_grad_reduce.
  for (const auto& sets :
       {std::vector<std::string>{"parallelism.overlap_param_gather=true", "parallelism.zero=0"},
        std::vector<std::string>{"parallelism.overlap_param_gather=true", "parallelism.overlap_grad_reduce=false"}}) {
    CHECK_THROWS_AS((void)scenario::load_scenario_text(std::string(kSmallMoe), "s.yaml", sets), ConfigError);
  }
}

namespace {

// The end of the step: each GPU's gradient norm, the all-reduce of the norm, each GPU's optimizer.
struct StepEnd : Observer {
  const StepGraph& graph;
  std::int64_t last_norm_end = 0, first_optimizer_begin = -1, sum_begin = -1, sum_end = -1;
  int norms = 0, optimizers = 0, sums = 0;
  std::size_t sum_gpus = 0;
  explicit StepEnd(const StepGraph& g) : graph(g) {}
  void on_end(const TaskEvent& t) override {
    const std::string& name = graph.names[graph.labels[t.tag].name];
    if (name == "gradient norm") {
      ++norms;
      last_norm_end = std::max(last_norm_end, t.end.count());
    } else if (name == "all-reduce gradient norm") {
      ++sums;
      sum_begin = t.begin.count();
      sum_end = t.end.count();
      sum_gpus = t.gpus.size();
    } else if (name == "optimizer (AdamW)") {
      ++optimizers;
      if (first_optimizer_begin < 0 || t.begin.count() < first_optimizer_begin) first_optimizer_begin = t.begin.count();
    }
  }
};

}  // namespace

TEST_CASE("every optimizer waits for the gradient norm summed over all GPUs") {
  for (const Fidelity f : {Fidelity::symmetric, Fidelity::full}) {
    const scenario::Scenario s = scenario::load_scenario_text(std::string(kSmallMoe), "small-moe.yaml");
    StepOptions o;
    o.fidelity = f;
    StepSimulation sim(step_shape(s), o);
    StepEnd end(sim.graph());
    sim.add_observer(end);
    sim.run();
    const int gpus = f == Fidelity::full ? 64 : 2;  // simulated: every GPU, or one per pipeline rank
    CHECK(end.norms == gpus);
    CHECK(end.optimizers == gpus);
    REQUIRE(end.sums == 1);
    CHECK(end.sum_gpus == static_cast<std::size_t>(gpus));
    CHECK(end.sum_begin >= end.last_norm_end);
    CHECK(end.sum_end > end.sum_begin);
    CHECK(end.first_optimizer_begin >= end.sum_end);
  }
}

TEST_CASE("a step whose collectives all sit in one lane: shared equals timed alone, to the nanosecond") {
  // One node, TP8, no data or pipeline parallelism: every collective is in the model's one lane and
  // nothing else crosses NVLink, so the engine leaves every link out of the sharing (sim/engine.h)
  // and each collective takes its time alone. The exactness claim of that pruning, on a real step.
  const scenario::Scenario s = scenario::load_scenario_text(std::string(kDenseTp8), "tp8.yaml", {});
  StepOptions alone;
  alone.shared_collectives = false;
  const StepResult fixed = simulate_step(s, alone);
  const StepResult shared = simulate_step(s, {});
  CHECK(shared.time == fixed.time);
  CHECK(shared.breakdown.exposed_comm.value() == fixed.breakdown.exposed_comm.value());
}

TEST_CASE("DeepSeek-V3 on 64 GPUs: collectives that share NICs with sends make the step longer than fixed delays") {
  // Gradient reduce-scatters, expert all-to-alls and pipeline sends meet on the NICs: sharing can
  // only lengthen each, and the step with them.
  const scenario::Scenario s = scenario::load_scenario_text(std::string(kSmallMoe), "moe.yaml", {});
  for (const Fidelity f : {Fidelity::symmetric, Fidelity::full}) {
    StepOptions alone;
    alone.fidelity = f;
    alone.shared_collectives = false;
    StepOptions shared;
    shared.fidelity = f;
    const StepResult a = simulate_step(s, alone);
    const StepResult b = simulate_step(s, shared);
    // The stages' sends cross NICs the expert all-to-alls fill, so something is slowed: strictly longer.
    CHECK(b.time > a.time);
    CHECK(b.breakdown.total().value() == doctest::Approx(b.time.value()).epsilon(1e-9));
  }
}

TEST_CASE("a stage with no layer runs: it passes activations through and its parts still add up") {
  // PP2 DualPipe with all 4 layers on stage 0; stage 1 holds only the MTP module and the head.
  const StepResult r = step_with(kSmallMoe, {"parallelism.stage_layers=[4, 0]"});
  CHECK(r.breakdown.total().value() == doctest::Approx(r.time.value()).epsilon(1e-9));
  CHECK(r.time.value() > 0);
}
