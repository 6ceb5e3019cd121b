// The plan search's result as text, JSON and CSV (study/plan_search.h runs
// the search; docs/plan-search.md explains the output).
#include "reports/plan_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/names.h"
#include "model/plan_fields.h"
#include "reports/accounting.h"
#include "reports/figures.h"
#include "reports/sweep_table.h"

namespace tcsim::reports {

using namespace study;
using model::ParallelPlan;
using model::recompute_name;
using model::schedule_name;

// ---- output ----------------------------------------------------------------

namespace {

std::string stage_layers_text(const std::vector<int>& v) {
  if (v.empty()) return "even";
  return fmt::format("{}", fmt::join(v, " "));
}

const PlanCandidate& at(const PlanSearchResult& r, int i) { return r.candidates[static_cast<std::size_t>(i)]; }

// Where a candidate would stand in the ranking: 1 + the ranked candidates better than it.
int rank_of(const PlanSearchResult& r, int i) {
  const auto pos = std::find(r.ranking.begin(), r.ranking.end(), i);
  if (pos != r.ranking.end()) return static_cast<int>(pos - r.ranking.begin()) + 1;
  int rank = 1;
  for (int j : r.ranking) {
    if (ranks_before(r, j, i)) ++rank;
  }
  return rank;
}

std::string objective_words(PlanObjective o) {
  return o == PlanObjective::cost ? "dollars per token" : "step time per token";
}

double compute_s(const VariantResult& v) { return v.step->value() - or_zero(v.bubble) - or_zero(v.exposed_comm); }

// The best ranked plan on the published plan's cluster, other than itself.
std::optional<int> best_beside_published(const PlanSearchResult& r) {
  if (!r.published) return std::nullopt;
  const int gpus = at(r, *r.published).gpus;
  for (int i : r.ranking) {
    if (at(r, i).gpus == gpus) return i;
  }
  return std::nullopt;
}

std::string plan_differences(const ParallelPlan& from, const ParallelPlan& to) {
  std::vector<std::string> out;
  const auto a = model::plan_field_texts(from);
  const auto b = model::plan_field_texts(to);
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k].second != b[k].second) out.push_back(fmt::format("{} {} -> {}", a[k].first, a[k].second, b[k].second));
  }
  return fmt::format("{}", fmt::join(out, ", "));
}

struct Gap {
  double step_s = 0;  // published - best
  double compute_s = 0;
  double bubble_s = 0;
  double exposed_comm_s = 0;
  std::string main;  // the part that explains most of the gap
};

Gap gap_between(const VariantResult& published, const VariantResult& best) {
  Gap g;
  g.step_s = published.step->value() - best.step->value();
  g.compute_s = compute_s(published) - compute_s(best);
  g.bubble_s = or_zero(published.bubble) - or_zero(best.bubble);
  g.exposed_comm_s = or_zero(published.exposed_comm) - or_zero(best.exposed_comm);
  const std::array<std::pair<double, const char*>, 3> parts{
      {{g.compute_s, "compute"}, {g.bubble_s, "pipeline bubble"}, {g.exposed_comm_s, "exposed communication"}}};
  // The part that moves most in the direction of the whole gap.
  const double sign = g.step_s >= 0 ? 1.0 : -1.0;
  const auto* largest = std::max_element(
      parts.begin(), parts.end(), [sign](const auto& x, const auto& y) { return sign * x.first < sign * y.first; });
  g.main = largest->second;
  return g;
}

std::string dollars_text(double usd) {
  if (usd >= 1e6) return fmt::format("${:.3f}M", usd / 1e6);
  if (usd >= 1e3) return fmt::format("${:.1f}K", usd / 1e3);
  return fmt::format("${:.2f}", usd);
}

// "X is n% slower than the best ... published minus best: compute, bubble, exposed communication".
std::string gap_text(std::string_view who, const PlanCandidate& a, const PlanCandidate& best) {
  const Gap g = gap_between(*a.result, *best.result);
  std::string out = fmt::format("    {}: step {:.4g} s against {:.4g} s, {:.1f}% {}{}\n", who, a.result->step->value(),
                                best.result->step->value(), std::abs(g.step_s) / best.result->step->value() * 100,
                                g.step_s >= 0 ? "slower" : "faster",
                                g.step_s < 0 && !a.fits ? " than every plan that fits, but it does not fit" : "");
  out += fmt::format(
      "      minus the best: compute {:+.4g} s, pipeline bubble {:+.4g} s, exposed communication {:+.4g} s; mostly "
      "{}\n",
      g.compute_s, g.bubble_s, g.exposed_comm_s, g.main);
  return out;
}

Json gap_json(const PlanCandidate& a, const PlanCandidate& best) {
  const Gap g = gap_between(*a.result, *best.result);
  Json j = Json::object();
  j.set("step_s", g.step_s);
  j.set("compute_s", g.compute_s);
  j.set("bubble_s", g.bubble_s);
  j.set("exposed_comm_s", g.exposed_comm_s);
  j.set("mostly", g.main);
  return j;
}

// The best ranked plan of the published plan's shape (its ZeRO stage and
// recompute policy aside) other than itself: the published plan made to fit.
std::optional<int> fitting_variant(const PlanSearchResult& r) {
  if (!r.published) return std::nullopt;
  const PlanCandidate& pub = at(r, *r.published);
  const std::string key = plan_shape_key(pub.gpus, pub.plan);
  for (int i : r.ranking) {
    if (i != *r.published && plan_shape_key(at(r, i).gpus, at(r, i).plan) == key) return i;
  }
  return std::nullopt;
}

std::string table_row(const PlanSearchResult& r, int rank, const PlanCandidate& c) {
  const ParallelPlan& p = c.plan;
  std::string schedule(schedule_name(p.schedule));
  if (p.virtual_stages > 1) schedule += fmt::format(" v{}", p.virtual_stages);
  const VariantResult& v = *c.result;
  std::string row = fmt::format(
      "{:>4} {:>5} {:>3} {:>3} {:>4} {:>3} {:>5} {:>3} {:>3} {:>4} {:<19} {:<10} {:>7.1f}{} {:>8.4g} {:>9.0f} "
      "{:>6.1f}% "
      "{:>8.4g} {:>8.4g} {:>9}",
      rank, c.gpus, p.tp, p.pp, p.ep, model::expert_tp(p), p.dp, p.cp, p.micro_batch, p.zero, schedule,
      recompute_name(p.recompute), in_gib(c.memory), c.fits ? " " : "!", v.step->value(),
      v.tokens_per_s_per_gpu.value_or(0), v.mfu.value_or(0) * 100, or_zero(v.exposed_comm), or_zero(v.bubble),
      r.rental.value() > 0 ? fmt::format("{:.4g}", c.cost_per_mtok.value()) : std::string("-"));
  if (c.run) {
    row += c.run->final_run ? fmt::format(" {:>10}", dollars_text(c.run->final_run->value()))
                            : fmt::format("  n/a: {}", c.run->reason);
  }
  return row + "\n";
}

std::string table_header(const PlanSearchResult& r) {
  std::string h = fmt::format(
      "{:>4} {:>5} {:>3} {:>3} {:>4} {:>3} {:>5} {:>3} {:>3} {:>4} {:<19} {:<10} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8} "
      "{:>9}",
      "#", "GPUs", "TP", "PP", "EP", "ETP", "DP", "CP", "MB", "ZeRO", "schedule", "recompute", "mem GiB", "step s",
      "tok/s/GPU", "MFU", "exp.comm", "bubble", "$/1M tok");
  if (r.depth == RunDepth::run) h += fmt::format(" {:>10}", "final run");
  return h + "\n";
}

Json optional_json(const std::optional<double>& v) { return v ? Json(*v) : Json(); }

Json candidate_json(const PlanSearchResult& r, int i) {
  const PlanCandidate& c = at(r, i);
  Json j = Json::object();
  j.set("gpus", c.gpus);
  j.set("plan", plan_json(c.plan));
  j.set("label", plan_label(c.plan));
  j.set("fate", fate_name(c.fate));
  if (c.fate == PlanFate::invalid) {
    j.set("rule", c.rule);
    j.set("reason", c.reason);
    return j;
  }
  j.set("memory_gib", in_gib(c.memory));
  j.set("capacity_gib", in_gib(c.capacity));
  j.set("fits", c.fits);
  if (c.result) {
    const VariantResult& v = *c.result;
    j.set("status", status_name(v.status));
    if (v.status == VariantStatus::invalid) j.set("reason", v.reason);
    j.set("step_s", optional_json(raw(v.step)));
    j.set("tokens_per_s_per_gpu", optional_json(v.tokens_per_s_per_gpu));
    j.set("mfu_bf16", optional_json(v.mfu));
    j.set("exposed_comm_s", optional_json(raw(v.exposed_comm)));
    j.set("bubble_s", optional_json(raw(v.bubble)));
    j.set("estimated", c.estimated);
    if (c.has_step()) {
      j.set("seconds_per_million_tokens", c.time_per_mtok.value());
      j.set("usd_per_million_tokens", c.cost_per_mtok.value());
      j.set("rank", rank_of(r, i));
    }
  }
  if (c.run) {
    Json run = Json::object();
    run.set("status", status_name(c.run->status));
    if (c.run->status == VariantStatus::invalid) run.set("reason", c.run->reason);
    run.set("gpu_hours", optional_json(raw(c.run->gpu_hours)));
    run.set("wall_days", optional_json(days(c.run->wall)));
    run.set("final_run_usd", optional_json(raw(c.run->final_run)));
    run.set("oracle", c.run->oracle);
    j.set("run", std::move(run));
  }
  return j;
}

std::string csv_number(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); }

}  // namespace

std::string plan_search_table(const PlanSearchResult& r) {
  std::string out;
  const PlanCounts& k = r.counts;
  out += fmt::format("Plan search  {}: {}{} x {}, batch {} x {} tokens per step, objective {}\n", r.scenario,
                     r.model.empty() ? "" : r.model + " on ", fmt::join(r.gpus, "/"), r.gpu, r.batch, r.seq_len,
                     objective_words(r.objective));
  out += fmt::format("  grid                {}\n", r.grid);
  out += fmt::format("  candidates   {:>7}\n", k.enumerated);
  std::vector<std::string> rules;
  for (const auto& [rule, count] : k.invalid_by_rule) rules.push_back(fmt::format("{} {}", rule, count));
  out += fmt::format("  invalid      {:>7}  by rule: {}\n", k.invalid, fmt::join(rules, ", "));
  out += fmt::format("  over memory  {:>7}  {}\n", k.over_memory,
                     r.allow_overfit ? "kept (--allow-overfit)" : "model::memory_per_gpu above the GPU's capacity");
  out += fmt::format("  dominated    {:>7}  {}\n", k.dominated,
                     r.exhaustive ? "none pruned (--exhaustive)"
                                  : "a fitting plan of the same shape with less recompute, or ZeRO-1 for ZeRO-2");
  out += fmt::format("  beyond bound {:>7}  {}\n", k.beyond_bound,
                     r.max_candidates > 0 ? fmt::format("--max-candidates {}", r.max_candidates) : "no bound");
  out += fmt::format("  outpaced     {:>7}  {}\n", k.outpaced,
                     r.exhaustive || !r.outpace
                         ? std::string("none skipped")
                         : fmt::format("not simulated: a bound on its step is slower than every plan reported ({} "
                                       "by compute alone, {} with the collectives its chunks wait for)",
                                       k.outpaced - k.outpaced_by_collectives, k.outpaced_by_collectives));
  out += fmt::format("  simulated    {:>7}  steady-state step of the first phase; {} refused by the step simulation\n",
                     k.simulated, k.simulation_rejected);
  if (k.extrapolated > 0) {
    out += fmt::format(
        "               {:>7}  of them screened by three short steps ({} or more micro-batches per pipeline rank), "
        "{} of those then in full\n",
        k.extrapolated, kExtrapolateFrom, k.verified);
  }

  const int shown = std::min<int>(r.top, static_cast<int>(r.ranking.size()));
  out += fmt::format("\nTop {} by {}  (! = over memory capacity, kept by --allow-overfit)\n", shown,
                     objective_words(r.objective));
  out += table_header(r);
  for (int i = 0; i < shown; ++i) out += table_row(r, i + 1, at(r, r.ranking[static_cast<std::size_t>(i)]));

  out += fmt::format("\nPareto front, time vs cost per token ({} plan{}, fastest first)\n", r.pareto.size(),
                     r.pareto.size() == 1 ? "" : "s");
  out += table_header(r);
  for (int i : r.pareto) out += table_row(r, rank_of(r, i), at(r, i));

  out += "\n";
  if (!r.published) {
    out += "Published plan  not searched: the scenario's own cluster size is not among --gpus\n";
    return out;
  }
  const PlanCandidate& pub = at(r, *r.published);
  out += fmt::format("Published plan  {}{} on {} GPUs\n", plan_label(pub.plan),
                     pub.in_grid ? "" : " (outside the grid)", pub.gpus);
  if (pub.fate == PlanFate::invalid) {
    out += fmt::format("  invalid ({}): {}\n", pub.rule, pub.reason);
    return out;
  }
  if (!pub.has_step()) {
    out += fmt::format("  {}; the step simulation refused it: {}\n", fate_name(pub.fate),
                       pub.result ? pub.result->reason : std::string("not simulated"));
    return out;
  }
  const int rank = rank_of(r, *r.published);
  const int of = static_cast<int>(r.ranking.size());
  const VariantResult& pv = *pub.result;
  switch (pub.fate) {
    case PlanFate::simulated:
      out += fmt::format("  rank {} of {}", rank, of);
      // Outpaced plans are slower than the published one: its rank counts every better plan.
      if (r.counts.outpaced > 0) out += fmt::format(" simulated, {} more outpaced", r.counts.outpaced);
      break;
    case PlanFate::over_memory:
      out +=
          fmt::format("  pruned, memory {:.1f} GiB > {:.1f} GiB; simulated anyway for reference: would rank {} of {}",
                      in_gib(pub.memory), in_gib(pub.capacity), rank, of);
      break;
    default:
      out += fmt::format("  {}; simulated anyway for reference: would rank {} of {}", fate_name(pub.fate), rank, of);
      break;
  }
  out += fmt::format("  (step {:.4g} s, {:.0f} tokens/s/GPU, MFU {:.1f}%)\n", pv.step->value(),
                     pv.tokens_per_s_per_gpu.value_or(0), pv.mfu.value_or(0) * 100);
  if (pub.run) {
    out += pub.run->final_run ? fmt::format("  whole run: {:.4g} GPU-hours, {:.1f} days, final run {}\n",
                                            raw(pub.run->gpu_hours).value_or(0), days(pub.run->wall).value_or(0),
                                            dollars_text(pub.run->final_run->value()))
                              : fmt::format("  whole run: n/a: {}\n", pub.run->reason);
  }
  const std::optional<int> variant = fitting_variant(r);
  if (variant) {
    const PlanCandidate& v = at(r, *variant);
    out +=
        fmt::format("  same shape, fitting: ZeRO-{}, recompute {}: {:.1f} GiB, step {:.4g} s, rank {}\n", v.plan.zero,
                    recompute_name(v.plan.recompute), in_gib(v.memory), v.result->step->value(), rank_of(r, *variant));
  }
  const std::optional<int> best = best_beside_published(r);
  if (!best || *best == *r.published) {
    out += fmt::format("  it is the best plan on {} GPUs\n", pub.gpus);
    return out;
  }
  const PlanCandidate& b = at(r, *best);
  out += fmt::format("  best on {} GPUs: {}\n", b.gpus, plan_label(b.plan));
  out += fmt::format("    differs in {}\n", plan_differences(pub.plan, b.plan));
  out += gap_text("the published plan", pub, b);
  if (variant && *variant != *best) out += gap_text("the same shape made to fit", at(r, *variant), b);
  std::string sets;
  for (const std::string& o : b.overrides) sets += fmt::format(" --set '{}'", o);
  out += fmt::format("  the best as overrides of this scenario:{}\n", sets);
  return out;
}

Json plan_search_json(const PlanSearchResult& r) {
  Json j = Json::object();
  j.set("scenario", r.scenario);
  j.set("model", r.model);
  j.set("gpu", r.gpu);
  Json gpus = Json::array();
  for (int g : r.gpus) gpus.push(g);
  j.set("gpus", std::move(gpus));
  j.set("objective", model::name_of(kPlanObjectiveNames, r.objective));
  j.set("depth", r.depth == RunDepth::run ? "run" : "step");
  j.set("batch", r.batch);
  j.set("seq_len", r.seq_len);
  j.set("tokens_per_step", r.tokens_per_step());
  j.set("rental_usd_per_gpu_hour", r.rental.value());
  j.set("grid", r.grid);
  Json counts = Json::object();
  counts.set("enumerated", r.counts.enumerated);
  counts.set("invalid", r.counts.invalid);
  Json rules = Json::object();
  for (const auto& [rule, count] : r.counts.invalid_by_rule) rules.set(rule, count);
  counts.set("invalid_by_rule", std::move(rules));
  counts.set("over_memory", r.counts.over_memory);
  counts.set("dominated", r.counts.dominated);
  counts.set("beyond_bound", r.counts.beyond_bound);
  counts.set("outpaced", r.counts.outpaced);
  counts.set("outpaced_by_collectives", r.counts.outpaced_by_collectives);
  counts.set("simulated", r.counts.simulated);
  counts.set("extrapolated", r.counts.extrapolated);
  counts.set("verified", r.counts.verified);
  counts.set("simulation_rejected", r.counts.simulation_rejected);
  j.set("counts", std::move(counts));
  j.set("allow_overfit", r.allow_overfit);
  j.set("exhaustive", r.exhaustive);
  j.set("extrapolate", r.extrapolate);
  j.set("max_candidates", r.max_candidates);
  Json top = Json::array();
  for (int k = 0; k < std::min<int>(r.top, static_cast<int>(r.ranking.size())); ++k) {
    top.push(candidate_json(r, r.ranking[static_cast<std::size_t>(k)]));
  }
  j.set("top", std::move(top));
  Json pareto = Json::array();
  for (int i : r.pareto) pareto.push(candidate_json(r, i));
  j.set("pareto", std::move(pareto));
  if (!r.published) {
    j.set("published", Json());
    return j;
  }
  Json pub = candidate_json(r, *r.published);
  pub.set("in_grid", at(r, *r.published).in_grid);
  const PlanCandidate& pc = at(r, *r.published);
  const std::optional<int> variant = fitting_variant(r);
  pub.set("fitting_variant", variant ? candidate_json(r, *variant) : Json());
  const std::optional<int> best = best_beside_published(r);
  if (pc.has_step() && best && *best != *r.published) {
    const PlanCandidate& b = at(r, *best);
    Json gap = gap_json(pc, b);
    gap.set("best", candidate_json(r, *best));
    gap.set("differs", plan_differences(pc.plan, b.plan));
    Json sets = Json::array();
    for (const std::string& o : b.overrides) sets.push(o);
    gap.set("best_overrides", std::move(sets));
    pub.set("gap_to_best", std::move(gap));
    if (variant && *variant != *best) pub.set("fitting_variant_gap_to_best", gap_json(at(r, *variant), b));
  }
  j.set("published", std::move(pub));
  return j;
}

std::string plan_search_csv(const PlanSearchResult& r) {
  std::string out =
      "gpus,tp,pp,ep,expert_tp,sequence_parallel,dp,cp,virtual_stages,micro_batch,zero,schedule,recompute,"
      "stage_layers,fate,published,"
      "memory_gib,capacity_gib,fits,status,reason,step_s,tokens_per_s_per_gpu,mfu_bf16,exposed_comm_s,bubble_s,"
      "estimated,seconds_per_million_tokens,usd_per_million_tokens,rank,pareto,run_gpu_hours,run_final_usd\n";
  for (int i = 0; i < static_cast<int>(r.candidates.size()); ++i) {
    const PlanCandidate& c = at(r, i);
    if (c.fate == PlanFate::invalid) continue;
    const ParallelPlan& p = c.plan;
    const bool step = c.has_step();
    const bool on_front = std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
    const VariantResult none;
    const VariantResult& v = c.result ? *c.result : none;
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4f},{:.4f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        c.gpus, p.tp, p.pp, p.ep, model::expert_tp(p), p.sequence_parallel, p.dp, p.cp, p.virtual_stages, p.micro_batch,
        p.zero, schedule_name(p.schedule), recompute_name(p.recompute), stage_layers_text(p.stage_layers),
        fate_name(c.fate), c.published, in_gib(c.memory), in_gib(c.capacity), c.fits,
        c.result ? status_name(v.status) : "", csv_field(v.reason), csv_number(raw(v.step)),
        csv_number(v.tokens_per_s_per_gpu), csv_number(v.mfu), csv_number(raw(v.exposed_comm)),
        csv_number(raw(v.bubble)), c.estimated, step ? fmt::format("{}", c.time_per_mtok.value()) : "",
        step ? fmt::format("{}", c.cost_per_mtok.value()) : "", step ? fmt::format("{}", rank_of(r, i)) : "", on_front,
        c.run ? csv_number(raw(c.run->gpu_hours)) : "", c.run ? csv_number(raw(c.run->final_run)) : "");
  }
  return out;
}

}  // namespace tcsim::reports
