// Parallel-plan search: the grid, the rules, memory pruning, dominance,
// parallel step simulation, ranking and the Pareto front. Conventions and the
// reasons behind each bound: plan_search.h and docs/plan-search.md.
#include "reports/plan_search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/parallel.h"
#include "model/memory.h"
#include "model/names.h"
#include "model/plan_fields.h"
#include "model/schedule.h"
#include "reports/accounting.h"
#include "scenarios/rules.h"

namespace tcsim::reports {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;
constexpr double kMillion = 1e6;
constexpr double kSecondsPerHour = 3600.0;

// Context parallelism is searched when the first phase's sequences are this
// long or longer (the brief's threshold: 32K tokens, the first context
// extension of DeepSeek-V3, V3-TR §4.3), down to this many tokens per CP rank.
constexpr int kLongSequence = 32768;
constexpr int kMinTokensPerCpRank = 4096;
// Tensor parallelism stays inside a node and at most 8-way (NVLink domains of
// the GPUs in the catalog are 8 GPUs).
constexpr int kMaxTp = 8;
// Plans with at least kExtrapolateFrom x pp micro-batches per pipeline are
// screened by two short steps of kShortSteps x pp micro-batches (half the
// cost or less) and simulated in full only when they might be reported:
// within kScreenMargin of the K-th best or of the front. Interleaved 1F1B
// reaches its steady state after about 2 pp micro-batches (tests/plan), so the
// short steps start at 4 pp; the margin is over six times the largest
// extrapolation error against full simulations of 648 DeepSeek-V3 plans
// (0.15%, docs/plan-search.md).
constexpr std::int64_t kExtrapolateFrom = 24;
constexpr std::array<std::int64_t, 2> kShortSteps{4, 8};
// A bound of the search, not a rule of the loader: expert-parallel groups span
// ep x tp GPUs (the ep ranks of one tp rank, tp apart: sim/layout.h). The
// step simulation's flow-level all-to-all takes about a second per step over
// 1024 GPUs and did not finish in five minutes over 2048 (TP8 EP256 on
// DeepSeek-V3's 2048 H800), so wider groups are not simulated.
constexpr int kMaxEpSpanGpus = 1024;
constexpr double kScreenMargin = 0.01;

using model::ParallelPlan;
using model::Recompute;
using model::Schedule;

struct ScheduleChoice {
  Schedule schedule;
  int virtual_stages;
};
constexpr std::array<ScheduleChoice, 4> kSchedules{
    {{Schedule::one_f_one_b, 1}, {Schedule::interleaved_1f1b, 2}, {Schedule::zero_bubble, 1}, {Schedule::dualpipe, 1}}};
constexpr std::array<int, 2> kMicroBatches{1, 2};
constexpr std::array<int, 4> kZeroStages{0, 1, 2, 3};
constexpr std::array<Recompute, 3> kRecomputes{Recompute::none, Recompute::selective, Recompute::full};

const scenario::Phase& first_phase(const scenario::Scenario& s) {
  if (s.training.phases.empty()) throw ConfigError("plan: the scenario has no training phase");
  return s.training.phases.front();
}

std::vector<int> divisors(int n) {
  std::vector<int> out;
  for (int d = 1; d <= n; ++d) {
    if (n % d == 0) out.push_back(d);
  }
  return out;
}

std::vector<int> tp_choices(const scenario::Scenario& s, int gpus) {
  std::vector<int> out;
  const int gpn = s.hardware.gpus_per_node;
  for (int t = 1; t <= std::min(kMaxTp, gpn); ++t) {
    if (gpn % t == 0 && gpus % t == 0) out.push_back(t);
  }
  return out;
}

std::vector<int> cp_choices(const scenario::Scenario& s) {
  const int seq = first_phase(s).seq_len;
  if (seq < kLongSequence) return {1};
  std::vector<int> out;
  for (int c = 1; c <= seq / kMinTokensPerCpRank; c *= 2) out.push_back(c);
  return out;
}

// pp over divisors of gpus / (tp cp), as long as every stage can hold a layer.
std::vector<int> pp_choices(const scenario::Scenario& s, int per_pipeline_gpus) {
  std::vector<int> out;
  for (int p : divisors(per_pipeline_gpus)) {
    if (p <= s.model.layers) out.push_back(p);
  }
  return out;
}

std::vector<int> ep_choices(const scenario::Scenario& s) {
  if (!s.model.moe) return {1};
  return divisors(s.model.moe->routed);
}

// The scenario's stage split when it has this many stages, else even, else
// the first layers % stages stages take one layer more (the last stage, which
// also holds the head and the MTP modules, stays among the lighter ones).
std::vector<int> stage_layers_for(const scenario::Scenario& s, int stages) {
  const std::vector<int>& own = first_phase(s).parallelism.stage_layers;
  if (!own.empty() && static_cast<int>(own.size()) == stages) return own;
  const int layers = s.model.layers;
  if (stages > layers || layers % stages == 0) return {};
  std::vector<int> out(static_cast<std::size_t>(stages), layers / stages);
  for (int i = 0; i < layers % stages; ++i) ++out[static_cast<std::size_t>(i)];
  return out;
}

int recompute_rank(Recompute r) {
  switch (r) {
    case Recompute::none: return 0;
    case Recompute::selective: return 1;
    case Recompute::full: return 2;
  }
  return 0;
}

// In the step model (docs/simulation.md, "Data parallelism") ZeRO-1 and
// ZeRO-2 run the same collectives (reduce-scatter, optimizer on a shard,
// all-gather); ZeRO-2 only shards the gradients, so its step is ZeRO-1's and
// ZeRO-1 is kept on a tie (the stage DeepSeek-V3 and Megatron-LM's distributed
// optimizer use). ZeRO-0 (one all-reduce, a full optimizer) and ZeRO-3 (weight
// gathers overlapped one slot ahead) can be faster or slower than ZeRO-1 and
// are never pruned against it.
bool zero_never_slower(int x, int y) { return x == y || (x == 1 && y == 2); }

bool never_slower(const ParallelPlan& a, const ParallelPlan& b) {
  if (a.zero == b.zero && a.recompute == b.recompute) return false;
  return recompute_rank(a.recompute) <= recompute_rank(b.recompute) && zero_never_slower(a.zero, b.zero);
}

// Every field of the plan but the ZeRO stage and the recompute policy.
std::string shape_key(int gpus, const ParallelPlan& p) {
  ParallelPlan shape = p;
  shape.zero = 0;
  shape.recompute = Recompute::none;
  std::string key = fmt::format("{}", gpus);
  for (const auto& [name, value] : model::plan_field_texts(shape)) key += fmt::format(" {}={}", name, value);
  return key;
}

// Closed-form pipeline bubble over the work of one rank, with forward, input
// gradient and weight gradient of one unit each (docs/simulation.md,
// "Schedules"): the order in which a bounded search simulates.
double bubble_estimate(const ParallelPlan& p, std::int64_t micro_batches) {
  const double bubble = model::pipeline_schedule(p.schedule).bubble(p.pp, p.virtual_stages);
  return bubble / (3.0 * static_cast<double>(micro_batches));
}

std::string_view schedule_name(Schedule s) { return model::name_of(model::kScheduleNames, s); }
std::string_view recompute_name(Recompute r) { return model::name_of(model::kRecomputeNames, r); }

std::string stage_layers_text(const std::vector<int>& v) {
  if (v.empty()) return "even";
  return fmt::format("{}", fmt::join(v, " "));
}

std::int64_t tokens_per_step(const PlanSearchResult& r) { return r.batch * r.seq_len; }

// (objective, the other figure): the ranking key.
std::pair<double, double> key_of(const PlanSearchResult& r, const PlanCandidate& c) {
  if (r.objective == PlanObjective::cost) return {c.usd_per_mtok, c.seconds_per_mtok};
  return {c.seconds_per_mtok, c.usd_per_mtok};
}

bool better(const PlanSearchResult& r, int a, int b) {
  const auto ka = key_of(r, r.candidates[static_cast<std::size_t>(a)]);
  const auto kb = key_of(r, r.candidates[static_cast<std::size_t>(b)]);
  if (ka != kb) return ka < kb;
  return a < b;
}

void fill_memory(const scenario::Scenario& s, PlanCandidate& c) {
  const scenario::Phase& ph = first_phase(s);
  const model::MemoryBudget m =
      model::memory_per_gpu(s.model, c.plan, s.precision, ph.seq_len, s.hardware.gpu.hbm_capacity);
  c.memory_gib = m.total.value() / kBytesPerGib;
  c.capacity_gib = m.capacity.value() / kBytesPerGib;
  c.fits = m.fits;
}

void fill_per_token(const PlanSearchResult& r, PlanCandidate& c) {
  if (!c.has_step()) return;
  const double tokens = static_cast<double>(tokens_per_step(r));
  c.seconds_per_mtok = *c.result->step_s / tokens * kMillion;
  c.usd_per_mtok = *c.result->step_s * c.gpus * r.rental_usd_per_gpu_hour / kSecondsPerHour / tokens * kMillion;
}

// The steady-state step is affine in the micro-batches per pipeline n once
// every rank is past its warm-up: each further micro-batch adds the same
// forward and backward work to every rank (docs/plan-search.md; DeepSeek-V3
// plans agree within 0.15%, tests/plan). Two short steps of 4 pp and 8 pp
// micro-batches then predict a long one at a fraction of its cost.
VariantResult extrapolated_step(scenario::Scenario s, std::int64_t n, const VariantOptions& o) {
  scenario::Phase& ph = s.training.phases.front();
  const ParallelPlan& p = ph.parallelism;
  const std::int64_t round = std::int64_t{p.dp} * p.micro_batch;
  const std::int64_t n1 = kShortSteps[0] * p.pp;
  const std::int64_t n2 = kShortSteps[1] * p.pp;
  ph.batch = n1 * round;
  const VariantResult a = evaluate_variant(s, o);
  ph.batch = n2 * round;
  VariantResult b = evaluate_variant(s, o);
  if (!a.step_s || !b.step_s) return a.step_s ? b : a;
  const auto line = [&](double ya, double yb) {
    return yb + (yb - ya) / static_cast<double>(n2 - n1) * static_cast<double>(n - n2);
  };
  const double t = line(*a.step_s, *b.step_s);
  // Throughput and MFU scale with the tokens per second.
  const double speedup = static_cast<double>(n) / static_cast<double>(n2) * *b.step_s / t;
  VariantResult out = b;
  out.step_s = t;
  if (a.exposed_comm_s && b.exposed_comm_s) out.exposed_comm_s = line(*a.exposed_comm_s, *b.exposed_comm_s);
  if (a.bubble_s && b.bubble_s) out.bubble_s = line(*a.bubble_s, *b.bubble_s);
  if (b.tokens_per_s_per_gpu) out.tokens_per_s_per_gpu = *b.tokens_per_s_per_gpu * speedup;
  if (b.mfu) out.mfu = *b.mfu * speedup;
  return out;
}

// Ranking (best first) and the Pareto front over the simulated plans with a step.
void rank_candidates(PlanSearchResult& r) {
  r.ranking.clear();
  r.pareto.clear();
  for (int i = 0; i < static_cast<int>(r.candidates.size()); ++i) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    if (c.fate == PlanFate::simulated && c.has_step()) r.ranking.push_back(i);
  }
  std::sort(r.ranking.begin(), r.ranking.end(), [&](int a, int b) { return better(r, a, b); });
  std::vector<std::pair<double, double>> points;
  for (int i : r.ranking) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    points.emplace_back(c.seconds_per_mtok, c.usd_per_mtok);
  }
  for (int k : pareto_front(points)) r.pareto.push_back(r.ranking[static_cast<std::size_t>(k)]);
}

// Extrapolated plans the output reports or might, within kScreenMargin: up to
// the K-th best key, not dominated by a point of the front made that much
// better, and the best plan beside the published one.
std::vector<int> to_verify(const PlanSearchResult& r) {
  std::vector<int> out;
  const auto& cs = r.candidates;
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(r.top), r.ranking.size());
  const double kth = k > 0 ? key_of(r, cs[static_cast<std::size_t>(r.ranking[k - 1])]).first : 0.0;
  const int published_gpus = r.published ? cs[static_cast<std::size_t>(*r.published)].gpus : 0;
  bool best_beside_seen = false;
  for (int i : r.ranking) {
    const PlanCandidate& c = cs[static_cast<std::size_t>(i)];
    const bool best_beside = !best_beside_seen && c.gpus == published_gpus;
    best_beside_seen = best_beside_seen || best_beside;
    if (!c.estimated) continue;
    bool near_front = true;
    for (int q : r.pareto) {
      const PlanCandidate& f = cs[static_cast<std::size_t>(q)];
      if (q != i && f.seconds_per_mtok * (1 + kScreenMargin) <= c.seconds_per_mtok &&
          f.usd_per_mtok * (1 + kScreenMargin) <= c.usd_per_mtok) {
        near_front = false;
        break;
      }
    }
    if (best_beside || near_front || key_of(r, c).first <= kth * (1 + kScreenMargin)) out.push_back(i);
  }
  if (r.published && cs[static_cast<std::size_t>(*r.published)].estimated &&
      std::find(out.begin(), out.end(), *r.published) == out.end()) {
    out.push_back(*r.published);
  }
  return out;
}

}  // namespace

std::string_view fate_name(PlanFate f) {
  switch (f) {
    case PlanFate::invalid: return "invalid";
    case PlanFate::over_memory: return "over-memory";
    case PlanFate::dominated: return "dominated";
    case PlanFate::beyond_bound: return "beyond-bound";
    case PlanFate::simulated: return "simulated";
  }
  return "?";
}

std::vector<ParallelPlan> enumerate_plans(const scenario::Scenario& s, int gpus) {
  const ParallelPlan& base = first_phase(s).parallelism;
  std::vector<ParallelPlan> out;
  for (int tp : tp_choices(s, gpus)) {
    for (int cp : cp_choices(s)) {
      if (gpus % (tp * cp) != 0) continue;
      for (int pp : pp_choices(s, gpus / (tp * cp))) {
        const int dp = gpus / (tp * cp * pp);
        for (int ep : ep_choices(s)) {
          for (const ScheduleChoice& sc : kSchedules) {
            for (int mb : kMicroBatches) {
              for (int zero : kZeroStages) {
                for (Recompute rc : kRecomputes) {
                  ParallelPlan p = base;
                  p.tp = tp;
                  p.pp = pp;
                  p.ep = ep;
                  p.dp = dp;
                  p.cp = cp;
                  p.virtual_stages = sc.virtual_stages;
                  p.schedule = sc.schedule;
                  p.micro_batch = mb;
                  p.zero = zero;
                  p.recompute = rc;
                  p.stage_layers = stage_layers_for(s, pp * sc.virtual_stages);
                  out.push_back(std::move(p));
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

std::string grid_dimensions(const scenario::Scenario& s, int gpus) {
  std::vector<std::string> schedules;
  for (const ScheduleChoice& sc : kSchedules) {
    schedules.push_back(sc.virtual_stages > 1 ? fmt::format("{} v{}", schedule_name(sc.schedule), sc.virtual_stages)
                                              : std::string(schedule_name(sc.schedule)));
  }
  std::vector<std::string> recomputes;
  for (Recompute r : kRecomputes) recomputes.emplace_back(recompute_name(r));
  return fmt::format(
      "tp {{{}}} x cp {{{}}} x pp {{divisors of GPUs / (tp cp) up to {} layers}} x ep {{{}}} x schedule {{{}}} x "
      "micro-batch {{{}}} x ZeRO {{{}}} x recompute {{{}}}",
      fmt::join(tp_choices(s, gpus), ","), fmt::join(cp_choices(s), ","), s.model.layers, fmt::join(ep_choices(s), ","),
      fmt::join(schedules, ", "), fmt::join(kMicroBatches, ","), fmt::join(kZeroStages, ","),
      fmt::join(recomputes, ", "));
}

std::optional<PlanRule> check_plan(const scenario::Scenario& s, const ParallelPlan& p, int gpus) {
  const scenario::Phase& ph = first_phase(s);
  const std::vector<scenario::RuleBreak> breaks =
      scenario::plan_breaks(s, p, gpus, {"training.phases[0].parallelism", &ph, "training.phases[0]"});
  if (!breaks.empty()) {
    return PlanRule{std::string(scenario::rule_name(breaks.front().rule)), breaks.front().message};
  }
  if (p.ep * p.tp > kMaxEpSpanGpus) {
    return PlanRule{"ep-span-bound", fmt::format("not searched: the expert-parallel group spans ep x tp = {} GPUs, "
                                                 "over the {} the search simulates",
                                                 p.ep * p.tp, kMaxEpSpanGpus)};
  }
  return std::nullopt;
}

scenario::Scenario with_plan(const scenario::Scenario& s, const ParallelPlan& plan, int gpus) {
  scenario::Scenario out = s;
  out.hardware.nodes = gpus / s.hardware.gpus_per_node;
  out.parallelism = plan;
  for (std::size_t i = 0; i < out.training.phases.size(); ++i) {
    ParallelPlan& q = out.training.phases[i].parallelism;
    if (i == 0) {
      q = plan;
      continue;
    }
    q = model::overlay(plan, s.parallelism, s.training.phases[i].parallelism);
    const int rest = q.tp * q.pp * q.cp;
    if (rest > 0 && gpus % rest == 0) q.dp = gpus / rest;
  }
  return out;
}

std::vector<std::string> plan_overrides(const scenario::Scenario& s, const ParallelPlan& plan, int gpus) {
  std::vector<std::string> out;
  if (gpus != scenario::gpu_count(s)) out.push_back(fmt::format("hardware.nodes={}", gpus / s.hardware.gpus_per_node));
  const scenario::Scenario target = with_plan(s, plan, gpus);
  const auto diff = [&out](const std::string& prefix, const ParallelPlan& from, const ParallelPlan& to) {
    const auto a = model::plan_field_texts(from);
    const auto b = model::plan_field_texts(to);
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (a[k].second != b[k].second) out.push_back(fmt::format("{}.{}={}", prefix, b[k].first, b[k].second));
    }
  };
  diff("parallelism", s.parallelism, plan);
  // What the loader makes of each phase with the new top-level plan, against what the search simulated.
  for (std::size_t i = 0; i < s.training.phases.size(); ++i) {
    const ParallelPlan loaded = model::overlay(plan, s.parallelism, s.training.phases[i].parallelism);
    diff(fmt::format("training.phases[{}].parallelism", i), loaded, target.training.phases[i].parallelism);
  }
  return out;
}

std::string plan_label(const ParallelPlan& p) {
  std::string schedule(schedule_name(p.schedule));
  if (p.virtual_stages > 1) schedule += fmt::format(" v{}", p.virtual_stages);
  return fmt::format("TP{} PP{} EP{} DP{} CP{}, {}, ZeRO-{}, micro-batch {}, recompute {}", p.tp, p.pp, p.ep, p.dp,
                     p.cp, schedule, p.zero, p.micro_batch, recompute_name(p.recompute));
}

std::vector<int> pareto_front(const std::vector<std::pair<double, double>>& points) {
  std::vector<int> order(points.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  const auto at = [&points](int i) { return points[static_cast<std::size_t>(i)]; };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return at(a) < at(b); });
  // Sorted by (time, cost), a point is dominated exactly when an earlier point
  // that is not equal to it costs no more: such a point is no slower and,
  // being earlier and different, better in time or in cost.
  std::vector<int> front;
  bool seen = false;
  double min_cost = 0;  // over the points before the current run of equal points
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i;
    while (j < order.size() && at(order[j]) == at(order[i])) ++j;
    const double cost = at(order[i]).second;
    if (!seen || min_cost > cost) {
      for (std::size_t k = i; k < j; ++k) front.push_back(order[k]);
    }
    if (!seen || cost < min_cost) min_cost = cost;
    seen = true;
    i = j;
  }
  return front;
}

PlanSearchResult search_plans(const scenario::Scenario& s, const PlanSearchOptions& o) {
  const scenario::Phase& ph = first_phase(s);
  const int gpn = s.hardware.gpus_per_node;
  PlanSearchResult r;
  r.scenario = s.name;
  r.model = s.model.name;
  r.gpu = s.hardware.gpu.name;
  r.gpus = o.gpus.empty() ? std::vector<int>{scenario::gpu_count(s)} : o.gpus;
  r.objective = o.objective;
  r.depth = o.depth;
  r.allow_overfit = o.allow_overfit;
  r.exhaustive = o.exhaustive;
  r.extrapolate = o.extrapolate;
  r.max_candidates = o.max_candidates;
  r.top = o.top;
  r.batch = ph.batch;
  r.seq_len = ph.seq_len;
  r.rental_usd_per_gpu_hour = s.cost.rental.value();
  for (int g : r.gpus) {
    if (g <= 0 || gpn <= 0 || g % gpn != 0) {
      throw ConfigError(fmt::format(
          "--gpus: {} is not a positive multiple of the {} GPUs per node (hardware.gpus_per_node)", g, gpn));
    }
  }
  if (o.objective == PlanObjective::cost && r.rental_usd_per_gpu_hour <= 0) {
    throw ConfigError("--objective cost needs a rental rate (cost.rental, e.g. \"$2/GPU-h\")");
  }
  if (o.top < 1) throw ConfigError(fmt::format("--top: expected a positive number, got {}", o.top));
  const int jobs = resolve_jobs(o.jobs);

  std::vector<std::string> grids;
  for (int g : r.gpus) {
    const std::string grid = grid_dimensions(s, g);
    if (std::find(grids.begin(), grids.end(), grid) == grids.end()) grids.push_back(grid);
    for (ParallelPlan& p : enumerate_plans(s, g)) {
      PlanCandidate c;
      c.gpus = g;
      c.plan = std::move(p);
      r.candidates.push_back(std::move(c));
    }
  }
  r.grid = fmt::format("{}", fmt::join(grids, "; or "));

  // The scenario's own plan on its own cluster, added when the grid misses it.
  const int own_gpus = scenario::gpu_count(s);
  if (std::find(r.gpus.begin(), r.gpus.end(), own_gpus) != r.gpus.end()) {
    for (std::size_t i = 0; i < r.candidates.size(); ++i) {
      if (r.candidates[i].gpus == own_gpus && r.candidates[i].plan == ph.parallelism) {
        r.published = static_cast<int>(i);
        break;
      }
    }
    if (!r.published) {
      PlanCandidate c;
      c.gpus = own_gpus;
      c.plan = ph.parallelism;
      c.in_grid = false;
      r.candidates.push_back(std::move(c));
      r.published = static_cast<int>(r.candidates.size()) - 1;
    }
    r.candidates[static_cast<std::size_t>(*r.published)].published = true;
  }
  const int n = static_cast<int>(r.candidates.size());
  r.counts.enumerated = n;

  // Rules, then memory (cheap: no simulation), on every worker.
  parallel_for(n, jobs, [&](std::int64_t i) {
    PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    if (const auto broken = check_plan(s, c.plan, c.gpus)) {
      c.fate = PlanFate::invalid;
      c.rule = broken->rule;
      c.reason = broken->reason;
      return;
    }
    fill_memory(s, c);
    c.fate = c.fits || o.allow_overfit ? PlanFate::simulated : PlanFate::over_memory;
  });

  // Dominance inside each shape, over the plans that are allowed to run.
  if (!o.exhaustive) {
    std::map<std::string, std::vector<int>> shapes;
    for (int i = 0; i < n; ++i) {
      const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
      if (c.fate == PlanFate::simulated) shapes[shape_key(c.gpus, c.plan)].push_back(i);
    }
    for (const auto& [key, members] : shapes) {
      for (int b : members) {
        for (int a : members) {
          if (never_slower(r.candidates[static_cast<std::size_t>(a)].plan,
                           r.candidates[static_cast<std::size_t>(b)].plan)) {
            r.candidates[static_cast<std::size_t>(b)].fate = PlanFate::dominated;
            break;
          }
        }
      }
    }
  }

  // The bound: the smallest closed-form bubble first, then enumeration order.
  std::vector<int> to_simulate;
  for (int i = 0; i < n; ++i) {
    if (r.candidates[static_cast<std::size_t>(i)].fate == PlanFate::simulated) to_simulate.push_back(i);
  }
  if (o.max_candidates > 0 && static_cast<int>(to_simulate.size()) > o.max_candidates) {
    const auto estimate = [&](int i) {
      const ParallelPlan& p = r.candidates[static_cast<std::size_t>(i)].plan;
      return bubble_estimate(p, ph.batch / (std::int64_t{p.dp} * p.micro_batch));
    };
    std::stable_sort(to_simulate.begin(), to_simulate.end(), [&](int a, int b) { return estimate(a) < estimate(b); });
    for (std::size_t k = static_cast<std::size_t>(o.max_candidates); k < to_simulate.size(); ++k) {
      r.candidates[static_cast<std::size_t>(to_simulate[k])].fate = PlanFate::beyond_bound;
    }
    to_simulate.resize(static_cast<std::size_t>(o.max_candidates));
    std::sort(to_simulate.begin(), to_simulate.end());
  }
  // The published plan is simulated whatever became of it, for reference.
  if (r.published) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(*r.published)];
    if (c.fate != PlanFate::simulated && c.fate != PlanFate::invalid) to_simulate.push_back(*r.published);
  }

  VariantOptions step_only;
  step_only.step = o.step;
  step_only.step.jobs = 1;  // candidates run side by side, each step on one thread
  step_only.depth = RunDepth::step;
  const auto exact = [&](PlanCandidate& c) {
    c.result = evaluate_variant(with_plan(s, c.plan, c.gpus), step_only);
    c.estimated = false;
    fill_per_token(r, c);
  };
  const int total = static_cast<int>(to_simulate.size());
  std::atomic<int> done{0};
  if (o.progress) o.progress(0, total);
  parallel_for(total, jobs, [&](std::int64_t k) {
    PlanCandidate& c = r.candidates[static_cast<std::size_t>(to_simulate[static_cast<std::size_t>(k)])];
    const std::int64_t micro_batches = ph.batch / (std::int64_t{c.plan.dp} * c.plan.micro_batch);
    if (o.extrapolate && micro_batches >= kExtrapolateFrom * c.plan.pp) {
      c.result = extrapolated_step(with_plan(s, c.plan, c.gpus), micro_batches, step_only);
      c.estimated = true;
      fill_per_token(r, c);
    } else {
      exact(c);
    }
    if (o.progress) o.progress(done.fetch_add(1) + 1, total);
  });
  for (int i : to_simulate) {
    if (r.candidates[static_cast<std::size_t>(i)].estimated) ++r.counts.extrapolated;
  }

  // Rank; simulate in full every extrapolated plan that is, or might be within
  // the margin, reported; rank again until none is left.
  for (;;) {
    rank_candidates(r);
    const std::vector<int> verify = to_verify(r);
    if (verify.empty()) break;
    parallel_for(std::ssize(verify), jobs, [&](std::int64_t k) {
      exact(r.candidates[static_cast<std::size_t>(verify[static_cast<std::size_t>(k)])]);
    });
    r.counts.verified += static_cast<int>(verify.size());
  }
  for (int i = 0; i < n; ++i) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    switch (c.fate) {
      case PlanFate::invalid: ++r.counts.invalid; break;
      case PlanFate::over_memory: ++r.counts.over_memory; break;
      case PlanFate::dominated: ++r.counts.dominated; break;
      case PlanFate::beyond_bound: ++r.counts.beyond_bound; break;
      case PlanFate::simulated:
        ++r.counts.simulated;
        if (!c.has_step()) ++r.counts.simulation_rejected;
        break;
    }
  }
  std::map<std::string, int> rules;
  for (const PlanCandidate& c : r.candidates) {
    if (c.fate == PlanFate::invalid) ++rules[c.rule];
  }
  r.counts.invalid_by_rule.assign(rules.begin(), rules.end());
  for (int i : r.ranking) {
    PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    c.overrides = plan_overrides(s, c.plan, c.gpus);
  }

  if (o.depth == RunDepth::run) {
    std::vector<int> runs(r.ranking.begin(),
                          r.ranking.begin() + std::min<std::ptrdiff_t>(o.top, std::ssize(r.ranking)));
    if (r.published && std::find(runs.begin(), runs.end(), *r.published) == runs.end() &&
        r.candidates[static_cast<std::size_t>(*r.published)].has_step()) {
      runs.push_back(*r.published);
    }
    VariantOptions whole;
    whole.step = step_only.step;
    whole.depth = RunDepth::run;
    parallel_for(std::ssize(runs), jobs, [&](std::int64_t k) {
      PlanCandidate& c = r.candidates[static_cast<std::size_t>(runs[static_cast<std::size_t>(k)])];
      c.run = evaluate_variant(with_plan(s, c.plan, c.gpus), whole);
    });
  }
  return r;
}

// ---- output ----------------------------------------------------------------

namespace {

const PlanCandidate& at(const PlanSearchResult& r, int i) { return r.candidates[static_cast<std::size_t>(i)]; }

// Where a candidate would stand in the ranking: 1 + the ranked candidates better than it.
int rank_of(const PlanSearchResult& r, int i) {
  const auto pos = std::find(r.ranking.begin(), r.ranking.end(), i);
  if (pos != r.ranking.end()) return static_cast<int>(pos - r.ranking.begin()) + 1;
  int rank = 1;
  for (int j : r.ranking) {
    if (better(r, j, i)) ++rank;
  }
  return rank;
}

std::string objective_words(PlanObjective o) {
  return o == PlanObjective::cost ? "dollars per token" : "step time per token";
}

double compute_s(const VariantResult& v) { return *v.step_s - v.bubble_s.value_or(0) - v.exposed_comm_s.value_or(0); }

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
  g.step_s = *published.step_s - *best.step_s;
  g.compute_s = compute_s(published) - compute_s(best);
  g.bubble_s = published.bubble_s.value_or(0) - best.bubble_s.value_or(0);
  g.exposed_comm_s = published.exposed_comm_s.value_or(0) - best.exposed_comm_s.value_or(0);
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
  std::string out = fmt::format("    {}: step {:.4g} s against {:.4g} s, {:.1f}% {}{}\n", who, *a.result->step_s,
                                *best.result->step_s, std::abs(g.step_s) / *best.result->step_s * 100,
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
  const std::string key = shape_key(pub.gpus, pub.plan);
  for (int i : r.ranking) {
    if (i != *r.published && shape_key(at(r, i).gpus, at(r, i).plan) == key) return i;
  }
  return std::nullopt;
}

std::string table_row(const PlanSearchResult& r, int rank, const PlanCandidate& c) {
  const ParallelPlan& p = c.plan;
  std::string schedule(schedule_name(p.schedule));
  if (p.virtual_stages > 1) schedule += fmt::format(" v{}", p.virtual_stages);
  const VariantResult& v = *c.result;
  std::string row = fmt::format(
      "{:>4} {:>5} {:>3} {:>3} {:>4} {:>5} {:>3} {:>3} {:>4} {:<19} {:<10} {:>7.1f}{} {:>8.4g} {:>9.0f} {:>6.1f}% "
      "{:>8.4g} {:>8.4g} {:>9}",
      rank, c.gpus, p.tp, p.pp, p.ep, p.dp, p.cp, p.micro_batch, p.zero, schedule, recompute_name(p.recompute),
      c.memory_gib, c.fits ? " " : "!", *v.step_s, v.tokens_per_s_per_gpu.value_or(0), v.mfu.value_or(0) * 100,
      v.exposed_comm_s.value_or(0), v.bubble_s.value_or(0),
      r.rental_usd_per_gpu_hour > 0 ? fmt::format("{:.4g}", c.usd_per_mtok) : std::string("-"));
  if (c.run) {
    row += c.run->final_run_usd ? fmt::format(" {:>10}", dollars_text(*c.run->final_run_usd))
                                : fmt::format("  n/a: {}", c.run->reason);
  }
  return row + "\n";
}

std::string table_header(const PlanSearchResult& r) {
  std::string h = fmt::format(
      "{:>4} {:>5} {:>3} {:>3} {:>4} {:>5} {:>3} {:>3} {:>4} {:<19} {:<10} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8} {:>9}",
      "#", "GPUs", "TP", "PP", "EP", "DP", "CP", "MB", "ZeRO", "schedule", "recompute", "mem GiB", "step s",
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
  j.set("memory_gib", c.memory_gib);
  j.set("capacity_gib", c.capacity_gib);
  j.set("fits", c.fits);
  if (c.result) {
    const VariantResult& v = *c.result;
    j.set("status", status_name(v.status));
    if (v.status == VariantStatus::invalid) j.set("reason", v.reason);
    j.set("step_s", optional_json(v.step_s));
    j.set("tokens_per_s_per_gpu", optional_json(v.tokens_per_s_per_gpu));
    j.set("mfu_bf16", optional_json(v.mfu));
    j.set("exposed_comm_s", optional_json(v.exposed_comm_s));
    j.set("bubble_s", optional_json(v.bubble_s));
    j.set("estimated", c.estimated);
    if (c.has_step()) {
      j.set("seconds_per_million_tokens", c.seconds_per_mtok);
      j.set("usd_per_million_tokens", c.usd_per_mtok);
      j.set("rank", rank_of(r, i));
    }
  }
  if (c.run) {
    Json run = Json::object();
    run.set("status", status_name(c.run->status));
    if (c.run->status == VariantStatus::invalid) run.set("reason", c.run->reason);
    run.set("gpu_hours", optional_json(c.run->gpu_hours));
    run.set("wall_days", optional_json(c.run->wall_days));
    run.set("final_run_usd", optional_json(c.run->final_run_usd));
    run.set("oracle", c.run->oracle);
    j.set("run", std::move(run));
  }
  return j;
}

std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
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
  out += fmt::format("  simulated    {:>7}  steady-state step of the first phase; {} refused by the step simulation\n",
                     k.simulated, k.simulation_rejected);
  if (k.extrapolated > 0) {
    out += fmt::format(
        "               {:>7}  of them screened by two short steps ({} or more micro-batches per pipeline rank), "
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
    case PlanFate::simulated: out += fmt::format("  rank {} of {}", rank, of); break;
    case PlanFate::over_memory:
      out +=
          fmt::format("  pruned, memory {:.1f} GiB > {:.1f} GiB; simulated anyway for reference: would rank {} of {}",
                      pub.memory_gib, pub.capacity_gib, rank, of);
      break;
    default:
      out += fmt::format("  {}; simulated anyway for reference: would rank {} of {}", fate_name(pub.fate), rank, of);
      break;
  }
  out += fmt::format("  (step {:.4g} s, {:.0f} tokens/s/GPU, MFU {:.1f}%)\n", *pv.step_s,
                     pv.tokens_per_s_per_gpu.value_or(0), pv.mfu.value_or(0) * 100);
  if (pub.run) {
    out += pub.run->final_run_usd ? fmt::format("  whole run: {:.4g} GPU-hours, {:.1f} days, final run {}\n",
                                                pub.run->gpu_hours.value_or(0), pub.run->wall_days.value_or(0),
                                                dollars_text(*pub.run->final_run_usd))
                                  : fmt::format("  whole run: n/a: {}\n", pub.run->reason);
  }
  const std::optional<int> variant = fitting_variant(r);
  if (variant) {
    const PlanCandidate& v = at(r, *variant);
    out +=
        fmt::format("  same shape, fitting: ZeRO-{}, recompute {}: {:.1f} GiB, step {:.4g} s, rank {}\n", v.plan.zero,
                    recompute_name(v.plan.recompute), v.memory_gib, *v.result->step_s, rank_of(r, *variant));
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
  j.set("tokens_per_step", tokens_per_step(r));
  j.set("rental_usd_per_gpu_hour", r.rental_usd_per_gpu_hour);
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
      "gpus,tp,pp,ep,dp,cp,virtual_stages,micro_batch,zero,schedule,recompute,stage_layers,fate,published,"
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
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4f},{:.4f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        c.gpus, p.tp, p.pp, p.ep, p.dp, p.cp, p.virtual_stages, p.micro_batch, p.zero, schedule_name(p.schedule),
        recompute_name(p.recompute), stage_layers_text(p.stage_layers), fate_name(c.fate), c.published, c.memory_gib,
        c.capacity_gib, c.fits, c.result ? status_name(v.status) : "", csv_field(v.reason), csv_number(v.step_s),
        csv_number(v.tokens_per_s_per_gpu), csv_number(v.mfu), csv_number(v.exposed_comm_s), csv_number(v.bubble_s),
        c.estimated, step ? fmt::format("{}", c.seconds_per_mtok) : "", step ? fmt::format("{}", c.usd_per_mtok) : "",
        step ? fmt::format("{}", rank_of(r, i)) : "", on_front, c.run ? csv_number(c.run->gpu_hours) : "",
        c.run ? csv_number(c.run->final_run_usd) : "");
  }
  return out;
}

}  // namespace tcsim::reports
