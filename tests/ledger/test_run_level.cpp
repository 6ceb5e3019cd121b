// The run-level simulation against hand calculations: batch ramp, step
// counts, the step-time cache, checkpoints, interruptions (closed form and
// Monte Carlo), measured phases.
#include <doctest/doctest.h>

#include <cmath>

#include "model/ops.h"
#include "model/params.h"
#include "sim/run_level.h"
#include "sim/step.h"
#include "tests/ledger/fixtures.h"

using namespace tcsim;
using namespace tcsim::sim;
using tcsim::test::load_small;
using tcsim::test::rate_oracle;

namespace {

// A reliability model written out by hand.
ReliabilityModel model_of(double mtbf, double restart, double interval, double write) {
  ReliabilityModel r;
  r.job_mtbf = Seconds(mtbf);
  r.restart = Seconds(restart);
  r.interval = Seconds(interval);
  r.checkpoint_time = Seconds(write);
  return r;
}

}  // namespace

TEST_CASE("the batch ramp grows linearly in tokens, rounded to whole micro-batch rounds") {
  scenario::Phase ph;
  ph.batch = 15360;  // DeepSeek-V3: 3072 -> 15360 over 469B tokens (V3-TR §4.2), dp 128
  ph.ramp = scenario::BatchRamp{3072, 469'000'000'000};
  ph.parallelism.dp = 128;
  ph.parallelism.micro_batch = 1;
  CHECK(ramp_batch(ph, 0) == 3072);
  // Half way: 3072 + 12288 / 2 = 9216 = 72 x 128.
  CHECK(ramp_batch(ph, 234'500'000'000) == 9216);
  // 30%: 3072 + 0.3 x 12288 = 6758.4 -> 52.8 rounds -> 53 x 128 = 6784.
  CHECK(ramp_batch(ph, 140'700'000'000) == 6784);
  CHECK(ramp_batch(ph, 469'000'000'000) == 15360);
  CHECK(ramp_batch(ph, 10'000'000'000'000) == 15360);
  ph.ramp.reset();
  CHECK(ramp_batch(ph, 0) == 15360);
}

TEST_CASE("under DualPipe a ramp step is an even number of micro-batches per replica") {
  scenario::Phase ph;
  ph.batch = 15360;
  ph.ramp = scenario::BatchRamp{3072, 469'000'000'000};
  ph.parallelism.dp = 128;
  ph.parallelism.micro_batch = 1;
  ph.parallelism.schedule = model::Schedule::dualpipe;
  // Granule 2 x 128 = 256. At 30%: 6758.4 / 256 = 26.4 -> 26 x 256 = 6656.
  CHECK(ramp_granule(ph) == 256);
  CHECK(ramp_batch(ph, 140'700'000'000) == 6656);
}

TEST_CASE("each distinct step shape is simulated once") {
  const scenario::Scenario s = load_small();
  int calls = 0;
  StepTimeCache cache(rate_oracle(1e6, &calls));
  const PhaseSchedule sc = schedule_phase(0, s.training.phases[0], cache);
  // The ramp 1024 -> 2048 in rounds of dp x micro_batch = 16 visits every
  // multiple (a step adds about 3 sequences to the target, fewer than 16):
  // (2048 - 1024) / 16 + 1 = 65 batches, each asked once.
  CHECK(calls == 65);
  CHECK(cache.shapes() == 65);
  CHECK(sc.first_batch == 1024);
  CHECK(sc.last_batch == 2048);
  // Asking again costs nothing.
  schedule_phase(0, s.training.phases[0], cache);
  CHECK(calls == 65);
}

TEST_CASE("with time = tokens / rate, a phase's compute is its trained tokens over the rate") {
  const scenario::Scenario s = load_small();
  const double rate = 2.5e6;  // tokens per second
  StepTimeCache cache(rate_oracle(rate));
  const PhaseSchedule sc = schedule_phase(0, s.training.phases[0], cache);
  // Whole steps: at least the phase's 1B tokens, less than one 2048 x 1000 step more.
  CHECK(sc.tokens >= 1'000'000'000);
  CHECK(sc.tokens < 1'000'000'000 + 2048 * 1000);
  // Sum over steps of b_i s / rate = (sum of b_i s) / rate.
  CHECK(sc.compute.value() == doctest::Approx(static_cast<double>(sc.tokens) / rate).epsilon(1e-12));
}

TEST_CASE("a phase in tokens at one batch runs ceil(tokens / (batch x seq)) steps") {
  // A ramp from 2048 to 2048: every step at the phase batch.
  const scenario::Scenario s = load_small({"training.phases[0].batch_ramp.from=2048"});
  StepTimeCache cache(rate_oracle(1e6));
  const PhaseSchedule sc = schedule_phase(0, s.training.phases[0], cache);
  // 1e9 / (2048 x 1000) = 488.28 -> 489 steps, 489 x 2,048,000 = 1,001,472,000 tokens.
  CHECK(sc.steps == 489);
  CHECK(sc.tokens == 1'001'472'000);
  CHECK(sc.compute.value() == doctest::Approx(489 * 2048 * 1000 / 1e6));
}

TEST_CASE("a phase in steps runs exactly those steps at its batch and sequence length") {
  const scenario::Scenario s = load_small();
  StepTimeCache cache(rate_oracle(1e6));
  const PhaseSchedule sc = schedule_phase(1, s.training.phases[1], cache);
  // 100 steps x 64 sequences x 8000 tokens / 1e6 tokens/s = 51.2 s.
  CHECK(sc.steps == 100);
  CHECK(sc.tokens == 51'200'000);
  CHECK(sc.compute.value() == doctest::Approx(51.2));
}

TEST_CASE("the DeepSeek-V3 pre-training ramp: 45 batch shapes and the steps of a continuous ramp") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  REQUIRE(s.training.phases[0].ramp->from == 4096);  // the scenario's stated assumption (not V3-TR's 3072)
  StepTimeCache cache(rate_oracle(1e9));
  const PhaseSchedule sc = schedule_phase(0, s.training.phases[0], cache);
  // DualPipe, DP128: steps of 256 sequences, (15360 - 4096) / 256 + 1 = 45 distinct batches.
  CHECK(cache.shapes() == 45);
  // Continuous ramp b(T) = from + (to - from) T / over: its steps are
  //   over / ((to - from) seq) x ln(to / from) = 469e9 / (11264 x 4096) x ln 3.75 = 13,448.8,
  // then (14.8e12 - 469e9) / (15360 x 4096) = 227,785.5 at the final batch: 241,234 in all.
  const double ramp = 469e9 / (11264.0 * 4096) * std::log(3.75);
  const double rest = (14.8e12 - 469e9) / (15360.0 * 4096);
  CHECK(static_cast<double>(sc.steps) == doctest::Approx(ramp + rest).epsilon(0.001));
}

TEST_CASE("a checkpoint holds the master weights and both AdamW moments of every parameter") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  // DeepSeek-V3: FP32 master weights, BF16 moments (V3-TR §3.3): 4 + 2 x 2 = 8 bytes per
  // parameter of the main model and the MTP module, 671B + 11.5B (V3-TR §4.2; model card):
  // 682.5e9 x 8 = 5.46e12 bytes, held to 1%.
  CHECK(checkpoint_bytes(s).value() == doctest::Approx(682.5e9 * 8).epsilon(0.01));
  const model::ParamCounts p = model::count_params(s.model);
  CHECK(checkpoint_bytes(s).value() == static_cast<double>(p.total + p.mtp) * 8.0);
}

TEST_CASE("Young's optimum checkpoint interval is sqrt(2 x checkpoint time x MTBF)") {
  // sqrt(2 x 2 s x 10,000 s) = 200 s.
  CHECK(young_daly_interval(Seconds(2), Seconds(10000)).value() == doctest::Approx(200.0));
  // DeepSeek-V3 defaults: 50,676 h per GPU / 2048 GPUs = 24.74 h; a 5.46 TB checkpoint
  // at 2.2 TiB/s takes 2.26 s; sqrt(2 x 2.26 x 89,080) = 634 s.
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const ReliabilityModel r = reliability_model(s);
  CHECK(r.young_daly);
  CHECK(r.job_mtbf.value() / 3600 == doctest::Approx(16384.0 * 54 * 24 / 419 / 2048));
  CHECK(r.checkpoint_time.value() == doctest::Approx(checkpoint_bytes(s).value() / (2.2 * 1099511627776.0)));
  CHECK(r.interval.value() ==
        doctest::Approx(std::sqrt(2 * r.checkpoint_time.value() * r.job_mtbf.value())).epsilon(1e-12));
}

TEST_CASE("without interruptions a phase pays one checkpoint write per interval, the last included") {
  // 3600 s of work, a checkpoint every 1000 s of work taking 10 s: ceil(3.6) = 4 writes.
  const PhaseOverheads o = expected_overheads(Seconds(3600), model_of(0, 300, 1000, 10));
  CHECK(o.checkpoints.value() == doctest::Approx(40));
  CHECK(o.interruptions == 0);
  CHECK(o.wall.value() == doctest::Approx(3640));
}

TEST_CASE("expected interruptions, restarts and lost work follow the closed form") {
  const double U = 1e6, tau = 1000, C = 10, R = 300, M = 50000;
  const PhaseOverheads o = expected_overheads(Seconds(U), model_of(M, R, tau, C));
  // n = 1000 writes, B = 1e6 + 1e4 = 1.01e6 s; lost per interruption L = (1000 + 10) / 2 = 505 s;
  // N = (B / M) / (1 - L / M) = 20.2 / 0.9899 = 20.406; W = B + N (R + L) = 1.01e6 + 20.406 x 805.
  const double B = U + 1000 * C;
  const double L = (tau + C) / 2;
  const double N = (B / M) / (1 - L / M);
  CHECK(o.interruptions == doctest::Approx(N).epsilon(1e-12));
  CHECK(o.interruptions == doctest::Approx(20.406).epsilon(1e-4));
  CHECK(o.restarts.value() == doctest::Approx(N * R));
  CHECK(o.lost_work.value() == doctest::Approx(N * L));
  CHECK(o.wall.value() == doctest::Approx(B + N * (R + L)).epsilon(1e-12));
}

TEST_CASE("the Monte Carlo over failure times agrees with the closed form on average") {
  const ReliabilityModel r = model_of(50000, 300, 1000, 10);
  const PhaseOverheads expected = expected_overheads(Seconds(1e6), r);
  Rng rng(42);
  double sum = 0;
  double count = 0;
  const int trials = 4000;
  for (int t = 0; t < trials; ++t) {
    int n = 0;
    sum += sample_wall(Seconds(1e6), r, rng, n).value();
    count += n;
  }
  // About 20 interruptions a run; the mean of 4000 runs is within 0.2% of the closed form
  // (its half-a-period lost work is first order in period / MTBF = 2%).
  CHECK(sum / trials == doctest::Approx(expected.wall.value()).epsilon(0.002));
  CHECK(count / trials == doctest::Approx(expected.interruptions).epsilon(0.02));
}

TEST_CASE("a job that loses work faster than it checkpoints it is rejected, not looped on") {
  // Lost per interruption (1000 + 10) / 2 = 505 s against an interruption every 400 s.
  CHECK_THROWS_AS(expected_overheads(Seconds(1e6), model_of(400, 60, 1000, 10)), ConfigError);
  Rng rng(1);
  int n = 0;
  CHECK_THROWS_AS(sample_wall(Seconds(1e6), model_of(400, 60, 1000, 10), rng, n), ConfigError);
}

TEST_CASE("a run adds its phases; measured phases pass through on the scenario's GPUs") {
  const scenario::Scenario s = load_small();
  const double rate = 1e6;
  StepTimeCache cache(rate_oracle(rate));
  const RunResult run = simulate_run(s, cache, {.seed = 1, .trials = 10});
  REQUIRE(run.phases.size() == 3);
  // No reliability section: no interruptions and no checkpoints, goodput 1.
  CHECK(run.goodput == 1.0);
  CHECK(run.interruptions == 0);
  const double tokens = static_cast<double>(run.phases[0].schedule.tokens + run.phases[1].schedule.tokens);
  // Simulated GPU-hours: 64 GPUs x tokens / rate / 3600.
  const double simulated = 64 * tokens / rate / 3600;
  CHECK(run.phases[0].gpu_hours.value() + run.phases[1].gpu_hours.value() == doctest::Approx(simulated));
  // Measured: 500 GPU-h as given; its wall on 64 GPUs: 500 / 64 h.
  CHECK(run.phases[2].measured);
  CHECK(run.phases[2].gpu_hours.value() == 500);
  CHECK(run.phases[2].wall.value() == doctest::Approx(500.0 / 64 * 3600));
  CHECK(run.gpu_hours_total.value() == doctest::Approx(simulated + 500));
  CHECK(run.gpu_hours_per_trillion_tokens == doctest::Approx(simulated / tokens * 1e12));
  // Without failures every Monte Carlo draw is the expected run.
  CHECK(run.gpu_hours_mc.p10.value() == doctest::Approx(run.gpu_hours_total.value()));
  CHECK(run.gpu_hours_mc.p90.value() == doctest::Approx(run.gpu_hours_total.value()));
}

TEST_CASE("interruptions split by cause in the log's proportions") {
  const scenario::Scenario s = load_small(
      {"reliability={interruption_log: {gpus: 100, window: \"10 days\", source: test, causes: [{name: gpu, "
       "interruptions: 3}, {name: network, interruptions: 1}]}, restart_time: \"5 min\", checkpoint_interval: \"1 "
       "h\"}"});
  // 100 GPUs x 10 days / 4 interruptions = 250 GPU-days per GPU.
  CHECK(s.reliability.mtbf_per_gpu.value() == doctest::Approx(250.0 * 86400));
  StepTimeCache cache(rate_oracle(1e5));
  const RunResult run = simulate_run(s, cache, {.seed = 3, .trials = 50});
  REQUIRE(run.causes.size() == 2);
  CHECK(run.causes[0].share == doctest::Approx(0.75));
  CHECK(run.causes[0].interruptions == doctest::Approx(0.75 * run.interruptions));
  CHECK(run.causes[1].gpu_hours_lost.value() == doctest::Approx(0.25 * run.gpu_hours_lost.value()));
  CHECK(run.goodput < 1.0);
}

TEST_CASE("one seed gives one run; the spread brackets the expected value") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const auto run_with = [&](std::uint64_t seed) {
    StepTimeCache cache(rate_oracle(2048 * 1543.0));  // V3-TR §1 derived: 1,543 tokens/s/GPU
    return simulate_run(s, cache, {.seed = seed, .trials = 200});
  };
  const RunResult a = run_with(7), b = run_with(7), c = run_with(8);
  CHECK(a.wall_mc.p50.value() == b.wall_mc.p50.value());
  CHECK(a.gpu_hours_mc.p90.value() == b.gpu_hours_mc.p90.value());
  CHECK(a.wall_mc.p50.value() != c.wall_mc.p50.value());
  CHECK(a.wall_mc.p10 <= a.wall);
  CHECK(a.wall <= a.wall_mc.p90);
}

TEST_CASE("the peak-FLOPs stand-in times a step as all its FLOPs at the dense peak, and says so") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const StepOracle o = peak_flops_oracle(s);
  CHECK(o.stand_in);
  CHECK(o.description.find("lower bound") != std::string::npos);
  const scenario::Phase& ph = s.training.phases[0];
  // 15360 x 4096 tokens x FLOPs per token / (2048 GPUs x 1978.9 TFLOP/s FP8, H800 = H100 die).
  const double flops = model::train_flops_per_token(s.model, 4096, model::AttentionFlops::causal).value();
  CHECK(o.time(ph, 15360).total.value() == doctest::Approx(15360.0 * 4096 * flops / (2048 * 1978.9e12)));
}

TEST_CASE("the step simulation as the oracle: one simulation per shape, parts that add up to the step") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const StepOracle o = step_simulation_oracle(s);
  CHECK(!o.stand_in);
  const scenario::Phase& ph = s.training.phases[0];
  const StepTime t = o.time(ph, 15360);
  REQUIRE(t.parts);
  CHECK((t.parts->compute + t.parts->exposed_comm + t.parts->bubble).value() ==
        doctest::Approx(t.total.value()).epsilon(1e-9));
  // The same step `tcsim run` reports: the first phase at its final batch.
  CHECK(t.total.value() == simulate_step(s, {}).time.value());
  // A shape the step simulation cannot run names the phase and the batch.
  StepTimeCache cache(o);
  try {
    cache.step_time(0, ph, 3072);  // V3-TR's ramp start; DualPipe: 24 micro-batches per pipeline of 16 stages
    CHECK(false);
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    CHECK(m.find("\"pre-training\" at batch 3072") != std::string::npos);
  }
}

namespace {

// time = a + c x batch^2 seconds: curved on purpose, so interpolation is visible.
StepOracle curved_oracle(int* calls) {
  StepOracle o;
  o.name = "curved";
  o.description = "test oracle: 1 + 1e-6 x batch^2";
  o.stand_in = false;
  o.time = [calls](const scenario::Phase&, std::int64_t batch) {
    ++*calls;
    const double b = static_cast<double>(batch);
    return StepTime(Seconds(1 + 1e-6 * b * b), {Seconds(1e-6 * b * b), Seconds(0.25), Seconds(0.75)});
  };
  return o;
}

}  // namespace

TEST_CASE("the interpolated oracle asks the exact one at the ramp's ends and is linear between them") {
  int calls = 0;
  const StepOracle o = interpolated_oracle(curved_oracle(&calls));
  CHECK(o.name == "curved-interpolated");
  CHECK(!o.stand_in);
  scenario::Phase ph;
  ph.name = "main";
  ph.batch = 2048;
  ph.ramp = scenario::BatchRamp{1024, 500'000'000};
  ph.parallelism.dp = 16;
  ph.parallelism.micro_batch = 1;
  // Ends: 1 + 1e-6 x 1024^2 = 2.048576 s and 1 + 1e-6 x 2048^2 = 5.194304 s.
  CHECK(o.time(ph, 1024).total.value() == doctest::Approx(2.048576));
  CHECK(o.time(ph, 2048).total.value() == doctest::Approx(5.194304));
  // 1536 is half way: (2.048576 + 5.194304) / 2 = 3.62144 s (exact: 3.359296 s).
  const StepTime mid = o.time(ph, 1536);
  CHECK(mid.total.value() == doctest::Approx(3.62144));
  REQUIRE(mid.parts);
  CHECK(mid.parts->compute.value() == doctest::Approx(2.62144));
  CHECK(mid.parts->bubble.value() == doctest::Approx(0.75));
  // A quarter of the way: 2.048576 + (5.194304 - 2.048576) / 4 = 2.835008 s.
  CHECK(o.time(ph, 1280).total.value() == doctest::Approx(2.835008));
  CHECK(calls == 2);  // the two ends, each once
  // Without a ramp every batch goes to the exact oracle.
  ph.ramp.reset();
  CHECK(o.time(ph, 1536).total.value() == doctest::Approx(3.359296));
  CHECK(calls == 3);
}

TEST_CASE("the step simulation is affine in the ramp's batch: interpolation matches it") {
  // Mixtral 8x7B on 64 H100, 1F1B over 4 stages: batches of 16-sequence rounds.
  const scenario::Scenario s = load_small(
      {"hardware.network={topology: fat-tree, nic_bandwidth: 400 Gb/s, nics_per_node: 8, oversubscription: 1, "
       "switch_radix: 64, latency_intra_leaf: 2.8 us, latency_cross_leaf: 3.7 us, latency_nvlink: 3.33 us}"});
  const scenario::Phase& ph = s.training.phases[0];
  const StepOracle exact = step_simulation_oracle(s);
  const StepOracle interpolated = interpolated_oracle(step_simulation_oracle(s));
  for (const std::int64_t b : {1280, 1536, 1792}) {
    CHECK(interpolated.time(ph, b).total.value() == doctest::Approx(exact.time(ph, b).total.value()).epsilon(1e-3));
  }
}
