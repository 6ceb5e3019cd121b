#include "sim/run_level.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "core/error.h"
#include "model/names.h"
#include "model/ops.h"
#include "model/params.h"
#include "model/schedule.h"
#include "scenarios/rules.h"
#include "sim/step.h"

namespace tcsim::sim {

using scenario::Phase;
using scenario::Scenario;

StepOracle peak_flops_oracle(const Scenario& s) {
  const bool fp8 = s.precision.gemm == model::Dtype::fp8;
  const FlopsPerSecond peak = fp8 ? s.hardware.gpu.fp8_dense : s.hardware.gpu.bf16_dense;
  const double gpus = scenario::gpu_count(s);
  StepOracle o;
  o.name = "peak-flops";
  o.description = fmt::format(
      "stand-in, a lower bound: every training FLOP of the step (model accounting, causal attention, MTP included) "
      "at the {} dense peak of {} ({}) on all {} GPUs; no communication, no bubble, no memory traffic",
      fp8 ? "FP8" : "BF16", s.hardware.gpu.name, to_string(peak), scenario::gpu_count(s));
  o.stand_in = true;
  o.time = [m = s.model, peak, gpus](const Phase& phase, std::int64_t batch) {
    const Flops per_token = model::train_flops_per_token(m, phase.seq_len, model::AttentionFlops::causal);
    const Flops step = per_token * (static_cast<double>(batch) * phase.seq_len);
    return step / (peak * gpus);
  };
  return o;
}

StepOracle step_simulation_oracle(const Scenario& s, const StepOptions& options,
                                  std::shared_ptr<hw::TopologyCache> distances) {
  if (!distances) distances = std::make_shared<hw::TopologyCache>();
  StepOracle o;
  o.name = "step-simulation";
  o.description =
      fmt::format("the discrete-event step simulation ({} fidelity, seed {}), run once per distinct (phase, batch)",
                  options.fidelity == Fidelity::full ? "full" : "symmetric", options.seed);
  o.stand_in = false;
  o.time = [s, options, distances](const Phase& phase, std::int64_t batch) {
    // A batch the loader never saw (any batch a caller asks for) meets the same rules.
    Phase at = phase;
    at.batch = batch;
    at.ramp.reset();
    const std::vector<scenario::RuleBreak> breaks = scenario::plan_breaks(
        s, at.parallelism, scenario::gpu_count(s), {"training.phases[0].parallelism", &at, "training.phases[0]"});
    if (!breaks.empty()) throw ConfigError(breaks.front().message);
    const StepResult r = simulate_step(step_shape(s, phase, batch), options, distances.get());
    const StepBreakdown& b = r.breakdown;
    return StepTime(r.time, {b.forward + b.backward_input + b.backward_weight + b.optimizer, b.exposed_comm, b.bubble});
  };
  return o;
}

StepOracle interpolated_oracle(StepOracle exact) {
  StepOracle o;
  o.name = exact.name + "-interpolated";
  o.description =
      exact.description + "; within a batch ramp, run at the ramp's two ends and interpolated linearly in the batch";
  o.stand_in = exact.stand_in;
  // Exact times by (phase name, batch): the ends of each ramp, shared by every
  // step of the ramp.
  auto known = std::make_shared<std::map<std::pair<std::string, std::int64_t>, StepTime>>();
  o.time = [exact = std::move(exact.time), known](const Phase& phase, std::int64_t batch) -> StepTime {
    const auto at = [&](std::int64_t b) {
      const auto key = std::make_pair(phase.name, b);
      if (const auto it = known->find(key); it != known->end()) return it->second;
      return known->emplace(key, exact(phase, b)).first->second;
    };
    if (!phase.ramp) return exact(phase, batch);
    const std::int64_t lo = ramp_batch(phase, 0);
    const std::int64_t hi = phase.batch;
    if (batch == lo || batch == hi || lo == hi) return at(batch);
    const StepTime a = at(lo);
    const StepTime b = at(hi);
    const double w = static_cast<double>(batch - lo) / static_cast<double>(hi - lo);
    const auto lerp = [w](Seconds x, Seconds y) { return x + (y - x) * w; };
    if (a.parts && b.parts) {
      return StepTime(lerp(a.total, b.total),
                      {lerp(a.parts->compute, b.parts->compute), lerp(a.parts->exposed_comm, b.parts->exposed_comm),
                       lerp(a.parts->bubble, b.parts->bubble)});
    }
    return StepTime(lerp(a.total, b.total));
  };
  return o;
}

StepTime StepTimeCache::step_time(std::size_t phase_index, const Phase& phase, std::int64_t batch) {
  const auto key = std::make_pair(phase_index, batch);
  if (const auto it = times_.find(key); it != times_.end()) return it->second;
  StepTime t(Seconds(0));
  try {
    t = oracle_.time(phase, batch);
  } catch (const ConfigError& e) {
    throw ConfigError(
        fmt::format("{} cannot time phase \"{}\" at batch {}: {}", oracle_.name, phase.name, batch, e.what()));
  }
  times_.emplace(key, t);
  return t;
}

std::int64_t ramp_granule(const Phase& phase) {
  const model::ParallelPlan& p = phase.parallelism;
  const std::int64_t round = static_cast<std::int64_t>(p.dp) * p.micro_batch;
  return round * model::pipeline_schedule(p.schedule).micro_batch_granule(p.pp, p.virtual_stages);
}

std::int64_t ramp_batch(const Phase& phase, std::int64_t tokens_done) {
  if (!phase.ramp) return phase.batch;
  const scenario::BatchRamp& r = *phase.ramp;
  const std::int64_t g = ramp_granule(phase);
  const double frac = std::min(static_cast<double>(tokens_done) / static_cast<double>(r.over_tokens), 1.0);
  const double target = static_cast<double>(r.from) + static_cast<double>(phase.batch - r.from) * frac;
  const std::int64_t rounded = std::llround(target / static_cast<double>(g)) * g;
  return std::clamp(rounded, r.from, phase.batch);
}

PhaseSchedule schedule_phase(std::size_t phase_index, const Phase& phase, StepTimeCache& cache) {
  PhaseSchedule sc;
  const std::int64_t seq = phase.seq_len;
  const bool by_tokens = phase.tokens > 0;
  const auto more = [&] { return by_tokens ? sc.tokens < phase.tokens : sc.steps < phase.steps; };
  // `n` steps at batch `b`.
  bool all_parts = true;
  StepParts parts;
  const auto run = [&](std::int64_t b, std::int64_t n) {
    const StepTime st = cache.step_time(phase_index, phase, b);
    const Seconds t = st.total;
    if (sc.steps == 0) {
      sc.first_batch = b;
      sc.first_step = t;
    }
    sc.last_batch = b;
    sc.last_step = t;
    sc.steps += n;
    sc.tokens += n * b * seq;
    const double k = static_cast<double>(n);
    sc.compute += t * k;
    if (st.parts) {
      parts.compute += st.parts->compute * k;
      parts.exposed_comm += st.parts->exposed_comm * k;
      parts.bubble += st.parts->bubble * k;
    } else {
      all_parts = false;
    }
  };
  // The ramp, step by step: each step's batch depends on the tokens before it.
  if (phase.ramp) {
    while (more() && sc.tokens < phase.ramp->over_tokens) run(ramp_batch(phase, sc.tokens), 1);
  }
  // The rest at the phase batch, in closed form.
  if (more()) {
    const std::int64_t per_step = phase.batch * seq;
    const std::int64_t n = by_tokens ? (phase.tokens - sc.tokens + per_step - 1) / per_step : phase.steps - sc.steps;
    run(phase.batch, n);
  }
  if (all_parts && sc.steps > 0) sc.parts = parts;
  return sc;
}

Bytes checkpoint_bytes(const Scenario& s) {
  const model::ParamCounts p = model::count_params(s.model);
  const double params = static_cast<double>(p.total + p.mtp);
  const double per_param =
      model::dtype_bytes(s.precision.master_weights) + 2.0 * model::dtype_bytes(s.precision.optimizer_states);
  return Bytes(params * per_param);
}

Seconds young_daly_interval(Seconds checkpoint_time, Seconds job_mtbf) {
  return Seconds(std::sqrt(2.0 * checkpoint_time.value() * job_mtbf.value()));
}

ReliabilityModel reliability_model(const Scenario& s) {
  const scenario::ReliabilitySpec& spec = s.reliability;
  ReliabilityModel r;
  if (spec.mtbf_per_gpu.value() > 0) r.job_mtbf = spec.mtbf_per_gpu / scenario::gpu_count(s);
  r.restart = spec.restart_time;
  r.checkpoint_size = checkpoint_bytes(s);
  if (spec.checkpoint_bandwidth.value() > 0) r.checkpoint_time = r.checkpoint_size / spec.checkpoint_bandwidth;
  r.young_daly = spec.checkpoint_young_daly;
  r.interval = r.young_daly ? young_daly_interval(r.checkpoint_time, r.job_mtbf) : spec.checkpoint_interval;
  return r;
}

namespace {

// Running `work` seconds without failure: the work plus a checkpoint after
// every full interval and after the last piece.
double run_time(double work, const ReliabilityModel& r) {
  const double tau = r.interval.value();
  const double n = tau > 0 ? std::ceil(work / tau) : 0.0;
  return work + n * r.checkpoint_time.value();
}

void require_progress(const ReliabilityModel& r) {
  const double lost = (r.interval.value() + r.checkpoint_time.value()) / 2;
  if (r.job_mtbf.value() > 0 && lost >= r.job_mtbf.value()) {
    throw ConfigError(fmt::format(
        "reliability: the job is interrupted every {} on average and loses {} of work each time (half a checkpoint "
        "period): it cannot make progress; shorten checkpoint_interval or raise checkpoint_bandwidth",
        to_string(r.job_mtbf), to_string(Seconds(lost))));
  }
}

}  // namespace

PhaseOverheads expected_overheads(Seconds compute, const ReliabilityModel& r) {
  PhaseOverheads o;
  if (!(compute.value() > 0)) return o;
  const double base = run_time(compute.value(), r);
  o.checkpoints = Seconds(base - compute.value());
  o.wall = Seconds(base);
  if (!(r.job_mtbf.value() > 0)) return o;
  require_progress(r);
  const double rate = 1.0 / r.job_mtbf.value();
  const double lost = (r.interval.value() + r.checkpoint_time.value()) / 2;
  o.interruptions = rate * base / (1.0 - rate * lost);
  o.restarts = r.restart * o.interruptions;
  o.lost_work = Seconds(lost * o.interruptions);
  o.wall = Seconds(base) + o.restarts + o.lost_work;
  return o;
}

Seconds sample_wall(Seconds compute, const ReliabilityModel& r, Rng& rng, int& interruptions) {
  double work = compute.value();
  if (!(work > 0)) return Seconds(0);
  if (!(r.job_mtbf.value() > 0)) return Seconds(run_time(work, r));
  require_progress(r);
  const double tau = r.interval.value();
  const double segment = tau + r.checkpoint_time.value();  // work, then its checkpoint
  double wall = 0;
  // Each pass draws the running time to the next failure (memoryless, so a
  // fresh draw after each restart). A failure keeps the segments whose
  // checkpoint completed and loses the rest.
  for (;;) {
    const double failure = rng.exponential(r.job_mtbf.value());
    const double finish = run_time(work, r);
    if (failure >= finish) return Seconds(wall + finish);
    const double saved_segments = std::floor(failure / segment);
    work -= saved_segments * tau;
    wall += failure + r.restart.value();
    // Far beyond any real run (Llama 3: 419 in 54 days); guards against inputs
    // that progress, but too slowly to simulate failure by failure.
    constexpr int kMaxInterruptions = 10'000'000;
    if (++interruptions > kMaxInterruptions) {
      throw ConfigError(
          fmt::format("reliability: more than {} interruptions in one run; the job barely progresses "
                      "(interrupted every {}, {} lost each time)",
                      kMaxInterruptions, to_string(r.job_mtbf), to_string(Seconds(segment / 2))));
    }
  }
}

RunResult simulate_run(const Scenario& s, StepTimeCache& cache, const RunOptions& options) {
  RunResult res;
  res.oracle = cache.oracle();
  res.oracle.time = nullptr;
  res.options = options;
  res.reliability = reliability_model(s);
  const int gpus = scenario::gpu_count(s);

  Seconds compute_total;
  Seconds simulated_wall;
  GpuHours simulated_gpu_hours;
  double simulated_tokens = 0;
  Seconds lost;
  for (std::size_t i = 0; i < s.training.phases.size(); ++i) {
    const Phase& ph = s.training.phases[i];
    PhaseResult pr;
    pr.name = ph.name;
    pr.source = ph.source;
    pr.gpus = gpus;
    if (ph.measured_gpu_hours) {
      pr.measured = true;
      pr.gpu_hours = *ph.measured_gpu_hours;
      pr.wall = Seconds(pr.gpu_hours.value() * kSecondsPerHour / gpus);
    } else {
      ++res.simulated_phases;
      const std::size_t before = cache.shapes();
      pr.schedule = schedule_phase(i, ph, cache);
      pr.shapes = cache.shapes() - before;
      pr.overheads = expected_overheads(pr.schedule.compute, res.reliability);
      pr.wall = pr.overheads.wall;
      pr.gpu_hours = gpu_hours(pr.wall, gpus);
      compute_total += pr.schedule.compute;
      simulated_wall += pr.wall;
      simulated_gpu_hours += pr.gpu_hours;
      simulated_tokens += static_cast<double>(pr.schedule.tokens);
      res.interruptions += pr.overheads.interruptions;
      lost += pr.overheads.restarts + pr.overheads.lost_work;
    }
    res.gpu_hours_total += pr.gpu_hours;
    res.wall += pr.wall;
    res.phases.push_back(std::move(pr));
  }
  res.shapes = cache.shapes();
  if (simulated_wall.value() > 0) res.goodput = compute_total / simulated_wall;
  if (simulated_tokens > 0) res.gpu_hours_per_trillion_tokens = simulated_gpu_hours.value() / simulated_tokens * 1e12;
  res.gpu_hours_lost = gpu_hours(lost, gpus);

  // Interruptions by cause: the log's split of the expected totals.
  if (const auto& log = s.reliability.log) {
    double total = 0;
    for (const scenario::InterruptionCause& c : log->causes) total += c.interruptions;
    for (const scenario::InterruptionCause& c : log->causes) {
      const double share = c.interruptions / total;
      res.causes.push_back({c.name, c.source, share, share * res.interruptions, res.gpu_hours_lost * share});
    }
  } else if (res.reliability.job_mtbf.value() > 0) {
    res.causes.push_back({"all causes", "reliability.mtbf_per_gpu", 1.0, res.interruptions, res.gpu_hours_lost});
  }

  // Monte Carlo over failure histories.
  Rng rng(options.seed);
  std::vector<double> walls, hours, goodputs, counts;
  for (int t = 0; t < options.trials; ++t) {
    double wall = 0;
    double sim_wall = 0;
    int n = 0;
    for (const PhaseResult& pr : res.phases) {
      if (pr.measured) {
        wall += pr.wall.value();
      } else {
        const double w = sample_wall(pr.schedule.compute, res.reliability, rng, n).value();
        wall += w;
        sim_wall += w;
      }
    }
    walls.push_back(wall);
    hours.push_back(wall * gpus / kSecondsPerHour);
    goodputs.push_back(sim_wall > 0 ? compute_total.value() / sim_wall : 1.0);
    counts.push_back(n);
  }
  res.wall_mc = spread_of<Seconds>(walls);
  res.gpu_hours_mc = spread_of<GpuHours>(hours);
  res.goodput_mc = spread_of<double>(goodputs);
  res.interruptions_mc = spread_of<double>(counts);
  return res;
}

}  // namespace tcsim::sim
