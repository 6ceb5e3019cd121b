#include "study/variant.h"

#include <fmt/format.h>

#include "core/error.h"
#include "cost/ledger.h"
#include "model/memory.h"
#include "sim/step_shape.h"

namespace tcsim::study {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

// The step simulation as the run level's oracle, through the memo.
sim::StepOracle memo_oracle(const scenario::Scenario& s, const sim::StepOptions& o, StepMemo& memo) {
  sim::StepOracle oracle = sim::step_simulation_oracle(s, o);
  oracle.time = [s, o, &memo](const scenario::Phase& phase, std::int64_t batch) {
    return memo.get(sim::step_shape(s, phase, batch), o).time;
  };
  return oracle;
}

void fill_step(const scenario::Scenario& s, const VariantOptions& o, StepMemo& memo, VariantResult& r) {
  const StepFigures f = memo.get(sim::step_shape(s), o.step);
  r.step = f.time.total;
  r.tokens_per_s_per_gpu = f.tokens_per_s_per_gpu;
  r.mfu = f.mfu;
  r.exposed_comm = f.time.parts->exposed_comm;
  r.bubble = f.time.parts->bubble;
}

void fill_run(const scenario::Scenario& s, const VariantOptions& o, StepMemo& memo, VariantResult& r) {
  const sim::StepOracle oracle =
      o.oracle == "peak-flops" ? sim::peak_flops_oracle(s) : sim::interpolated_oracle(memo_oracle(s, o.step, memo));
  r.oracle = oracle.name;
  sim::StepTimeCache cache(oracle);
  const sim::RunResult run = sim::simulate_run(s, cache, o.run);
  const cost::Ledger ledger = cost::make_ledger(s, run, o.rnd);
  r.gpu_hours = run.gpu_hours_total;
  r.wall = run.wall;
  r.final_run = ledger.final_run;
  if (ledger.owned_final_run) r.owned = ledger.owned_final_run;
  if (ledger.rnd) r.rnd_p50 = ledger.rnd->total.p50;
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
  StepMemo memo;
  return evaluate_variant(s, o, memo);
}

VariantResult evaluate_variant(const scenario::Scenario& s, const VariantOptions& o, StepMemo& memo) {
  VariantResult r;
  try {
    const scenario::Phase& first = s.training.phases.front();
    const model::MemoryBudget m = model::memory_per_gpu(s.model, first.parallelism, s.precision, first.seq_len,
                                                        s.hardware.gpu.hbm_capacity, s.memory);
    r.memory = m.total;
    r.capacity = m.capacity;
    if (!m.fits) {
      r.status = VariantStatus::does_not_fit;
      r.reason = fmt::format("memory {:.1f} GiB per GPU > {:.1f} GiB", m.total.value() / kBytesPerGib,
                             m.capacity.value() / kBytesPerGib);
    }
    if (!s.hardware.profile) {
      throw ConfigError(fmt::format("no calibration profile for GPU {} (hardware.calibration)", s.hardware.gpu.name));
    }
    fill_step(s, o, memo, r);
    if (o.depth == RunDepth::run) fill_run(s, o, memo, r);
  } catch (const ConfigError& e) {
    r.status = VariantStatus::invalid;
    r.reason = e.what();
  }
  return r;
}

}  // namespace tcsim::study
