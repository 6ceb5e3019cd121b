#include "cost/evaluation.h"

namespace tcsim::cost {

Evaluation evaluate(const scenario::Scenario& s, const sim::StepOracle& oracle, const EvalOptions& options) {
  Evaluation e;
  e.scenario = s;
  sim::StepTimeCache cache(oracle);
  e.run = sim::simulate_run(s, cache, options.run);
  e.ledger = make_ledger(s, e.run, options.rnd);
  return e;
}

RunSplit run_split(const sim::RunResult& r) {
  RunSplit s;
  for (const sim::PhaseResult& p : r.phases) {
    if (p.measured) {
      s.measured += p.gpu_hours;
      continue;
    }
    s.compute += gpu_hours(p.schedule.compute, p.gpus);
    s.checkpoints += gpu_hours(p.overheads.checkpoints, p.gpus);
    s.failures += gpu_hours(p.overheads.restarts + p.overheads.lost_work, p.gpus);
  }
  return s;
}

std::optional<StepSplit> step_split(const sim::RunResult& run) {
  StepSplit s;
  bool any = false;
  for (const sim::PhaseResult& p : run.phases) {
    if (p.measured) continue;
    if (!p.schedule.parts) return std::nullopt;
    any = true;
    s.compute += gpu_hours(p.schedule.parts->compute, p.gpus);
    s.exposed_comm += gpu_hours(p.schedule.parts->exposed_comm, p.gpus);
    s.bubble += gpu_hours(p.schedule.parts->bubble, p.gpus);
  }
  if (!any) return std::nullopt;
  return s;
}

Difference difference(const Evaluation& a, const Evaluation& b) {
  Difference d;
  const RunSplit sa = run_split(a.run), sb = run_split(b.run);
  d.wall = b.run.wall - a.run.wall;
  d.gpu_hours = b.run.gpu_hours_total - a.run.gpu_hours_total;
  d.compute = sb.compute - sa.compute;
  d.checkpoints = sb.checkpoints - sa.checkpoints;
  d.failures = sb.failures - sa.failures;
  d.measured = sb.measured - sa.measured;
  const Ledger& la = a.ledger;
  const Ledger& lb = b.ledger;
  d.final_run = lb.final_run - la.final_run;
  d.final_run_from_gpu_hours = (lb.gpu_hours - la.gpu_hours) * la.rental;
  d.final_run_from_rate = lb.gpu_hours * (lb.rental - la.rental);
  if (la.owned && lb.owned) {
    d.owned = *lb.owned_final_run - *la.owned_final_run;
    d.owned_from_gpu_hours = (lb.gpu_hours - la.gpu_hours) * la.owned->total;
    d.owned_from_rate = lb.gpu_hours * (lb.owned->total - la.owned->total);
  }
  if (la.rnd && lb.rnd) d.rnd_p50 = lb.rnd->total.p50 - la.rnd->total.p50;
  const std::optional<StepSplit> pa = step_split(a.run), pb = step_split(b.run);
  if (pa && pb) {
    d.step_compute = pb->compute - pa->compute;
    d.exposed_comm = pb->exposed_comm - pa->exposed_comm;
    d.bubble = pb->bubble - pa->bubble;
  }
  return d;
}

}  // namespace tcsim::cost
