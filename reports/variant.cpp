#include "reports/variant.h"

#include <fmt/format.h>

#include "core/error.h"
#include "model/memory.h"
#include "reports/ledger.h"
#include "sim/step.h"

namespace tcsim::reports {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

void fill_step(const scenario::Scenario& s, const VariantOptions& o, VariantResult& r) {
  scenario::Scenario first = s;
  scenario::Phase p = s.training.phases.front();
  p.ramp.reset();
  first.training.phases = {p};
  const sim::StepResult step = sim::simulate_step(first, o.step);
  r.step_s = step.time.value();
  r.tokens_per_s_per_gpu = step.tokens_per_second_per_gpu;
  r.mfu = step.mfu_bf16;
  r.exposed_comm_s = step.breakdown.exposed_comm.value();
  r.bubble_s = step.breakdown.bubble.value();
}

void fill_run(const scenario::Scenario& s, const VariantOptions& o, VariantResult& r) {
  const sim::StepOracle oracle = o.oracle == "peak-flops"
                                     ? sim::peak_flops_oracle(s)
                                     : sim::interpolated_oracle(sim::step_simulation_oracle(s, o.step));
  r.oracle = oracle.name;
  sim::StepTimeCache cache(oracle);
  const sim::RunResult run = sim::simulate_run(s, cache, o.run);
  const Ledger ledger = make_ledger(s, run, o.rnd);
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
