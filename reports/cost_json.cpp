#include "reports/cost_json.h"

#include <cmath>
#include <span>
#include <type_traits>

#include "core/named.h"

namespace tcsim::reports {

using scenario::CostSpec;
using scenario::OwnershipSpec;

namespace {

constexpr double kJoulesPerMwh = 3.6e9;  // 1 MWh = 10^6 W x 3600 s

template <class E, std::size_t N>
std::string_view nm(const std::array<Named<E>, N>& table, E value) {
  return name_of(std::span<const Named<E>>(table), value);
}

template <class Q>
Json spread_json(const Spread<Q>& s, double scale = 1.0) {
  const auto v = [&](Q q) {
    if constexpr (std::is_same_v<Q, double>) {
      return q * scale;
    } else {
      return q.value() * scale;
    }
  };
  Json j = Json::object();
  j.set("p10", v(s.p10));
  j.set("p50", v(s.p50));
  j.set("p90", v(s.p90));
  j.set("mean", v(s.mean));
  return j;
}

double days(Seconds t) { return t.value() / sim::kSecondsPerDay; }

template <class Q>
Json distribution_json(const scenario::Distribution<Q>& d) {
  const auto v = [](Q q) {
    if constexpr (std::is_same_v<Q, double>) {
      return q;
    } else {
      return q.value();
    }
  };
  Json j = Json::object();
  j.set("dist", nm(scenario::kDistNames, d.kind));
  switch (d.kind) {
    case scenario::DistKind::fixed: j.set("value", v(d.value)); break;
    case scenario::DistKind::uniform:
      j.set("low", v(d.low));
      j.set("high", v(d.high));
      break;
    case scenario::DistKind::triangular:
      j.set("low", v(d.low));
      j.set("mode", v(d.mode));
      j.set("high", v(d.high));
      break;
    case scenario::DistKind::lognormal:
      if (d.has_p5) j.set("p5", v(d.p5));
      if (d.has_median) j.set("median", v(d.median));
      if (d.has_p95) j.set("p95", v(d.p95));
      break;
  }
  return j;
}

}  // namespace

Json run_json(const sim::RunResult& run) {
  Json j = Json::object();
  Json& o = j.set("step_oracle", Json::object());
  o.set("name", run.oracle.name);
  o.set("description", run.oracle.description);
  o.set("stand_in", run.oracle.stand_in);
  o.set("used", run.simulated_phases > 0);  // false when every phase is a measured figure
  Json phases = Json::array();
  for (const sim::PhaseResult& p : run.phases) {
    Json ph = Json::object();
    ph.set("name", p.name);
    ph.set("tokens", p.schedule.tokens);
    ph.set("steps", p.schedule.steps);
    ph.set("gpu_hours", p.gpu_hours.value());
    ph.set("wall_days", days(p.wall));
    ph.set("measured", p.measured);
    ph.set("source", p.measured ? p.source : run.oracle.name + " step times; " + p.source);
    ph.set("gpus", p.gpus);
    if (!p.measured) {
      ph.set("batch_first", p.schedule.first_batch);
      ph.set("batch_last", p.schedule.last_batch);
      ph.set("step_time_first_s", p.schedule.first_step.value());
      ph.set("step_time_last_s", p.schedule.last_step.value());
      ph.set("distinct_step_shapes", static_cast<std::int64_t>(p.shapes));
      ph.set("compute_days", days(p.schedule.compute));
      ph.set("checkpoint_days", days(p.overheads.checkpoints));
      ph.set("restart_days", days(p.overheads.restarts));
      ph.set("lost_work_days", days(p.overheads.lost_work));
      ph.set("interruptions", p.overheads.interruptions);
      if (const auto& parts = p.schedule.parts) {
        Json& b = ph.set("step_breakdown_gpu_hours", Json::object());
        b.set("compute", gpu_hours(parts->compute, p.gpus).value());
        b.set("exposed_comm", gpu_hours(parts->exposed_comm, p.gpus).value());
        b.set("bubble", gpu_hours(parts->bubble, p.gpus).value());
      }
      if (p.schedule.tokens > 0) {
        ph.set("gpu_hours_per_trillion_tokens", p.gpu_hours.value() / static_cast<double>(p.schedule.tokens) * 1e12);
      }
    }
    phases.push(std::move(ph));
  }
  j.set("phases", std::move(phases));
  j.set("gpu_hours_total", run.gpu_hours_total.value());
  j.set("gpu_hours_per_trillion_tokens", run.gpu_hours_per_trillion_tokens);
  j.set("wall_days", days(run.wall));
  j.set("goodput", run.goodput);
  j.set("interruptions", run.interruptions);
  j.set("gpu_hours_lost", run.gpu_hours_lost.value());
  j.set("distinct_step_shapes", static_cast<std::int64_t>(run.shapes));

  const sim::ReliabilityModel& r = run.reliability;
  Json& rel = j.set("reliability", Json::object());
  rel.set("job_mtbf_h", r.job_mtbf.value() / kSecondsPerHour);
  rel.set("restart_s", r.restart.value());
  rel.set("checkpoint_bytes", r.checkpoint_size.value());
  rel.set("checkpoint_time_s", r.checkpoint_time.value());
  rel.set("checkpoint_interval_s", r.interval.value());
  rel.set("checkpoint_policy", r.young_daly ? "young-daly" : r.interval.value() > 0 ? "given" : "none");
  Json causes = Json::array();
  for (const sim::CauseResult& c : run.causes) {
    Json cj = Json::object();
    cj.set("name", c.name);
    cj.set("share", c.share);
    cj.set("interruptions", c.interruptions);
    cj.set("gpu_hours_lost", c.gpu_hours_lost.value());
    cj.set("source", c.source);
    causes.push(std::move(cj));
  }
  rel.set("causes", std::move(causes));

  Json& mc = j.set("monte_carlo", Json::object());
  mc.set("trials", run.options.trials);
  mc.set("seed", static_cast<std::int64_t>(run.options.seed));
  mc.set("wall_days", spread_json(run.wall_mc, 1.0 / sim::kSecondsPerDay));
  mc.set("gpu_hours_total", spread_json(run.gpu_hours_mc));
  mc.set("goodput", spread_json(run.goodput_mc));
  mc.set("interruptions", spread_json(run.interruptions_mc));
  return j;
}

// A figure: a number when exact, {p10, p50, p90, mean} when a distribution.
Json figure_json(const Spread<Dollars>& usd, bool spread) { return spread ? spread_json(usd) : Json(usd.p50.value()); }

std::string_view role_name(cost::ViewPart::Role r) {
  switch (r) {
    case cost::ViewPart::Role::part: return "part";
    case cost::ViewPart::Role::bracket: return "bracket";
    case cost::ViewPart::Role::reference: return "reference";
  }
  return "part";
}

Json views_json(const std::vector<cost::AccountingView>& views) {
  Json out = Json::array();
  for (const cost::AccountingView& v : views) {
    Json vj = Json::object();
    vj.set("number", v.number);
    vj.set("id", v.id);
    vj.set("name", v.name);
    vj.set("given", v.given);
    if (!v.given) {
      vj.set("missing", v.missing);
      out.push(std::move(vj));
      continue;
    }
    vj.set("counts", v.counts);
    vj.set("usd", figure_json(v.usd, v.spread));
    Json sources = Json::array();
    for (const std::string& src : v.sources) sources.push(Json(src));
    vj.set("sources", std::move(sources));
    Json parts = Json::array();
    for (const cost::ViewPart& p : v.parts) {
      Json pj = Json::object();
      pj.set("name", p.name);
      pj.set("role", role_name(p.role));
      pj.set("usd", p.how == "not quantified" ? Json() : figure_json(p.usd, p.spread));
      if (!p.how.empty()) pj.set("how", p.how);
      if (!p.source.empty()) pj.set("source", p.source);
      if (!p.tag.empty()) pj.set("tag", p.tag);
      parts.push(std::move(pj));
    }
    vj.set("parts", std::move(parts));
    out.push(std::move(vj));
  }
  return out;
}

Json cost_json(const cost::Ledger& l, const CostSpec& spec) {
  Json j = Json::object();
  j.set("rental_usd_per_gpu_hour", l.rental.value());
  j.set("rental_source", l.rental_source);
  j.set("gpu_hours", l.gpu_hours.value());
  j.set("final_run_usd", l.final_run.value());
  Json phases = Json::array();
  for (const cost::PhaseCost& p : l.phases) {
    Json pj = Json::object();
    pj.set("name", p.name);
    pj.set("gpu_hours", p.gpu_hours.value());
    pj.set("rental_usd", p.rental.value());
    pj.set("owned_usd", p.owned ? Json(p.owned->value()) : Json());
    phases.push(std::move(pj));
  }
  j.set("phases", std::move(phases));
  j.set("owned_final_run_usd", l.owned_final_run ? Json(l.owned_final_run->value()) : Json());
  if (l.owned && spec.owned) {
    const OwnershipSpec& o = *spec.owned;
    Json& oj = j.set("owned", Json::object());
    Json& rate = oj.set("usd_per_gpu_hour", Json::object());
    rate.set("capital", l.owned->capital.value());
    rate.set("energy", l.owned->energy.value());
    rate.set("facility", l.owned->facility.value());
    rate.set("total", l.owned->total.value());
    oj.set("capital_value_per_gpu_usd", l.owned->capital_value.value());
    oj.set("depreciation", nm(scenario::kDepreciationNames, o.depreciation));
    oj.set("average_power_per_gpu_w", l.owned->power.value());
    oj.set("energy_mwh", l.energy->value() / kJoulesPerMwh);
    Json& parts = oj.set("final_run_usd", Json::object());
    parts.set("capital", (l.gpu_hours * l.owned->capital).value());
    parts.set("energy", (l.gpu_hours * l.owned->energy).value());
    parts.set("facility", (l.gpu_hours * l.owned->facility).value());
  }
  if (l.rnd) {
    const cost::RndResult& r = *l.rnd;
    j.set("rnd_total_usd", spread_json(r.total));
    Json& rj = j.set("rnd", Json::object());
    rj.set("compute_price", nm(scenario::kComputePriceNames, r.compute_price));
    rj.set("compute_usd_per_gpu_hour", r.compute_rate.value());
    rj.set("samples", r.options.samples);
    rj.set("seed", static_cast<std::int64_t>(r.options.seed));
    rj.set("final_run_usd", r.final_run.value());
    rj.set("final_run_share", r.final_run_share);
    Json items = Json::array();
    for (const cost::RndItemResult& it : r.items) {
      Json ij = Json::object();
      ij.set("name", it.name);
      ij.set("kind", nm(scenario::kRndKindNames, it.kind));
      ij.set("quantified", it.quantified);
      ij.set("usd", spread_json(it.usd));
      ij.set("share", it.share);
      if (it.mean_gpu_hours.value() > 0) ij.set("gpu_hours_mean", it.mean_gpu_hours.value());
      ij.set("tag", nm(scenario::kSourceTagNames, it.tag));
      ij.set("source", it.source);
      if (!it.note.empty()) ij.set("note", it.note);
      items.push(std::move(ij));
    }
    rj.set("items", std::move(items));
    Json sens = Json::array();
    for (const cost::Sensitivity& x : r.sensitivity) {
      Json sj = Json::object();
      sj.set("name", x.name);
      sj.set("item", x.item);
      sj.set("input", x.input);
      sj.set("input_p10", x.input_p10);
      sj.set("input_p90", x.input_p90);
      sj.set("total_p50_at_item_p10_usd", x.total_at_p10.value());
      sj.set("total_p50_at_item_p90_usd", x.total_at_p90.value());
      sens.push(std::move(sj));
    }
    rj.set("sensitivity", std::move(sens));
  } else {
    j.set("rnd_total_usd", Json());
  }
  j.set("views", views_json(l.views));
  return j;
}

Json reliability_spec_json(const scenario::ReliabilitySpec& r) {
  Json j = Json::object();
  j.set("mtbf_per_gpu_s", r.mtbf_per_gpu.value());
  if (r.log) {
    Json& lj = j.set("interruption_log", Json::object());
    lj.set("gpus", r.log->gpus);
    lj.set("window_s", r.log->window.value());
    lj.set("source", r.log->source);
    Json causes = Json::array();
    for (const scenario::InterruptionCause& c : r.log->causes) {
      Json cj = Json::object();
      cj.set("name", c.name);
      cj.set("interruptions", c.interruptions);
      cj.set("source", c.source);
      causes.push(std::move(cj));
    }
    lj.set("causes", std::move(causes));
  }
  j.set("restart_time_s", r.restart_time.value());
  if (r.checkpoint_young_daly) {
    j.set("checkpoint_interval", "young-daly");
  } else {
    j.set("checkpoint_interval_s", r.checkpoint_interval.value());
  }
  j.set("checkpoint_bandwidth_bytes_per_s", r.checkpoint_bandwidth.value());
  j.set("source", r.source);
  return j;
}

Json cost_spec_json(const CostSpec& c) {
  Json j = Json::object();
  j.set("rental_usd_per_gpu_hour", c.rental.value());
  j.set("rental_source", c.rental_source);
  if (c.owned) {
    const OwnershipSpec& o = *c.owned;
    Json& oj = j.set("owned", Json::object());
    Json capital = Json::array();
    for (const scenario::CapitalItem& it : o.capital) {
      Json cj = Json::object();
      cj.set("name", it.name);
      cj.set("per_gpu_usd", it.per_gpu.value());
      cj.set("source", it.source);
      cj.set("tag", nm(scenario::kSourceTagNames, it.tag));
      capital.push(std::move(cj));
    }
    oj.set("capital", std::move(capital));
    oj.set("depreciation", nm(scenario::kDepreciationNames, o.depreciation));
    oj.set("depreciation_ooms_per_year", o.depreciation_ooms_per_year);
    oj.set("lifetime_s", o.lifetime.value());
    oj.set("energy_price_usd_per_kwh", o.energy_price.value());
    oj.set("energy_price_source", o.energy_price_source);
    oj.set("power_fraction", o.power_fraction);
    oj.set("pue", o.pue);
    oj.set("server_power_factor", o.server_power_factor);
    oj.set("power_source", o.power_source);
    oj.set("facility_usd_per_gpu_hour", o.facility.value());
    oj.set("facility_source", o.facility_source);
  }
  if (c.rnd) {
    Json& rj = j.set("rnd", Json::object());
    rj.set("compute_price", nm(scenario::kComputePriceNames, c.rnd->compute_price));
    Json items = Json::array();
    for (const scenario::RndItem& it : c.rnd->items) {
      Json ij = Json::object();
      ij.set("name", it.name);
      ij.set("kind", nm(scenario::kRndKindNames, it.kind));
      ij.set("quantified", it.quantified);
      if (it.quantified) {
        switch (it.kind) {
          case scenario::RndKind::dollars: ij.set("amount_usd", distribution_json(it.dollars)); break;
          case scenario::RndKind::gpu_hours: ij.set("amount_gpu_hours", distribution_json(it.gpu_hours)); break;
          case scenario::RndKind::final_run_multiple:
          case scenario::RndKind::development_compute_ratio: ij.set("ratio", distribution_json(it.ratio)); break;
          case scenario::RndKind::staff:
            ij.set("headcount", distribution_json(it.headcount));
            ij.set("compensation_usd_per_year", distribution_json(it.compensation));
            ij.set("fte_share", distribution_json(it.fte_share));
            ij.set("overhead", distribution_json(it.overhead));
            ij.set("duration_s", distribution_json(it.duration));
            break;
          case scenario::RndKind::fleet:
            ij.set("gpus", distribution_json(it.gpus));
            ij.set("duration_s", distribution_json(it.duration));
            break;
        }
      }
      ij.set("tag", nm(scenario::kSourceTagNames, it.tag));
      ij.set("source", it.source);
      if (!it.note.empty()) ij.set("note", it.note);
      items.push(std::move(ij));
    }
    rj.set("items", std::move(items));
  }
  if (c.headline) {
    Json& hj = j.set("headline", Json::object());
    hj.set("gpu_hours", c.headline->gpu_hours.value());
    hj.set("rental_usd_per_gpu_hour", c.headline->rental.value());
    hj.set("usd", c.headline->usd ? Json(c.headline->usd->value()) : Json());
    hj.set("source", c.headline->source);
  }
  if (c.company) {
    Json& cj = j.set("company", Json::object());
    cj.set("period_s", distribution_json(c.company->period));
    cj.set("period_source", c.company->period_source);
    Json fleet = Json::array();
    for (const scenario::FleetHolding& f : c.company->fleet) {
      Json fj = Json::object();
      fj.set("name", f.name);
      fj.set("gpus", f.gpus);
      fj.set("per_gpu_usd", f.per_gpu.value());
      fj.set("power_per_gpu_w", f.power.value());
      fj.set("source", f.source);
      fj.set("tag", nm(scenario::kSourceTagNames, f.tag));
      fleet.push(std::move(fj));
    }
    cj.set("fleet", std::move(fleet));
    Json brackets = Json::array();
    for (const scenario::SpendBracket& b : c.company->brackets) {
      Json bj = Json::object();
      bj.set("name", b.name);
      if (b.capital) bj.set("capital_usd", b.capital->value());
      if (b.per_year) bj.set("per_year_usd", b.per_year->value());
      if (b.usd) bj.set("usd", b.usd->value());
      bj.set("source", b.source);
      bj.set("tag", nm(scenario::kSourceTagNames, b.tag));
      brackets.push(std::move(bj));
    }
    cj.set("brackets", std::move(brackets));
  }
  Json peers = Json::array();
  for (const scenario::PeerRun& p : c.context) {
    Json pj = Json::object();
    pj.set("name", p.name);
    pj.set("gpu_hours", p.gpu_hours.value());
    pj.set("gpu", p.gpu);
    pj.set("source", p.source);
    pj.set("tag", nm(scenario::kSourceTagNames, p.tag));
    peers.push(std::move(pj));
  }
  j.set("context", std::move(peers));
  return j;
}

}  // namespace tcsim::reports
