#include "reports/report.h"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "reports/accounting.h"
#include "reports/charts.h"
#include "reports/cost_views_report.h"
#include "reports/document.h"

namespace tcsim::reports {
namespace {

using doc::Block;
using doc::Section;
using doc::Table;

// ---- formatting ----

std::string money(Dollars d) { return to_string(d); }
std::string money_or(const std::optional<Dollars>& d, std::string_view none) {
  return d ? money(*d) : std::string(none);
}
std::string gpu_h(GpuHours h) { return to_string(h); }
std::string days(Seconds t) { return fmt::format("{:.1f} days", t.value() / sim::kSecondsPerDay); }
std::string pct(double f) { return fmt::format("{:.1f}%", f * 100); }
std::string count(double n) { return to_count_string(n); }
std::string tag_of(scenario::SourceTag t) {
  return std::string(name_of(std::span<const Named<scenario::SourceTag>>(scenario::kSourceTagNames), t));
}

const Chart* find_chart(const std::vector<Chart>& charts, std::string_view id) {
  for (const Chart& c : charts) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// "name on 2048 x h800": two variants of one file differ in what they run on.
std::string label_of(const cost::Evaluation& e) {
  return fmt::format("{} on {} x {}", e.scenario.name, scenario::gpu_count(e.scenario), e.scenario.hardware.gpu.name);
}

std::string oracle_label(const sim::RunResult& r) {
  if (r.simulated_phases == 0) return "no step times: every phase measured";
  return r.oracle.stand_in ? fmt::format("{} step times [stand-in]", r.oracle.name)
                           : fmt::format("{} step times", r.oracle.name);
}

std::vector<Section> build(const cost::Evaluation& e, const cost::Evaluation* cmp, const std::vector<Chart>& charts) {
  const scenario::Scenario& s = e.scenario;
  const sim::RunResult& run = e.run;
  const cost::Ledger& l = e.ledger;
  std::vector<Section> doc;

  // Read this first.
  {
    Section sec{"Read this first", {}};
    sec.box("What these figures rest on", read_first(e));
    doc.push_back(std::move(sec));
  }

  // Summary.
  {
    Section sec{"Summary", {}};
    sec.para(fmt::format("Scenario **{}** ({}), {} x {}. {}", s.name, s.file, scenario::gpu_count(s),
                         s.hardware.gpu.name, s.description));
    if (sim::rests_on_stand_in(run)) {
      sec.note(
          fmt::format("Step times come from a stand-in, not the step simulation: {}. Every GPU-hour, day and "
                      "dollar below that depends on simulated steps is therefore a lower bound, not a "
                      "prediction. Measured phases are as published.",
                      run.oracle.description));
    }
    Table t{{"figure", "value", "produced by / source"}, {}};
    t.rows.push_back({"GPU-hours, whole run (run.gpu_hours_total)", gpu_h(run.gpu_hours_total),
                      fmt::format("run-level simulation ({}), measured phases as published", oracle_label(run))});
    t.rows.push_back({"wall time (run.wall_days)", days(run.wall),
                      fmt::format("run-level simulation; Monte Carlo p10-p90 {} to {}", days(run.wall_mc.p10),
                                  days(run.wall_mc.p90))});
    t.rows.push_back({"goodput", pct(run.goodput), "fault-free step time / wall time, simulated phases"});
    t.rows.push_back(
        l.rental.value() > 0
            ? std::vector<std::string>{"final run at rental (cost.final_run_usd)", money(l.final_run),
                                       fmt::format("GPU-hours x {} ({})", to_string(l.rental), l.rental_source)}
            : std::vector<std::string>{"final run at rental (cost.final_run_usd)", "not given",
                                       "scenario has no cost.rental"});
    t.rows.push_back({"same run on owned hardware (cost.owned_final_run_usd)", money_or(l.owned_final_run, "not given"),
                      l.owned ? fmt::format("GPU-hours x {} (capital, energy, facility; see Owned hardware)",
                                            to_string(l.owned->total))
                              : "scenario has no cost.owned section"});
    if (l.rnd) {
      t.rows.push_back({"full R&D total (cost.rnd_total_usd)",
                        fmt::format("p50 {} (p10 {}, p90 {})", money(l.rnd->total.p50), money(l.rnd->total.p10),
                                    money(l.rnd->total.p90)),
                        fmt::format("Monte Carlo over the R&D items, {} samples, seed {}", l.rnd->options.samples,
                                    l.rnd->options.seed)});
    } else {
      t.rows.push_back({"full R&D total (cost.rnd_total_usd)", "not given", "scenario has no cost.rnd section"});
    }
    sec.table(std::move(t));
    doc.push_back(std::move(sec));
  }

  // The accounting views.
  {
    Section sec{"The cost, by what is counted", {}};
    sec.para(
        "The same training run has several honest costs, depending on what is counted: the figure its authors "
        "published, the final run as tcsim simulates it (rented or owned), the development behind the model, and "
        "the hardware the company held over that time. Each view below says what it counts and rests on the "
        "evidence named beside it; a view the scenario gives no inputs for says so (docs/costs.md).");
    sec.table(views_table(l.views));
    if (const Chart* c = find_chart(charts, "views"); c != nullptr && !c->svg.empty()) sec.chart(c);
    if (doc::Table parts = view_parts_table(l.views); !parts.rows.empty()) sec.table(std::move(parts));
    doc.push_back(std::move(sec));
  }

  // Waterfall.
  if (const Chart* c = find_chart(charts, "waterfall")) {
    Section sec{"From the final run to the full total", {}};
    sec.chart(c);
    doc.push_back(std::move(sec));
  }

  // The run.
  {
    Section sec{"The run", {}};
    sec.para(
        fmt::format("Phases as the scenario gives them. Simulated phases take every step's time from the "
                    "oracle ({} distinct step shapes); measured phases carry a published figure.",
                    run.shapes));
    Table t{{"phase", "tokens", "steps", "batch (first to last)", "step time (first to last)", "GPU-hours", "wall",
             "produced by"},
            {}};
    for (const sim::PhaseResult& p : run.phases) {
      if (p.measured) {
        t.rows.push_back({p.name, "", "", "", "", gpu_h(p.gpu_hours), days(p.wall),
                          fmt::format("measured: {} (wall assumes {} GPUs)", p.source, p.gpus)});
        continue;
      }
      const sim::PhaseSchedule& sc = p.schedule;
      t.rows.push_back({p.name, count(static_cast<double>(sc.tokens)), fmt::format("{}", sc.steps),
                        sc.first_batch == sc.last_batch ? fmt::format("{}", sc.last_batch)
                                                        : fmt::format("{} to {}", sc.first_batch, sc.last_batch),
                        sc.first_batch == sc.last_batch
                            ? to_string(sc.last_step)
                            : fmt::format("{} to {}", to_string(sc.first_step), to_string(sc.last_step)),
                        gpu_h(p.gpu_hours), days(p.wall),
                        fmt::format("{}; {}", oracle_label(run), p.source.empty() ? "scenario" : p.source)});
    }
    t.rows.push_back({"total", "", "", "", "", gpu_h(run.gpu_hours_total), days(run.wall),
                      fmt::format("{} GPU-hours per trillion tokens over the simulated phases",
                                  count(run.gpu_hours_per_trillion_tokens))});
    sec.table(std::move(t));
    if (const Chart* c = find_chart(charts, "phases")) sec.chart(c);
    doc.push_back(std::move(sec));
  }

  // Reliability.
  {
    const sim::ReliabilityModel& r = run.reliability;
    Section sec{"Interruptions and checkpoints", {}};
    Table t{{"figure", "value", "produced by / source"}, {}};
    t.rows.push_back({"job MTBF", r.job_mtbf.value() > 0 ? to_string(r.job_mtbf) : "no interruptions",
                      s.reliability.log ? fmt::format("mtbf_per_gpu / GPUs; rate from {}", s.reliability.log->source)
                                        : "reliability.mtbf_per_gpu / GPUs"});
    t.rows.push_back({"restart (detection and restart)", to_string(r.restart), s.reliability.source});
    t.rows.push_back({"checkpoint size", to_string(r.checkpoint_size),
                      "(parameters + MTP) x (master weight + 2 AdamW moments), model accounting"});
    t.rows.push_back({"checkpoint write", to_string(r.checkpoint_time), "size / reliability.checkpoint_bandwidth"});
    t.rows.push_back({"checkpoint interval", r.interval.value() > 0 ? to_string(r.interval) : "none",
                      r.young_daly ? "Young/Daly optimum sqrt(2 x write x job MTBF) (Young 1974; Daly 2006)"
                                   : "reliability.checkpoint_interval"});
    t.rows.push_back(
        {"interruptions, expected", fmt::format("{:.1f}", run.interruptions),
         fmt::format("closed form; Monte Carlo p10-p90 {:.0f} to {:.0f} ({} trials, seed {})", run.interruptions_mc.p10,
                     run.interruptions_mc.p90, run.options.trials, run.options.seed)});
    t.rows.push_back({"GPU-hours lost to restarts and re-done work", gpu_h(run.gpu_hours_lost), "closed form"});
    t.rows.push_back(
        {"goodput", pct(run.goodput),
         fmt::format("closed form; Monte Carlo p10-p90 {} to {}", pct(run.goodput_mc.p10), pct(run.goodput_mc.p90))});
    sec.table(std::move(t));
    if (!run.causes.empty()) {
      Table c{{"cause", "share", "interruptions, expected", "GPU-hours lost", "source"}, {}};
      for (const sim::CauseResult& cr : run.causes) {
        c.rows.push_back(
            {cr.name, pct(cr.share), fmt::format("{:.1f}", cr.interruptions), gpu_h(cr.gpu_hours_lost), cr.source});
      }
      sec.table(std::move(c));
    }
    doc.push_back(std::move(sec));
  }

  // Inside a step.
  {
    Section sec{"Inside a step", {}};
    if (const Chart* c = find_chart(charts, "step-breakdown"); c != nullptr && !c->svg.empty()) {
      Table t{{"phase", "compute", "exposed communication", "pipeline bubble", "produced by"}, {}};
      for (const sim::PhaseResult& p : run.phases) {
        if (p.measured || !p.schedule.parts) continue;
        const sim::StepParts& parts = *p.schedule.parts;
        const double total = p.schedule.compute.value();
        const auto cell = [&](Seconds x) {
          return fmt::format("{} ({})", gpu_h(gpu_hours(x, p.gpus)), pct(total > 0 ? x.value() / total : 0));
        };
        t.rows.push_back({p.name, cell(parts.compute), cell(parts.exposed_comm), cell(parts.bubble),
                          "critical GPU of each simulated step, summed over the phase's steps"});
      }
      sec.table(std::move(t));
      sec.chart(c);
    } else {
      sec.note(std::string(kStepBreakdownPending) + ".");
    }
    doc.push_back(std::move(sec));
  }

  // Owned hardware.
  if (l.owned && s.cost.owned) {
    const scenario::OwnershipSpec& o = *s.cost.owned;
    Section sec{"Owned hardware", {}};
    Table cap{{"capital item", "value per GPU", "tag", "source"}, {}};
    for (const scenario::CapitalItem& c : o.capital)
      cap.rows.push_back({c.name, money(c.per_gpu), tag_of(c.tag), c.source});
    sec.table(std::move(cap));
    Table t{{"per GPU-hour", "value", "how"}, {}};
    t.rows.push_back(
        {"capital", to_string(l.owned->capital),
         o.depreciation == scenario::Depreciation::epoch
             ? fmt::format("{} x {} x ln(10) / 8760 h (Epoch AI, arXiv:2405.21015)", money(l.owned->capital_value),
                           o.depreciation_ooms_per_year)
             : fmt::format("{} / {} straight line", money(l.owned->capital_value), to_string(o.lifetime))});
    t.rows.push_back({"energy", to_string(l.owned->energy),
                      fmt::format("{} x {} x {} x PUE {} = {} per GPU, at {} ({}; {})", to_string(s.hardware.gpu.tdp),
                                  o.server_power_factor, o.power_fraction, o.pue, to_string(l.owned->power),
                                  to_string(o.energy_price), o.energy_price_source, o.power_source)});
    t.rows.push_back({"facility", to_string(l.owned->facility),
                      o.facility.value() > 0 ? o.facility_source : "not included: no sourced figure in the scenario"});
    t.rows.push_back({"total", to_string(l.owned->total), ""});
    t.rows.push_back({"energy of the run", fmt::format("{:.4g} MWh", l.energy->value() / 3.6e9),
                      "average power per GPU x GPU-hours"});
    sec.table(std::move(t));
    doc.push_back(std::move(sec));
  }

  // R&D items.
  if (l.rnd) {
    const cost::RndResult& r = *l.rnd;
    Section sec{"Full research-and-development total", {}};
    sec.para(fmt::format(
        "Compute in the total is priced at the {} rate, {} per GPU-hour. Each item is a distribution with a source; "
        "{} samples with seed {} give the spread. Shares are of the mean total.",
        name_of(std::span<const Named<scenario::ComputePrice>>(scenario::kComputePriceNames), r.compute_price),
        to_string(r.compute_rate), r.options.samples, r.options.seed));
    Table t{{"item", "p10", "p50", "p90", "mean", "share", "tag", "source"}, {}};
    t.rows.push_back({"final run", money(r.final_run), money(r.final_run), money(r.final_run), money(r.final_run),
                      pct(r.final_run_share), "",
                      fmt::format("{} x {}", gpu_h(l.gpu_hours), to_string(r.compute_rate))});
    for (const cost::RndItemResult& it : r.items) {
      if (!it.quantified) {
        t.rows.push_back({it.name, "not quantified", "", "", "", "", "", it.note});
        continue;
      }
      std::string src = it.source;
      if (it.mean_gpu_hours.value() > 0) src = fmt::format("{} on average; {}", gpu_h(it.mean_gpu_hours), src);
      t.rows.push_back({it.name, money(it.usd.p10), money(it.usd.p50), money(it.usd.p90), money(it.usd.mean),
                        pct(it.share), tag_of(it.tag), src});
    }
    t.rows.push_back({"total", money(r.total.p10), money(r.total.p50), money(r.total.p90), money(r.total.mean), "100%",
                      "", "Monte Carlo"});
    sec.table(std::move(t));
    if (const Chart* c = find_chart(charts, "distribution")) sec.chart(c);
    sec.para(deciding_inputs(r));
    if (const Chart* c = find_chart(charts, "tornado")) sec.chart(c);
    doc.push_back(std::move(sec));
  }

  // Comparison.
  if (cmp != nullptr) {
    Section sec{"Compared with " + label_of(*cmp), {}};
    const Comparison sides = comparison(e, *cmp);
    sec.para(fmt::format("A is {} ({}); B is {} ({}). Each side is priced on its own hardware.", label_of(e),
                         e.scenario.file, label_of(*cmp), cmp->scenario.file));
    Table t{{"", "A", "B", "B - A"}, {}, {false, true, true, true}};
    for (const ComparisonRow& row : sides.rows) {
      t.rows.push_back({std::string(static_cast<std::size_t>(row.depth) * 2, ' ') + row.label, row.a, row.b, row.diff});
    }
    sec.table(std::move(t));
    for (const std::string& n : sides.notes) sec.note(n);
    for (const std::string& n : cmp->scenario.notes) sec.note("B: " + n);
    if (const Chart* c = find_chart(charts, "compare")) sec.chart(c);
    doc.push_back(std::move(sec));
  }

  // Echo.
  {
    Section sec{"Resolved scenario", {}};
    sec.para(
        "`resolved.yaml` beside this report is the scenario as one file (every `extends` merged, every --set "
        "applied, notes kept): `tcsim report resolved.yaml` with the flags its first lines name reproduces this "
        "report, `tcsim run resolved.yaml` this run. Below, every field as resolved, for reading.");
    sec.pre(echo_scenario(s).dump());
    doc.push_back(std::move(sec));
  }
  return doc;
}

std::string title_of(const cost::Evaluation& e) { return fmt::format("tcsim report: {}", e.scenario.name); }

// ---- files ----

}  // namespace

std::vector<Chart> report_charts(const cost::Evaluation& e, const cost::Evaluation* cmp) {
  std::vector<Chart> out;
  const sim::RunResult& run = e.run;
  const cost::Ledger& l = e.ledger;
  const charts::Format usd = [](double v) { return to_string(Dollars(v)); };
  const charts::Format hours = [](double v) { return to_count_string(v) + " GPU-h"; };

  if (l.rnd) {
    const cost::RndResult& r = *l.rnd;
    std::vector<charts::WaterfallStep> steps;
    steps.push_back({"final run at rental (headline)", l.final_run.value(), true});
    if (std::fabs(r.final_run.value() - l.final_run.value()) > 0) {
      steps.push_back({fmt::format("final run at the {} rate instead",
                                   name_of(std::span<const Named<scenario::ComputePrice>>(scenario::kComputePriceNames),
                                           r.compute_price)),
                       r.final_run.value() - l.final_run.value(), false});
    }
    for (const cost::RndItemResult& it : r.items) {
      if (it.quantified) steps.push_back({it.name, it.usd.mean.value(), false});
    }
    steps.push_back({"full R&D total (mean)", r.total.mean.value(), true});
    out.push_back(
        {"waterfall", "From the final-run figure to the full R&D total",
         fmt::format("Means of the Monte Carlo ({} samples, seed {}); the first bar is GPU-hours x {} "
                     "({}); GPU-hours from the run-level simulation ({}). Items and sources in the R&D "
                     "table.",
                     r.options.samples, r.options.seed, to_string(l.rental), l.rental_source, oracle_label(run)),
         charts::waterfall(steps, usd, "US dollars")});
  }

  {
    std::vector<charts::StackedRow> rows;
    for (const sim::PhaseResult& p : run.phases) {
      charts::StackedRow row{p.name, {}};
      const double g = p.gpus / kSecondsPerHour;
      row.segments.push_back({"step compute", p.measured ? 0 : p.schedule.compute.value() * g});
      row.segments.push_back({"checkpoints", p.overheads.checkpoints.value() * g});
      row.segments.push_back({"restarts", p.overheads.restarts.value() * g});
      row.segments.push_back({"re-done work", p.overheads.lost_work.value() * g});
      row.segments.push_back({"measured", p.measured ? p.gpu_hours.value() : 0});
      rows.push_back(std::move(row));
    }
    out.push_back({"phases", "GPU-hours per phase",
                   fmt::format("Run-level simulation: {}; expected checkpoint, restart and re-done work from the "
                               "reliability model; measured phases as published.",
                               oracle_label(run)),
                   charts::stacked_bars(rows, hours, "GPU-hours")});
  }

  if (cost::step_split(run)) {
    std::vector<charts::StackedRow> rows;
    for (const sim::PhaseResult& p : run.phases) {
      if (p.measured) continue;
      const sim::StepParts& parts = *p.schedule.parts;
      rows.push_back({p.name,
                      {{"compute", gpu_hours(parts.compute, p.gpus).value()},
                       {"exposed communication", gpu_hours(parts.exposed_comm, p.gpus).value()},
                       {"pipeline bubble", gpu_hours(parts.bubble, p.gpus).value()}}});
    }
    out.push_back({"step-breakdown", "Where the step time went",
                   fmt::format("{}: the critical GPU's time per step by part, times the steps, times the GPUs "
                               "(fault-free; checkpoints and failures are in the GPU-hours chart).",
                               run.oracle.description),
                   charts::stacked_bars(rows, hours, "GPU-hours")});
  } else {
    out.push_back({"step-breakdown", "Where the step time went", std::string(kStepBreakdownPending), ""});
  }

  if (l.rnd) {
    const cost::RndResult& r = *l.rnd;
    out.push_back(
        {"distribution", "Distribution of the full R&D total",
         fmt::format("Monte Carlo over the R&D items: {} samples, seed {}; p10 {}, p50 {}, p90 {}. Samples "
                     "outside the 0.5th to 99.5th percentiles are counted in the end bins.",
                     r.options.samples, r.options.seed, money(r.total.p10), money(r.total.p50), money(r.total.p90)),
         charts::histogram(r.total_samples, r.total.p10.value(), r.total.p50.value(), r.total.p90.value(), usd,
                           "R&D total, US dollars")});
  }

  out.push_back(views_chart(e));
  if (l.rnd) {
    if (std::optional<Chart> t = tornado_chart(*l.rnd)) out.push_back(std::move(*t));
  }

  if (cmp != nullptr) {
    std::vector<charts::PairedMetric> m;
    const auto add = [&m](std::string label, double a, double b, std::string at, std::string bt) {
      m.push_back({std::move(label), a, b, std::move(at), std::move(bt)});
    };
    add("wall time", e.run.wall.value(), cmp->run.wall.value(), days(e.run.wall), days(cmp->run.wall));
    add("GPU-hours", e.run.gpu_hours_total.value(), cmp->run.gpu_hours_total.value(), gpu_h(e.run.gpu_hours_total),
        gpu_h(cmp->run.gpu_hours_total));
    add("final run at rental", e.ledger.final_run.value(), cmp->ledger.final_run.value(), money(e.ledger.final_run),
        money(cmp->ledger.final_run));
    if (e.ledger.owned_final_run && cmp->ledger.owned_final_run) {
      add("final run, owned", e.ledger.owned_final_run->value(), cmp->ledger.owned_final_run->value(),
          money(*e.ledger.owned_final_run), money(*cmp->ledger.owned_final_run));
    }
    if (e.ledger.rnd && cmp->ledger.rnd) {
      add("R&D total, median", e.ledger.rnd->total.p50.value(), cmp->ledger.rnd->total.p50.value(),
          money(e.ledger.rnd->total.p50), money(cmp->ledger.rnd->total.p50));
    }
    out.push_back(
        {"compare", fmt::format("{} against {}", label_of(*cmp), label_of(e)),
         fmt::format("A: {} ({}); B: {} ({}).{}", label_of(e), oracle_label(e.run), label_of(*cmp),
                     oracle_label(cmp->run),
                     cost::difference(e, *cmp).step_compute ? "" : " " + std::string(kStepBreakdownPending) + "."),
         charts::paired_bars(m, label_of(e), label_of(*cmp))});
  }
  return out;
}

std::string report_markdown(const cost::Evaluation& e, const cost::Evaluation* compared) {
  const std::vector<Chart> charts = report_charts(e, compared);
  return doc::render_markdown(build(e, compared, charts), title_of(e));
}

std::string report_html(const cost::Evaluation& e, const cost::Evaluation* compared) {
  const std::vector<Chart> charts = report_charts(e, compared);
  return doc::render_html(build(e, compared, charts), title_of(e));
}

Json report_json(const cost::Evaluation& e, const cost::Evaluation* compared) {
  Json j = evaluation_json(e);
  if (compared != nullptr) j.set("compare", comparison_json(e, *compared));
  return j;
}

namespace {

namespace fs = std::filesystem;

// The report's files into `dir` (created), each through a temporary and a rename.
void write_files(const fs::path& dir, const cost::Evaluation& e, const cost::Evaluation* compared,
                 std::string_view resolved_yaml) {
  std::error_code ec;
  fs::create_directories(dir / "charts", ec);
  if (ec) throw ConfigError(fmt::format("report: cannot create {}: {}", (dir / "charts").string(), ec.message()));
  const std::vector<Chart> charts = report_charts(e, compared);
  for (const Chart& c : charts) {
    if (!c.svg.empty()) write_file_atomically(dir / "charts" / (c.id + ".svg"), c.svg, "report");
  }
  const std::vector<Section> doc = build(e, compared, charts);
  write_file_atomically(dir / "report.md", doc::render_markdown(doc, title_of(e)), "report");
  write_file_atomically(dir / "report.html", doc::render_html(doc, title_of(e)), "report");
  write_file_atomically(dir / "report.json", report_json(e, compared).dump() + "\n", "report");
  if (!resolved_yaml.empty()) write_file_atomically(dir / "resolved.yaml", resolved_yaml, "report");
}

// A directory that holds only what a report writes (report.md, report.html,
// report.json, charts/ of .svg files): one tcsim may replace whole.
bool only_report_files(const fs::path& dir) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "report.md" || name == "report.html" || name == "report.json" || name == "resolved.yaml") continue;
    if (name != "charts" || !entry.is_directory()) return false;
    for (const fs::directory_entry& chart : fs::directory_iterator(entry.path(), ec)) {
      if (chart.path().extension() != ".svg" || !chart.is_regular_file()) return false;
    }
  }
  return !ec;
}

}  // namespace

void write_report(const fs::path& dir, const cost::Evaluation& e, const cost::Evaluation* compared,
                  std::string_view resolved_yaml) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st) && !fs::is_directory(st)) {
    throw ConfigError(fmt::format("report: {}: not a directory", dir.string()));
  }
  // A directory of other files too: each report file is replaced atomically, the rest is left alone.
  if (fs::exists(st) && !only_report_files(dir)) {
    write_files(dir, e, compared, resolved_yaml);
    return;
  }
  // Otherwise the report is written whole beside DIR and swapped in, so a full disk leaves the old report as it
  // was, never old and new files mixed.
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  const std::string name = dir.filename().string();
  const fs::path staging = parent / fmt::format(".{}.tmp-{}", name, ::getpid());
  const fs::path old = parent / fmt::format(".{}.old-{}", name, ::getpid());
  fs::remove_all(staging, ec);
  try {
    write_files(staging, e, compared, resolved_yaml);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  const bool had = fs::exists(st);
  if (had) {
    fs::rename(dir, old, ec);
    if (ec) {
      fs::remove_all(staging, ec);
      throw ConfigError(fmt::format("report: cannot replace {}: {}", dir.string(), ec.message()));
    }
  }
  fs::rename(staging, dir, ec);
  if (ec) {
    const std::string why = ec.message();
    if (had) fs::rename(old, dir, ec);  // the old report back where it was
    fs::remove_all(staging, ec);
    throw ConfigError(fmt::format("report: cannot write {}: {}", dir.string(), why));
  }
  if (had) fs::remove_all(old, ec);
}

}  // namespace tcsim::reports
