// Parallel-plan search: the grid, the rules, memory pruning, dominance,
// parallel step simulation, ranking and the Pareto front. Conventions and the
// reasons behind each bound: plan_search.h and docs/plan-search.md.
#include "study/plan_search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/parallel.h"
#include "model/memory.h"
#include "model/names.h"
#include "model/plan_fields.h"
#include "model/schedule.h"
#include "scenarios/rules.h"
#include "sim/step_bound.h"

namespace tcsim::study {
namespace {

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
// screened by two short steps of kShortSteps x pp micro-batches, checked by a
// third (kMidStep), and simulated in full only when they might be reported:
// within kScreenMargin of the K-th best or of the front. Interleaved 1F1B
// reaches its steady state after about 2 pp micro-batches (tests/plan), so the
// short steps start at 4 pp; the margin is over six times the largest
// extrapolation error against full simulations of 648 DeepSeek-V3 plans
// (0.15%, docs/plan-search.md).
constexpr std::array<std::int64_t, 2> kShortSteps{4, 8};
// A third short step, between the two, checks that the step is already
// affine there: a plan whose midpoint is off the line by more than this share
// of the step is simulated in full (TP8 PP2 interleaved 1F1B on the small
// test model changes its per-micro-batch cost at 8 pp, tests/plan).
constexpr std::int64_t kMidStep = 6;
constexpr double kAffineTolerance = 5e-4;
// A bound of the search, not a rule of the loader: expert-parallel groups span
// ep x tp GPUs (the ep ranks of one tp rank, tp apart: sim/layout.h). The
// step simulation's flow-level all-to-all takes about a second per step over
// 1024 GPUs and did not finish in five minutes over 2048 (TP8 EP256 on
// DeepSeek-V3's 2048 H800), so wider groups are not simulated.
constexpr int kMaxEpSpanGpus = 1024;
constexpr double kScreenMargin = 0.01;
// Plans taken (bounded) or simulated between two updates of the thresholds.
constexpr std::size_t kBoundRound = 32;
// Plans bounded ahead at most while a batch's last steps run: a batch's tail
// is about one step (tens of milliseconds), a bound a few milliseconds.
constexpr std::size_t kAheadBounds = 2 * kBoundRound;

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

// Closed-form pipeline bubble over the work of one rank, with forward, input
// gradient and weight gradient of one unit each (docs/simulation.md,
// "Schedules"): the order in which a bounded search simulates.
double bubble_estimate(const ParallelPlan& p, std::int64_t micro_batches) {
  const double bubble = model::pipeline_schedule(p.schedule).bubble(p.pp, p.virtual_stages);
  return bubble / (3.0 * static_cast<double>(micro_batches));
}

using model::recompute_name;
using model::schedule_name;

// (objective, the other figure): the ranking key.
std::pair<double, double> key_of(const PlanSearchResult& r, const PlanCandidate& c) {
  if (r.objective == PlanObjective::cost) return {c.cost_per_mtok.value(), c.time_per_mtok.value()};
  return {c.time_per_mtok.value(), c.cost_per_mtok.value()};
}

void fill_memory(const scenario::Scenario& s, PlanCandidate& c) {
  const scenario::Phase& ph = first_phase(s);
  const model::MemoryBudget m =
      model::memory_per_gpu(s.model, c.plan, s.precision, ph.seq_len, s.hardware.gpu.hbm_capacity, s.memory);
  c.memory = m.total;
  c.capacity = m.capacity;
  c.fits = m.fits;
}

void fill_per_token(const PlanSearchResult& r, PlanCandidate& c) {
  if (!c.has_step()) return;
  const double tokens = static_cast<double>(r.tokens_per_step());
  const double step_s = c.result->step->value();
  c.time_per_mtok = Seconds(step_s / tokens * kMillion);
  c.cost_per_mtok = Dollars(step_s * c.gpus * r.rental.value() / kSecondsPerHour / tokens * kMillion);
}

// The steady-state step is affine in the micro-batches per pipeline n once
// every rank is past its warm-up: each further micro-batch adds the same
// forward and backward work to every rank (docs/plan-search.md; DeepSeek-V3
// plans agree within 0.15%, tests/plan). Two short steps of 4 pp and 8 pp
// micro-batches then predict a long one at a fraction of its cost, when a
// third between them lies on their line; nullopt when it does not (the plan
// is then simulated in full).
std::optional<VariantResult> extrapolated_step(scenario::Scenario s, std::int64_t n, const VariantOptions& o,
                                               StepMemo& memo) {
  scenario::Phase& ph = s.training.phases.front();
  const ParallelPlan& p = ph.parallelism;
  const std::int64_t round = std::int64_t{p.dp} * p.micro_batch;
  const std::int64_t n1 = kShortSteps[0] * p.pp;
  const std::int64_t n2 = kShortSteps[1] * p.pp;
  ph.batch = n1 * round;
  const VariantResult a = evaluate_variant(s, o, memo);
  ph.batch = n2 * round;
  VariantResult b = evaluate_variant(s, o, memo);
  if (!a.step || !b.step) return a.step ? b : a;
  const auto at = [&](Seconds ya, Seconds yb, std::int64_t x) {
    return Seconds(yb.value() + (yb.value() - ya.value()) / static_cast<double>(n2 - n1) * static_cast<double>(x - n2));
  };
  const auto line = [&](Seconds ya, Seconds yb) { return at(ya, yb, n); };
  ph.batch = kMidStep * p.pp * round;
  const VariantResult mid = evaluate_variant(s, o, memo);
  if (!mid.step) return std::nullopt;
  const Seconds expected = at(*a.step, *b.step, kMidStep * p.pp);
  if (std::abs(mid.step->value() - expected.value()) > kAffineTolerance * expected.value()) return std::nullopt;
  const Seconds t = line(*a.step, *b.step);
  // Throughput and MFU scale with the tokens per second.
  const double speedup = static_cast<double>(n) / static_cast<double>(n2) * b.step->value() / t.value();
  VariantResult out = b;
  out.step = t;
  if (a.exposed_comm && b.exposed_comm) out.exposed_comm = line(*a.exposed_comm, *b.exposed_comm);
  if (a.bubble && b.bubble) out.bubble = line(*a.bubble, *b.bubble);
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
  std::sort(r.ranking.begin(), r.ranking.end(), [&](int a, int b) { return ranks_before(r, a, b); });
  std::vector<std::pair<double, double>> points;
  for (int i : r.ranking) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    points.emplace_back(c.time_per_mtok.value(), c.cost_per_mtok.value());
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
      if (q != i && f.time_per_mtok * (1 + kScreenMargin) <= c.time_per_mtok &&
          f.cost_per_mtok * (1 + kScreenMargin) <= c.cost_per_mtok) {
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

// The cluster size and every field of the plan, as one key.
std::string plan_text(int gpus, const ParallelPlan& p) {
  std::string text = fmt::format("{}", gpus);
  for (const auto& [name, value] : model::plan_field_texts(p)) text += fmt::format(" {}={}", name, value);
  return text;
}

// A plan's bound per million tokens, in time and in dollars.
struct Bound {
  bool known = false;
  SimTime step;
  double time_per_mtok = 0;
  double cost_per_mtok = 0;
};

Bound per_token(const PlanSearchResult& r, const PlanCandidate& c, SimTime step) {
  Bound b;
  b.step = step;
  const double step_s = to_seconds(step).value();
  const double tokens = static_cast<double>(r.tokens_per_step());
  b.time_per_mtok = step_s / tokens * kMillion;
  b.cost_per_mtok = step_s * c.gpus * r.rental.value() / kSecondsPerHour / tokens * kMillion;
  b.known = step_s > 0;
  return b;
}

// The compute bound (sim::compute_bound): cheap, no topology, no collective.
Bound plan_bound(const PlanSearchResult& r, const scenario::Scenario& s, const PlanCandidate& c) {
  try {
    return per_token(r, c, sim::compute_bound(sim::step_shape(with_plan(s, c.plan, c.gpus))));
  } catch (const std::exception&) {
    return {};  // the step simulation says why (a refused plan is reported as such)
  }
}

// The bound with the collectives the chunks wait for (sim::step_bound), their
// times alone kept in the memo's store for the step simulated after it.
Bound chained_bound(const PlanSearchResult& r, const scenario::Scenario& s, const PlanCandidate& c, StepMemo& memo) {
  try {
    return per_token(r, c, memo.bound(sim::step_shape(with_plan(s, c.plan, c.gpus))));
  } catch (const std::exception&) {
    return {};
  }
}

// Whether a plan whose bound is `b` can no longer be reported: slower, by the
// screening margin, than the K-th best, than the best on the published plan's
// cluster and than the published plan itself (whose rank must count every
// better plan), and dominated by a point of the front by the same margin.
// Needs the K results and that best first: until then nothing is outpaced.
bool outpaced(const PlanSearchResult& r, const PlanCandidate& c, const Bound& b) {
  const auto& cs = r.candidates;
  const double margin = 1 + kScreenMargin;
  const double key = r.objective == PlanObjective::cost ? b.cost_per_mtok : b.time_per_mtok;
  if (r.ranking.size() < static_cast<std::size_t>(r.top)) return false;
  if (key <= key_of(r, cs[static_cast<std::size_t>(r.ranking[static_cast<std::size_t>(r.top) - 1])]).first * margin) {
    return false;
  }
  if (r.published) {
    const PlanCandidate& p = cs[static_cast<std::size_t>(*r.published)];
    if (!p.has_step() || key <= key_of(r, p).first * margin) return false;
    bool best_beside = false;
    for (int i : r.ranking) {
      if (cs[static_cast<std::size_t>(i)].gpus != p.gpus) continue;
      if (c.gpus == p.gpus && key <= key_of(r, cs[static_cast<std::size_t>(i)]).first * margin) return false;
      best_beside = true;
      break;
    }
    if (!best_beside) return false;
  }
  const bool priced = r.rental.value() > 0;
  for (int q : r.pareto) {
    const PlanCandidate& f = cs[static_cast<std::size_t>(q)];
    if (f.time_per_mtok.value() * margin < b.time_per_mtok &&
        (!priced || f.cost_per_mtok.value() * margin < b.cost_per_mtok)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view fate_name(PlanFate f) {
  switch (f) {
    case PlanFate::invalid: return "invalid";
    case PlanFate::over_memory: return "over-memory";
    case PlanFate::dominated: return "dominated";
    case PlanFate::beyond_bound: return "beyond-bound";
    case PlanFate::outpaced: return "outpaced";
    case PlanFate::simulated: return "simulated";
  }
  return "?";
}

// Expert tensor parallelism to try: tp (0) always; 1 as well for a
// mixture-of-experts model with tp > 1 (Megatron-Core's published DeepSeek-V3
// plans run their experts at ETP1 under TP2).
std::vector<int> expert_tp_choices(const scenario::Scenario& s, int tp) {
  if (!s.model.moe || tp == 1) return {0};
  return {0, 1};
}

// The overlaps a framework turns on for a candidate's shape, where tcsim's
// rules allow them (docs/plan-search.md, "Overlaps"): sequence parallelism
// whenever tp > 1 (Megatron-LM's advice with TP; the same bytes on the wire,
// activations sharded); combined 1F1B for MoE with ep > 1 where it runs;
// the parameter all-gather beside the forward under ZeRO-1/2 when gradients
// are reduced beside the backward. The scenario's own choice stays for the
// rest (TP-comm overlap only with SP, shared-expert overlap, gradient
// overlap).
void set_overlaps(const scenario::Scenario& s, ParallelPlan& p) {
  p.sequence_parallel = p.tp > 1;
  if (!p.sequence_parallel) p.overlap_tp_comm = false;
  const bool moe = s.model.moe.has_value() && p.ep > 1;
  // DualPipe pairs its chunks whatever the flag says: the scenario's value stays.
  const bool pairs = p.schedule == Schedule::interleaved_1f1b || (p.schedule == Schedule::one_f_one_b && p.pp == 1);
  if (!moe) {
    p.overlap_ep_comm = false;
  } else if (p.schedule != Schedule::dualpipe) {
    p.overlap_ep_comm = pairs;
  }
  if (!moe) p.overlap_shared_expert = false;
  p.overlap_param_gather = (p.zero == 1 || p.zero == 2) && p.overlap_grad_reduce;
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
                  for (int etp : expert_tp_choices(s, tp)) {
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
                    p.expert_tp = etp;
                    p.stage_layers = stage_layers_for(s, pp * sc.virtual_stages);
                    set_overlaps(s, p);
                    out.push_back(std::move(p));
                  }
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
      "micro-batch {{{}}} x ZeRO {{{}}} x recompute {{{}}}{}; overlaps as frameworks set them (SP with tp > 1, "
      "combined 1F1B for MoE, parameter all-gather beside the forward)",
      fmt::join(tp_choices(s, gpus), ","), fmt::join(cp_choices(s), ","), s.model.layers, fmt::join(ep_choices(s), ","),
      fmt::join(schedules, ", "), fmt::join(kMicroBatches, ","), fmt::join(kZeroStages, ","),
      fmt::join(recomputes, ", "), s.model.moe ? " x expert-TP {tp, 1} (tp > 1)" : "");
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
  std::string extras;
  if (p.sequence_parallel) extras += " SP";
  if (p.expert_tp == 1 && p.tp > 1) extras += " ETP1";
  return fmt::format("TP{} PP{} EP{} DP{} CP{}{}, {}, ZeRO-{}, micro-batch {}, recompute {}", p.tp, p.pp, p.ep, p.dp,
                     p.cp, extras, schedule, p.zero, p.micro_batch, recompute_name(p.recompute));
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
  r.outpace = o.outpace && !o.exhaustive && o.step.fidelity == sim::Fidelity::symmetric;
  r.extrapolate = o.extrapolate;
  r.max_candidates = o.max_candidates;
  r.top = o.top;
  r.batch = ph.batch;
  r.seq_len = ph.seq_len;
  r.rental = s.cost.rental;
  for (int g : r.gpus) {
    if (g <= 0 || gpn <= 0 || g % gpn != 0) {
      throw ConfigError(fmt::format(
          "--gpus: {} is not a positive multiple of the {} GPUs per node (hardware.gpus_per_node)", g, gpn));
    }
  }
  if (o.objective == PlanObjective::cost && r.rental.value() <= 0) {
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
      if (c.fate == PlanFate::simulated) shapes[plan_shape_key(c.gpus, c.plan)].push_back(i);
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

  // The steps this search has simulated: a verified plan, or its whole run,
  // reuses the step its screening or ranking simulated.
  StepMemo memo;
  VariantOptions step_only;
  step_only.step = o.step;
  step_only.step.jobs = 1;  // candidates run side by side, each step on one thread
  step_only.depth = RunDepth::step;
  const auto exact = [&](PlanCandidate& c) {
    c.result = evaluate_variant(with_plan(s, c.plan, c.gpus), step_only, memo);
    c.estimated = false;
    fill_per_token(r, c);
  };
  const int total = static_cast<int>(to_simulate.size());
  std::atomic<int> done{0};
  if (o.progress) o.progress(0, total);
  const auto simulate = [&](int i) {
    PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    const std::int64_t micro_batches = ph.batch / (std::int64_t{c.plan.dp} * c.plan.micro_batch);
    std::optional<VariantResult> screened;
    if (o.extrapolate && micro_batches >= kExtrapolateFrom * c.plan.pp) {
      screened = extrapolated_step(with_plan(s, c.plan, c.gpus), micro_batches, step_only, memo);
    }
    if (screened) {
      c.result = std::move(*screened);
      c.estimated = true;
      fill_per_token(r, c);
    } else {
      exact(c);
    }
  };
  // The bounds (sim/step_bound.h): a plan whose bound is already slower than
  // everything the output reports, by the screening margin, is outpaced and
  // not simulated (below, best first). --exhaustive simulates every plan. The
  // bounds are proved for the symmetric step (every GPU at speed 1, every
  // expert load 1): a full-fidelity search simulates every plan.
  const bool bounding = o.outpace && !o.exhaustive && o.step.fidelity == sim::Fidelity::symmetric;
  std::vector<Bound> bounds(static_cast<std::size_t>(n));
  if (bounding) {
    // The compute bound reads neither the ZeRO stage nor the data-parallel
    // overlaps (the chunks' work and the schedule only): one per group of
    // plans that differ in those alone.
    std::map<std::string, std::vector<int>> alike;
    for (const int i : to_simulate) {
      const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
      ParallelPlan key = c.plan;
      key.zero = 0;
      key.overlap_param_gather = false;
      key.overlap_grad_reduce = false;
      alike[plan_text(c.gpus, key)].push_back(i);
    }
    std::vector<const std::vector<int>*> groups;
    for (const auto& [key, members] : alike) groups.push_back(&members);
    parallel_for(std::ssize(groups), jobs, [&](std::int64_t k) {
      const std::vector<int>& members = *groups[static_cast<std::size_t>(k)];
      const Bound b = plan_bound(r, s, r.candidates[static_cast<std::size_t>(members.front())]);
      for (const int i : members) {
        bounds[static_cast<std::size_t>(i)] = per_token(r, r.candidates[static_cast<std::size_t>(i)], b.step);
      }
    });
  }
  std::vector<int> order = to_simulate;
  std::vector<std::uint8_t> by_collectives(static_cast<std::size_t>(n), 0);
  const std::string published_shape = r.published
                                          ? plan_shape_key(r.candidates[static_cast<std::size_t>(*r.published)].gpus,
                                                           r.candidates[static_cast<std::size_t>(*r.published)].plan)
                                          : std::string();
  // Plans always simulated: no bound, the published plan, and the plans of its shape.
  std::vector<std::uint8_t> exempt_flag(static_cast<std::size_t>(n), 1);
  for (const int i : to_simulate) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    exempt_flag[static_cast<std::size_t>(i)] = !bounds[static_cast<std::size_t>(i)].known || c.published ||
                                               (r.published && plan_shape_key(c.gpus, c.plan) == published_shape);
  }
  const auto exempt = [&](int i) { return exempt_flag[static_cast<std::size_t>(i)] != 0; };
  // Exempt plans first (their key sorts below any bound), then by bound.
  constexpr double kFirst = -1.0;
  const auto bound_key = [&](int i) {
    const Bound& b = bounds[static_cast<std::size_t>(i)];
    return exempt(i) ? kFirst : r.objective == PlanObjective::cost ? b.cost_per_mtok : b.time_per_mtok;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return bound_key(a) < bound_key(b); });
  // `spare`: work for a worker left idle by the batch's last steps (bounds
  // of plans not yet taken, parallel_for_with_spare).
  const auto simulate_all = [&](const std::vector<int>& batch, const std::vector<int>& spare_plans = {},
                                const std::function<void(int)>& spare = {}) {
    parallel_for_with_spare(
        std::ssize(batch), jobs,
        [&](std::int64_t k) {
          simulate(batch[static_cast<std::size_t>(k)]);
          if (o.progress) o.progress(done.fetch_add(1) + 1, total);
        },
        std::ssize(spare_plans), [&](std::int64_t j) { spare(spare_plans[static_cast<std::size_t>(j)]); });
  };
  if (!bounding) {
    for (std::size_t start = 0; start < order.size(); start += kBoundRound) {
      const std::size_t end = std::min(order.size(), start + kBoundRound);
      simulate_all(
          {order.begin() + static_cast<std::ptrdiff_t>(start), order.begin() + static_cast<std::ptrdiff_t>(end)});
    }
  } else {
    // Best first. Plans are taken in the order of their compute bound, kBoundRound at a time,
    // and bounded again with their collectives (each by the worker, against the thresholds of
    // the batch's start); those left wait in a pool by that bound. A batch of the pool is
    // simulated when its best bound is below the compute bound of every plan not yet taken
    // (a plan's bound with collectives is never below its compute bound), so plans are
    // simulated in the order of their bound with collectives, the best first, and the
    // thresholds tighten as early as they can. Each batch is decided from the figures of the
    // batches before it: the result does not depend on the number of workers.
    const auto key = [&](const Bound& b) {
      return r.objective == PlanObjective::cost ? b.cost_per_mtok : b.time_per_mtok;
    };
    using Pooled = std::pair<double, int>;  // (key, candidate), smallest first
    std::priority_queue<Pooled, std::vector<Pooled>, std::greater<>> pool;
    std::vector<std::uint8_t> chained_known(static_cast<std::size_t>(n), 0);  // bounds[i] is with collectives
    // Bounds with collectives computed ahead, by workers the steps left idle:
    // the same figures a plan's own bounding gives (a bound reads the plan and
    // the cluster alone), so they change nothing but when the work is done.
    std::vector<Bound> ahead(static_cast<std::size_t>(n));
    std::vector<std::uint8_t> ahead_known(static_cast<std::size_t>(n), 0);
    const auto bound_ahead = [&](int i) {
      ahead[static_cast<std::size_t>(i)] = chained_bound(r, s, r.candidates[static_cast<std::size_t>(i)], memo);
      ahead_known[static_cast<std::size_t>(i)] = 1;
    };
    const auto mark_outpaced = [&](int i, bool collectives) {
      r.candidates[static_cast<std::size_t>(i)].fate = PlanFate::outpaced;
      by_collectives[static_cast<std::size_t>(i)] = collectives ? 1 : 0;
      if (o.progress) o.progress(done.fetch_add(1) + 1, total);
    };
    std::size_t next = 0;
    while (next < order.size() || !pool.empty()) {
      rank_candidates(r);
      const double frontier = next < order.size() ? bound_key(order[next]) : std::numeric_limits<double>::infinity();
      if (pool.empty() || pool.top().first > frontier) {
        // Take the next plans: exempt ones go to the pool first, the rest are bounded.
        std::vector<int> taken;
        for (; next < order.size() && taken.size() < kBoundRound; ++next) {
          const int i = order[next];
          if (exempt(i)) {
            pool.emplace(kFirst, i);
          } else if (outpaced(r, r.candidates[static_cast<std::size_t>(i)], bounds[static_cast<std::size_t>(i)])) {
            mark_outpaced(i, false);
          } else {
            taken.push_back(i);
          }
        }
        std::vector<Bound> chained(taken.size());
        parallel_for(std::ssize(taken), jobs, [&](std::int64_t k) {
          const int i = taken[static_cast<std::size_t>(k)];
          chained[static_cast<std::size_t>(k)] =
              ahead_known[static_cast<std::size_t>(i)]
                  ? ahead[static_cast<std::size_t>(i)]
                  : chained_bound(r, s, r.candidates[static_cast<std::size_t>(i)], memo);
        });
        for (std::size_t k = 0; k < taken.size(); ++k) {
          const int i = taken[k];
          const Bound& b = chained[k].known ? chained[k] : bounds[static_cast<std::size_t>(i)];
          if (chained[k].known && outpaced(r, r.candidates[static_cast<std::size_t>(i)], b)) {
            mark_outpaced(i, true);
          } else {
            bounds[static_cast<std::size_t>(i)] = b;
            chained_known[static_cast<std::size_t>(i)] = chained[k].known ? 1 : 0;
            pool.emplace(key(b), i);
          }
        }
        continue;
      }
      // Simulate the best of the pool, those still not outpaced.
      std::vector<int> batch;
      while (!pool.empty() && batch.size() < kBoundRound && pool.top().first <= frontier) {
        const int i = pool.top().second;
        pool.pop();
        if (!exempt(i) && outpaced(r, r.candidates[static_cast<std::size_t>(i)], bounds[static_cast<std::size_t>(i)])) {
          mark_outpaced(i, chained_known[static_cast<std::size_t>(i)] != 0);
        } else {
          batch.push_back(i);
        }
      }
      // The plans to be taken next that are not outpaced yet (thresholds
      // only tighten, so those outpaced now would be when taken).
      std::vector<int> upcoming;
      for (std::size_t q = next; q < order.size() && upcoming.size() < kAheadBounds; ++q) {
        const int i = order[q];
        if (!exempt(i) && !ahead_known[static_cast<std::size_t>(i)] &&
            !outpaced(r, r.candidates[static_cast<std::size_t>(i)], bounds[static_cast<std::size_t>(i)])) {
          upcoming.push_back(i);
        }
      }
      simulate_all(batch, upcoming, bound_ahead);
    }
  }
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
      case PlanFate::outpaced:
        ++r.counts.outpaced;
        r.counts.outpaced_by_collectives += by_collectives[static_cast<std::size_t>(i)];
        break;
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
      c.run = evaluate_variant(with_plan(s, c.plan, c.gpus), whole, memo);
    });
  }
  return r;
}

bool ranks_before(const PlanSearchResult& r, int a, int b) {
  const auto ka = key_of(r, r.candidates[static_cast<std::size_t>(a)]);
  const auto kb = key_of(r, r.candidates[static_cast<std::size_t>(b)]);
  if (ka != kb) return ka < kb;
  return a < b;
}

std::string plan_shape_key(int gpus, const ParallelPlan& p) {
  ParallelPlan shape = p;
  shape.zero = 0;
  shape.recompute = Recompute::none;
  // The grid sets it from the ZeRO stage (set_overlaps): not part of the shape.
  shape.overlap_param_gather = false;
  return plan_text(gpus, shape);
}

}  // namespace tcsim::study
