#include "reports/variant.h"

#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "cost/ledger.h"
#include "model/memory.h"
#include "reports/accounting.h"
#include "reports/cost_json.h"
#include "sim/step.h"

namespace tcsim::reports {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

// What a sweep row keeps of a simulated step.
struct StepFigures {
  sim::StepTime time{Seconds(0)};
  double tokens_per_s_per_gpu = 0;
  double mfu = 0;
};

// The scenario reduced to one phase at one batch, without a ramp: the only
// scenario a step simulation of that shape sees.
scenario::Scenario step_scenario(const scenario::Scenario& s, const scenario::Phase& phase, std::int64_t batch) {
  scenario::Scenario one = s;
  scenario::Phase p = phase;
  p.batch = batch;
  p.ramp.reset();
  one.training.phases = {p};
  return one;
}

// Everything a step simulation depends on, as text: the resolved scenario of
// that one shape (every field, reports::echo_scenario) without what a step
// never reads (names, reliability, cost), the calibration profile's rates, and
// the step options.
std::string step_key(const scenario::Scenario& shape, const sim::StepOptions& o) {
  scenario::Scenario k = shape;
  k.name.clear();
  k.description.clear();
  k.file.clear();
  k.training.phases.front().name.clear();
  k.training.phases.front().source.clear();
  k.reliability = {};
  k.cost = {};
  std::string key = echo_scenario(k).dump(0);
  if (const auto& p = shape.hardware.profile) {
    key += fmt::format("|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", p->name, p->file, p->sms, p->gemm_bf16.value.value(),
                       p->gemm_fp8.value.value(), p->tile_m, p->tile_n, p->hbm.value.value(),
                       p->attention_forward.value.value(), p->attention_backward.value.value(), p->samples);
    for (const auto* r : {&p->gemm_bf16, &p->gemm_fp8, &p->attention_forward, &p->attention_backward}) {
      key += fmt::format("|{}", r->overhead.value());
    }
    key += fmt::format("|{}", p->hbm.overhead.value());
  }
  const sim::Variation& v = o.variation;
  key += fmt::format("|{}|{}|{}|{}|{}|{}|{}|{}", static_cast<int>(o.fidelity), o.seed, o.transfers_as_flows,
                     v.gpu_spread, v.expert_max_violation, v.routing_samples, v.sample_tokens_per_rank, "v1");
  return key;
}

// Step simulations already run in this process, shared by every thread of a
// sweep: variants that differ only in what a step never reads (prices,
// reliability, other phases) simulate each shape once. A simulation is
// deterministic, so a remembered result is the result.
class StepMemo {
 public:
  StepFigures get(const scenario::Scenario& shape, const sim::StepOptions& o) {
    const std::string key = step_key(shape, o);
    {
      const std::lock_guard lock(mutex_);
      if (const auto it = steps_.find(key); it != steps_.end()) return it->second;
    }
    const sim::StepResult r = sim::simulate_step(shape, o);
    const sim::StepBreakdown& b = r.breakdown;
    StepFigures f;
    f.time = sim::StepTime(r.time,
                           {b.forward + b.backward_input + b.backward_weight + b.optimizer, b.exposed_comm, b.bubble});
    f.tokens_per_s_per_gpu = r.tokens_per_second_per_gpu;
    f.mfu = r.mfu_bf16;
    const std::lock_guard lock(mutex_);
    return steps_.emplace(key, f).first->second;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, StepFigures> steps_;
};

StepMemo& memo() {
  static StepMemo m;
  return m;
}

// The step simulation as the run level's oracle, through the memo.
sim::StepOracle memo_oracle(const scenario::Scenario& s, const sim::StepOptions& o) {
  sim::StepOracle oracle = sim::step_simulation_oracle(s, o);
  oracle.time = [s, o](const scenario::Phase& phase, std::int64_t batch) {
    return memo().get(step_scenario(s, phase, batch), o).time;
  };
  return oracle;
}

void fill_step(const scenario::Scenario& s, const VariantOptions& o, VariantResult& r) {
  const scenario::Phase& first = s.training.phases.front();
  const StepFigures f = memo().get(step_scenario(s, first, first.batch), o.step);
  r.step_s = f.time.total.value();
  r.tokens_per_s_per_gpu = f.tokens_per_s_per_gpu;
  r.mfu = f.mfu;
  r.exposed_comm_s = f.time.parts->exposed_comm.value();
  r.bubble_s = f.time.parts->bubble.value();
}

void fill_run(const scenario::Scenario& s, const VariantOptions& o, VariantResult& r) {
  const sim::StepOracle oracle =
      o.oracle == "peak-flops" ? sim::peak_flops_oracle(s) : sim::interpolated_oracle(memo_oracle(s, o.step));
  r.oracle = oracle.name;
  sim::StepTimeCache cache(oracle);
  const sim::RunResult run = sim::simulate_run(s, cache, o.run);
  const cost::Ledger ledger = cost::make_ledger(s, run, o.rnd);
  r.gpu_hours = run.gpu_hours_total.value();
  r.wall_days = run.wall.value() / sim::kSecondsPerDay;
  r.final_run_usd = ledger.final_run.value();
  if (ledger.owned_final_run) r.owned_usd = ledger.owned_final_run->value();
  if (ledger.rnd) r.rnd_p50_usd = ledger.rnd->total.p50.value();
}

}  // namespace

std::string_view status_name(VariantStatus s) {
  switch (s) {
    case VariantStatus::ok: return "ok";
    case VariantStatus::does_not_fit: return "does-not-fit";
    case VariantStatus::invalid: return "invalid";
  }
  return "?";
}

VariantResult evaluate_variant(const scenario::Scenario& s, const VariantOptions& o) {
  VariantResult r;
  try {
    const scenario::Phase& first = s.training.phases.front();
    const model::MemoryBudget m =
        model::memory_per_gpu(s.model, first.parallelism, s.precision, first.seq_len, s.hardware.gpu.hbm_capacity);
    r.memory_gib = m.total.value() / kBytesPerGib;
    r.capacity_gib = m.capacity.value() / kBytesPerGib;
    if (!m.fits) {
      r.status = VariantStatus::does_not_fit;
      r.reason = fmt::format("memory {:.1f} GiB per GPU > {:.1f} GiB", r.memory_gib, r.capacity_gib);
    }
    if (!s.hardware.profile) {
      throw ConfigError(fmt::format("no calibration profile for GPU {} (hardware.calibration)", s.hardware.gpu.name));
    }
    fill_step(s, o, r);
    if (o.depth == RunDepth::run) fill_run(s, o, r);
  } catch (const ConfigError& e) {
    r.status = VariantStatus::invalid;
    r.reason = e.what();
  }
  return r;
}

}  // namespace tcsim::reports
