#include "reports/evaluation.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "reports/accounting.h"
#include "reports/cost_json.h"

namespace tcsim::reports {

Json evaluation_json(const cost::Evaluation& e) {
  Json j = Json::object();
  Json& sc = j.set("scenario", Json::object());
  sc.set("name", e.scenario.name);
  sc.set("file", e.scenario.file);
  sc.set("gpus", scenario::gpu_count(e.scenario));
  sc.set("gpu", e.scenario.hardware.gpu.name);
  j.set("run", run_json(e.run));
  j.set("cost", cost_json(e.ledger, e.scenario.cost));
  j.set("resolved", echo_scenario(e.scenario));
  return j;
}

namespace {

std::string money(std::optional<Dollars> d) { return d ? to_string(*d) : "n/a"; }
std::string signed_money(std::optional<Dollars> d) {
  if (!d) return "n/a";
  return (d->value() >= 0 ? "+" : "-") + to_string(Dollars(std::fabs(d->value())));
}
std::string hours(GpuHours h) { return to_count_string(h.value()) + " GPU-h"; }
std::string signed_hours(GpuHours h) { return (h.value() >= 0 ? "+" : "-") + hours(GpuHours(std::fabs(h.value()))); }
double wall_days(Seconds t) { return t.value() / sim::kSecondsPerDay; }

std::optional<Dollars> rnd_p50(const cost::Evaluation& e) {
  if (!e.ledger.rnd) return std::nullopt;
  return e.ledger.rnd->total.p50;
}

}  // namespace

Json comparison_json(const cost::Evaluation& a, const cost::Evaluation& b) {
  Json j = Json::object();
  j.set("a", evaluation_json(a));
  j.set("b", evaluation_json(b));
  const cost::Difference d = cost::difference(a, b);
  Json& dj = j.set("difference", Json::object());
  dj.set("wall_days", wall_days(d.wall));
  Json& h = dj.set("gpu_hours", Json::object());
  h.set("total", d.gpu_hours.value());
  h.set("compute", d.compute.value());
  h.set("checkpoints", d.checkpoints.value());
  h.set("failures", d.failures.value());
  h.set("measured", d.measured.value());
  if (d.step_compute) {
    Json& in = h.set("inside_steps", Json::object());
    in.set("compute", d.step_compute->value());
    in.set("exposed_comm", d.exposed_comm->value());
    in.set("bubble", d.bubble->value());
  } else {
    h.set("inside_steps", Json());
  }
  Json& f = dj.set("final_run_usd", Json::object());
  f.set("total", d.final_run.value());
  f.set("from_gpu_hours", d.final_run_from_gpu_hours.value());
  f.set("from_rate", d.final_run_from_rate.value());
  if (d.owned) {
    Json& o = dj.set("owned_final_run_usd", Json::object());
    o.set("total", d.owned->value());
    o.set("from_gpu_hours", d.owned_from_gpu_hours->value());
    o.set("from_rate", d.owned_from_rate->value());
  } else {
    dj.set("owned_final_run_usd", Json());
  }
  dj.set("rnd_total_usd_p50", d.rnd_p50 ? Json(d.rnd_p50->value()) : Json());
  Json pending = Json::array();
  if (!d.step_compute) pending.push(std::string(kStepBreakdownPending));
  if (sim::rests_on_stand_in(a.run) || sim::rests_on_stand_in(b.run)) {
    pending.push(fmt::format("step times: stand-in oracle ({} / {}), not the step simulation", a.run.oracle.name,
                             b.run.oracle.name));
  }
  j.set("pending", std::move(pending));
  return j;
}

std::string evaluation_table(const cost::Evaluation& e) {
  const sim::RunResult& r = e.run;
  std::string out = fmt::format("\nRun (step times: {}{})\n", r.oracle.name,
                                rests_on_stand_in(r) ? ", a stand-in: every figure below is a lower bound" : "");
  out += fmt::format("  {:<24}{:>10}{:>9}{:>16}{:>11}  {}\n", "phase", "tokens", "steps", "GPU-hours", "wall days",
                     "source");
  for (const sim::PhaseResult& p : r.phases) {
    const std::string tokens = p.measured ? "-" : to_count_string(static_cast<double>(p.schedule.tokens));
    const std::string steps = p.measured ? "-" : fmt::format("{}", p.schedule.steps);
    out += fmt::format("  {:<24}{:>10}{:>9}{:>16}{:>11.1f}  {}\n", p.name, tokens, steps, hours(p.gpu_hours),
                       wall_days(p.wall), p.measured ? "measured: " + p.source : "simulated");
  }
  out +=
      fmt::format("  {:<24}{:>10}{:>9}{:>16}{:>11.1f}\n", "total", "", "", hours(r.gpu_hours_total), wall_days(r.wall));
  out +=
      fmt::format("  GPU-hours per 1T tokens {} (simulated phases); goodput {:.1f}%; {:.0f} interruptions expected\n",
                  to_count_string(r.gpu_hours_per_trillion_tokens), 100.0 * r.goodput, r.interruptions);
  out += fmt::format("  spread over {} failure histories: GPU-hours p10 {}  p50 {}  p90 {}\n", r.options.trials,
                     hours(r.gpu_hours_mc.p10), hours(r.gpu_hours_mc.p50), hours(r.gpu_hours_mc.p90));
  const cost::Ledger& l = e.ledger;
  out += "\nCost\n";
  if (l.rental.value() > 0) {
    out += fmt::format("  {:<34}{:>14}  at {} ({})\n", "final run, rental", to_string(l.final_run), to_string(l.rental),
                       l.rental_source);
  } else {
    out += fmt::format("  {:<34}{:>14}  the scenario gives no rental rate (cost.rental)\n", "final run, rental",
                       "not given");
  }
  if (l.owned_final_run) {
    const std::string facility =
        l.owned->facility.value() > 0 ? "facility " + to_string(l.owned->facility) : "facility not priced";
    out += fmt::format("  {:<34}{:>14}  at {} (capital {}, energy {}, {})\n", "final run, owned hardware",
                       to_string(*l.owned_final_run), to_string(l.owned->total), to_string(l.owned->capital),
                       to_string(l.owned->energy), facility);
  }
  if (l.rnd) {
    out += fmt::format("  {:<34}{:>14}  p10 {}, p90 {} ({} samples, seed {})\n", "R&D total, median",
                       to_string(l.rnd->total.p50), to_string(l.rnd->total.p10), to_string(l.rnd->total.p90),
                       l.rnd->options.samples, l.rnd->options.seed);
    std::vector<const cost::RndItemResult*> items;
    for (const cost::RndItemResult& i : l.rnd->items) {
      if (i.quantified) items.push_back(&i);
    }
    std::sort(items.begin(), items.end(), [](const auto* x, const auto* y) { return x->share > y->share; });
    out += fmt::format("    {:<50}{:>14}  {:>6}\n",
                       fmt::format("final run at the {} rate (fixed)",
                                   l.rnd->compute_price == scenario::ComputePrice::owned ? "owned" : "rental"),
                       to_string(l.rnd->final_run), fmt::format("{:.1f}%", 100.0 * l.rnd->final_run_share));
    for (const cost::RndItemResult* i : items) {
      out += fmt::format("    {:<50}{:>14}  {:>6}\n", i->name, to_string(i->usd.p50),
                         fmt::format("{:.1f}%", 100.0 * i->share));
    }
    out += "    (item medians; shares of the mean total; tcsim report shows every source)\n";
  }
  out += "\nCost, by what is counted (tcsim report says what each view counts and its evidence)\n";
  for (const cost::AccountingView& v : l.views) {
    const std::string name = fmt::format("{} {}", v.number, v.name);
    if (!v.given) {
      out += fmt::format("  {:<52}  not given: {}\n", name, v.missing);
      continue;
    }
    out += fmt::format("  {:<52}{:>10}{}\n", name, to_string(v.usd.p50),
                       v.spread ? fmt::format("  p10 {}, p90 {}", to_string(v.usd.p10), to_string(v.usd.p90)) : "");
    for (const cost::ViewPart& p : v.parts) {
      if (p.how == "not quantified") continue;
      if (p.role == cost::ViewPart::Role::part && (v.id != "peer" || p.name == "at rental")) continue;
      const std::string label = (p.role == cost::ViewPart::Role::bracket     ? "beside it: "
                                 : p.role == cost::ViewPart::Role::reference ? "for comparison: "
                                                                             : "") +
                                p.name;
      out += fmt::format("    {:<50}{:>10}{}\n", label.size() > 50 ? label.substr(0, 47) + "..." : label,
                         to_string(p.usd.p50), p.spread ? "  median over the period" : "");
    }
  }
  if (!e.scenario.notes.empty()) {
    out += "\nNotes on the inputs\n";
    for (const std::string& n : e.scenario.notes) out += "  " + n + "\n";
  }
  return out;
}

Comparison comparison(const cost::Evaluation& a, const cost::Evaluation& b) {
  const cost::Difference d = cost::difference(a, b);
  const cost::RunSplit sa = cost::run_split(a.run), sb = cost::run_split(b.run);
  Comparison c;
  const auto row = [&c](int depth, std::string label, std::string va, std::string vb, std::string diff = "") {
    c.rows.push_back({std::move(label), std::move(va), std::move(vb), std::move(diff), depth});
  };
  row(0, "GPU", a.scenario.hardware.gpu.name, b.scenario.hardware.gpu.name);
  row(0, "GPUs", fmt::format("{}", scenario::gpu_count(a.scenario)),
      fmt::format("{}", scenario::gpu_count(b.scenario)));
  row(0, "step times from", a.run.oracle.name, b.run.oracle.name);
  row(0, "wall time", fmt::format("{:.1f} days", wall_days(a.run.wall)),
      fmt::format("{:.1f} days", wall_days(b.run.wall)), fmt::format("{:+.1f} days", wall_days(d.wall)));
  row(0, "GPU-hours, total", hours(a.run.gpu_hours_total), hours(b.run.gpu_hours_total), signed_hours(d.gpu_hours));
  row(1, "steps (fault-free)", hours(sa.compute), hours(sb.compute), signed_hours(d.compute));
  const std::optional<cost::StepSplit> pa = cost::step_split(a.run), pb = cost::step_split(b.run);
  if (pa && pb) {
    row(2, "compute", hours(pa->compute), hours(pb->compute), signed_hours(*d.step_compute));
    row(2, "exposed communication", hours(pa->exposed_comm), hours(pb->exposed_comm), signed_hours(*d.exposed_comm));
    row(2, "pipeline bubble", hours(pa->bubble), hours(pb->bubble), signed_hours(*d.bubble));
  }
  row(1, "checkpoint stalls", hours(sa.checkpoints), hours(sb.checkpoints), signed_hours(d.checkpoints));
  row(1, "restarts and lost work", hours(sa.failures), hours(sb.failures), signed_hours(d.failures));
  row(1, "measured phases", hours(sa.measured), hours(sb.measured), signed_hours(d.measured));
  row(0, "rental rate", to_string(a.ledger.rental), to_string(b.ledger.rental));
  row(0, "final run at rental", to_string(a.ledger.final_run), to_string(b.ledger.final_run),
      signed_money(d.final_run));
  row(1, "from GPU-hours (at A's rate)", "", "", signed_money(d.final_run_from_gpu_hours));
  row(1, "from the rate (at B's GPU-hours)", "", "", signed_money(d.final_run_from_rate));
  // Each side's own hardware: the capital per GPU it is priced with.
  const auto capital = [](const cost::Evaluation& e) {
    return e.ledger.owned ? to_string(e.ledger.owned->capital_value) : std::string("not given");
  };
  const auto server = [](const cost::Evaluation& e) {
    if (!e.scenario.cost.owned) return std::string();
    for (const scenario::CapitalItem& it : e.scenario.cost.owned->capital) {
      if (it.catalog) return it.name;
    }
    return e.scenario.cost.owned->capital.empty() ? std::string() : e.scenario.cost.owned->capital.front().name;
  };
  row(0, "owned capital per GPU", capital(a), capital(b));
  row(1, "server", server(a), server(b));
  row(0, "final run on owned hardware", money(a.ledger.owned_final_run), money(b.ledger.owned_final_run),
      signed_money(d.owned));
  if (d.owned) {
    row(1, "from GPU-hours (at A's rate)", "", "", signed_money(d.owned_from_gpu_hours));
    row(1, "from the rate (at B's GPU-hours)", "", "", signed_money(d.owned_from_rate));
  }
  row(0, "R&D total, median", money(rnd_p50(a)), money(rnd_p50(b)), signed_money(d.rnd_p50));
  if (!d.step_compute) c.notes.push_back(fmt::format("within a step: {}", kStepBreakdownPending));
  for (const cost::Evaluation* e : {&a, &b}) {
    if (sim::rests_on_stand_in(e->run)) {
      c.notes.push_back(fmt::format("{} step times: {}", e == &a ? "A" : "B", e->run.oracle.description));
    }
  }
  return c;
}

std::string comparison_table(const cost::Evaluation& a, const cost::Evaluation& b) {
  const Comparison c = comparison(a, b);
  std::string out =
      fmt::format("Compare  A = {} on {} x {} ({})\n         B = {} on {} x {} ({})\n\n", a.scenario.name,
                  scenario::gpu_count(a.scenario), a.scenario.hardware.gpu.name, a.scenario.file, b.scenario.name,
                  scenario::gpu_count(b.scenario), b.scenario.hardware.gpu.name, b.scenario.file);
  const auto line = [&out](std::string_view label, std::string_view va, std::string_view vb, std::string_view diff) {
    out += fmt::format("  {:<34}{:>30}{:>30}{:>20}\n", label, va, vb, diff);
  };
  line("", "A", "B", "B - A");
  for (const ComparisonRow& r : c.rows) {
    line(std::string(static_cast<std::size_t>(r.depth) * 2, ' ') + r.label, r.a, r.b, r.diff);
  }
  out += "\n";
  for (const std::string& n : c.notes) out += "  " + n + "\n";
  return out;
}

}  // namespace tcsim::reports
