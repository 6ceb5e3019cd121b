#include "reports/cost_views_report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/named.h"
#include "reports/accounting.h"
#include "reports/charts.h"
#include "sim/run_level.h"
#include "study/validation.h"

namespace tcsim::reports {
namespace {

std::string pct_signed(double f) { return fmt::format("{:+.1f}%", f * 100); }

std::string figure_text(double v, scenario::CaseQuantity q) {
  switch (q) {
    case scenario::CaseQuantity::gpu_hours:
    case scenario::CaseQuantity::gpu_hours_per_trillion_tokens: return to_string(GpuHours(v));
    case scenario::CaseQuantity::final_run_usd: return to_string(Dollars(v));
    case scenario::CaseQuantity::step_time_s: return to_string(Seconds(v));
    default: return fmt::format("{:.4g}", v);
  }
}

std::string name_of_quantity(scenario::CaseQuantity q) {
  switch (q) {
    case scenario::CaseQuantity::gpu_hours: return "GPU-hours";
    case scenario::CaseQuantity::final_run_usd: return "final-run cost";
    case scenario::CaseQuantity::gpu_hours_per_trillion_tokens: return "GPU-hours per trillion tokens";
    case scenario::CaseQuantity::step_time_s: return "step time";
    case scenario::CaseQuantity::tokens_per_s_per_gpu: return "tokens per second per GPU";
    default: return std::string(name_of(std::span<const Named<scenario::CaseQuantity>>(scenario::kCaseQuantities), q));
  }
}

std::string usd_range(const cost::AccountingView& v) {
  return v.spread ? fmt::format("{} to {}", to_string(v.usd.p10), to_string(v.usd.p90)) : "";
}

std::string part_range(const cost::ViewPart& p) {
  return p.spread ? fmt::format("{} to {}", to_string(p.usd.p10), to_string(p.usd.p90)) : "";
}

std::string part_figure(const cost::ViewPart& p) {
  if (p.how == "not quantified") return "not quantified";
  return to_string(p.usd.p50);
}

// A source with its tag, unless the source already names it.
std::string tagged(const std::string& source, const std::string& tag) {
  if (tag.empty() || source.find("[" + tag) != std::string::npos) return source;
  return fmt::format("{} [{}]", source, tag);
}

std::string role_prefix(cost::ViewPart::Role r) {
  switch (r) {
    case cost::ViewPart::Role::bracket: return "beside it, not added: ";
    case cost::ViewPart::Role::reference: return "for comparison: ";
    case cost::ViewPart::Role::part: return "";
  }
  return "";
}

}  // namespace

std::vector<std::string> read_first(const cost::Evaluation& e) {
  const scenario::Scenario& s = e.scenario;
  std::vector<std::string> out;
  const model::MemoryBudget m = account(s).memory;
  if (!m.fits) {
    out.push_back(fmt::format(
        "**The plan does not fit in memory**: pipeline rank {} needs {} per GPU, {} more than the {} a GPU holds "
        "(tensors {}, runtime reserve {}). The step is simulated as if it ran; `tcsim run` lists every rank.",
        m.peak_stage, to_string(m.total), to_string(m.total - m.capacity), to_string(m.capacity), to_string(m.tensors),
        to_string(m.runtime_reserve)));
  } else {
    out.push_back(
        fmt::format("The plan fits in memory: {} of {} per GPU on the fullest pipeline rank, with room for "
                    "{:.1f}% allocator fragmentation.",
                    to_string(m.total), to_string(m.capacity), m.fragmentation_headroom * 100));
  }
  const std::string changed =
      s.overrides.empty() ? "" : " (the published run, against this scenario as --set changed it)";
  for (const study::PublishedStepFigure& p : study::published_run_figures(s)) {
    try {
      const double predicted = study::predict_run_figure(p.figure, e);
      out.push_back(fmt::format(
          "The simulated run is **{}** from the published {}: {} against {} (validation case "
          "{}: {}){}.",
          pct_signed(study::relative_error(predicted, p.figure.value)),
          p.figure.phase.empty() ? name_of_quantity(p.figure.quantity)
                                 : fmt::format("{} of {}", name_of_quantity(p.figure.quantity), p.figure.phase),
          figure_text(predicted, p.figure.quantity), figure_text(p.figure.value, p.figure.quantity), p.case_name,
          p.figure.source, changed));
    } catch (const std::exception& ex) {
      out.push_back(fmt::format("Validation case {} could not be compared: {}", p.case_name, ex.what()));
    }
  }
  for (const sim::PhaseResult& ph : e.run.phases) {
    if (ph.measured) continue;
    for (const study::PublishedStepFigure& p : study::published_step_figures(s)) {
      const std::optional<double> predicted =
          study::predict_step_figure_from_time(p.figure, s, ph.schedule.last_step, ph.schedule.last_batch);
      if (!predicted) continue;
      out.push_back(
          fmt::format("The simulated steady-state step (phase {}, batch {}) is **{}** from the published "
                      "{}: {} against {} (validation case {}: {}){}.",
                      ph.name, ph.schedule.last_batch, pct_signed(study::relative_error(*predicted, p.figure.value)),
                      name_of_quantity(p.figure.quantity), figure_text(*predicted, p.figure.quantity),
                      figure_text(p.figure.value, p.figure.quantity), p.case_name, p.figure.source, changed));
    }
    break;  // the first simulated phase is the one the step cases describe
  }
  if (sim::rests_on_stand_in(e.run)) {
    out.push_back(
        fmt::format("**Step times come from a stand-in**, not the step simulation ({}): figures that "
                    "depend on them are lower bounds.",
                    e.run.oracle.description));
  }
  for (const std::string& n : s.notes) out.push_back(n);
  if (!s.overrides.empty()) {
    out.push_back(fmt::format("Set on the command line: {}.", fmt::join(s.overrides, "; ")));
  }
  return out;
}

doc::Table views_table(const std::vector<cost::AccountingView>& views) {
  doc::Table t{{"view", "what it counts", "US dollars (median)", "p10 to p90", "evidence"},
               {},
               {false, false, true, true, false}};
  for (const cost::AccountingView& v : views) {
    const std::string name = fmt::format("{}. {}", v.number, v.name);
    if (!v.given) {
      t.rows.push_back({name, "not given: " + v.missing, "", "", ""});
      continue;
    }
    t.rows.push_back(
        {name, v.counts, to_string(v.usd.p50), usd_range(v), fmt::format("{}", fmt::join(v.sources, "; "))});
    for (const cost::ViewPart& p : v.parts) {
      if (p.role == cost::ViewPart::Role::part) continue;
      t.rows.push_back({"", role_prefix(p.role) + p.name + (p.how.empty() ? "" : " (" + p.how + ")"), part_figure(p),
                        part_range(p), tagged(p.source, p.tag)});
    }
  }
  return t;
}

doc::Table view_parts_table(const std::vector<cost::AccountingView>& views) {
  doc::Table t{{"view", "part", "US dollars (median)", "p10 to p90", "how", "source"},
               {},
               {false, false, true, true, false, false}};
  for (const cost::AccountingView& v : views) {
    if (!v.given || (v.id != "company" && v.id != "peer" && v.id != "headline")) continue;
    for (const cost::ViewPart& p : v.parts) {
      if (p.role != cost::ViewPart::Role::part) continue;
      t.rows.push_back({fmt::format("{}. {}", v.number, v.name), p.name, part_figure(p), part_range(p), p.how,
                        tagged(p.source, p.tag)});
    }
  }
  return t;
}

// A view's name short enough for a chart row.
std::string chart_label(const cost::AccountingView& v) {
  if (v.id == "headline") return "1. the headline as published";
  if (v.id == "final_run_rental") return "2. final run, simulated, rented";
  if (v.id == "final_run_owned") return "2. final run, simulated, owned";
  if (v.id == "development") return "3. development of the model";
  if (v.id == "company") return "4. company hardware, the period";
  const std::size_t colon = v.name.find(": ");
  return fmt::format("5. {}", colon == std::string::npos ? v.name : v.name.substr(colon + 2));
}

Chart views_chart(const cost::Evaluation& e) {
  std::vector<charts::RangeRow> rows;
  for (const cost::AccountingView& v : e.ledger.views) {
    if (!v.given) continue;
    const std::size_t colour = static_cast<std::size_t>(v.number - 1);
    rows.push_back({chart_label(v), v.usd.p10.value(), v.usd.p50.value(), v.usd.p90.value(), colour});
    if (!v.spread) rows.back().low = rows.back().high = rows.back().mid;
    for (const cost::ViewPart& p : v.parts) {
      if (p.role == cost::ViewPart::Role::part || p.how == "not quantified") continue;
      charts::RangeRow r{p.name, p.usd.p10.value(), p.usd.p50.value(), p.usd.p90.value(), 9};
      if (!p.spread) r.low = r.high = r.mid;
      rows.push_back(std::move(r));
    }
  }
  if (rows.empty()) return {"views", "The accounting views side by side", "no view is given", ""};
  return {"views", "The accounting views side by side",
          "Each view's median, with its p10 to p90 band where it is a distribution; grey rows are others' "
          "published figures shown beside the view above them, never added to it. Log scale: the views span two "
          "orders of magnitude. What each counts and its evidence are in the table above.",
          charts::range_bars(
              rows, [](double v) { return to_string(Dollars(v)); }, "US dollars (log scale)")};
}

std::optional<Chart> tornado_chart(const cost::RndResult& r) {
  if (r.sensitivity.empty()) return std::nullopt;
  std::vector<charts::TornadoRow> rows;
  for (const cost::Sensitivity& x : r.sensitivity) {
    rows.push_back({x.name, x.total_at_p10.value(), x.total_at_p90.value()});
  }
  return Chart{"tornado", "What decides the R&D total",
               fmt::format("The total's median ({}) with each uncertain input held at its own p10 and at its p90, "
                           "everything else drawn as usual ({} samples, seed {}); widest swing first. Fixed inputs "
                           "are not shown: they move nothing.",
                           to_string(r.total.p50), r.options.samples, r.options.seed),
               charts::tornado(
                   rows, r.total.p50.value(), [](double v) { return to_string(Dollars(v)); }, "R&D total, US dollars")};
}

std::string deciding_inputs(const cost::RndResult& r) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < r.sensitivity.size() && i < 5; ++i) {
    const cost::Sensitivity& x = r.sensitivity[i];
    names.push_back(fmt::format("{} ({} to {})", x.name, to_string(x.total_at_p10), to_string(x.total_at_p90)));
  }
  if (names.empty()) return "Every R&D item is a fixed figure: nothing in the total is uncertain.";
  static constexpr std::array<std::string_view, 6> kWords{
      "", "The input", "The two inputs", "The three inputs", "The four inputs", "The five inputs"};
  return fmt::format(
      "{} that decide the total, widest first (the total's median with each held at its own p10 and "
      "p90): {}.",
      kWords[names.size()], fmt::join(names, "; "));
}

}  // namespace tcsim::reports
