// Parallel-plan search: every plan of a bounded grid for the scenario's model
// on one or more cluster sizes, checked against the loader's and the
// schedules' rules, pruned by the memory model, then simulated (the
// steady-state step of the first phase, symmetric fidelity) and ranked by
// time or dollars per token, with the time-versus-cost Pareto front.
//
// The model in one paragraph: a *candidate* is a ParallelPlan on a GPU count.
// It is *invalid* when it breaks a rule the loader or the step simulation
// would reject (named by a short rule category); *over memory* when
// model::memory_per_gpu exceeds the GPU's capacity; *dominated* when a plan
// of the same shape (every field but ZeRO stage and recompute policy) that
// fits is never slower in the step model (less recompute; ZeRO-1 for ZeRO-2,
// whose steps are the same); *beyond the bound* when more survive
// than --max-candidates; the rest are *simulated*, in parallel, each result
// in its own slot, so the outcome does not depend on the number of workers.
// The candidate replaces the first phase's plan; later phases keep their own
// overrides (docs/plan-search.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/named.h"
#include "model/spec.h"
#include "scenarios/scenario.h"
#include "study/variant.h"

namespace tcsim::study {

enum class PlanObjective {
  time,  // step time per token (the global batch is the scenario's: same tokens per step)
  cost,  // dollars per token at the rental rate: time x GPUs x rate
};
inline constexpr std::array<Named<PlanObjective>, 2> kPlanObjectiveNames{
    {{"time", PlanObjective::time}, {"cost", PlanObjective::cost}}};

// What became of a candidate, in the order the search decides it.
enum class PlanFate {
  invalid,       // breaks a rule (PlanCandidate::rule, ::reason)
  over_memory,   // memory per GPU above the GPU's capacity
  dominated,     // a fitting plan of the same shape is never slower
  beyond_bound,  // not simulated: more candidates than --max-candidates
  outpaced,      // not simulated: its bound (sim/step_bound.h) is slower than every plan reported
  simulated,     // step simulated (result.status: ok, does-not-fit with --allow-overfit, or invalid)
};
std::string_view fate_name(PlanFate f);

struct PlanCandidate {
  int gpus = 0;
  model::ParallelPlan plan;
  PlanFate fate = PlanFate::invalid;
  std::string rule;    // invalid: the rule's category ("layers", "batch", "ep", ...)
  std::string reason;  // invalid: the message
  Bytes memory;        // per GPU
  Bytes capacity;
  bool fits = false;
  bool published = false;  // the scenario's own first-phase plan on its own cluster
  bool in_grid = true;     // false: the published plan, added because the grid does not hold it
  // The step (simulated candidates, and the published plan whatever its fate).
  std::optional<VariantResult> result;
  Seconds time_per_mtok;               // step time per million tokens
  Dollars cost_per_mtok;               // step time x GPUs x rental rate per million tokens
  std::optional<VariantResult> run;    // the whole run (--depth run, top K only)
  std::vector<std::string> overrides;  // ranked candidates: the --set overrides that give it (plan_overrides)
  // The step figures are extrapolated from two short steps (many micro-batches
  // per pipeline), not simulated in full; never true for a reported plan.
  bool estimated = false;

  // A simulated step with figures.
  bool has_step() const { return result && result->step && result->status != VariantStatus::invalid; }
};

struct PlanSearchOptions {
  std::vector<int> gpus;  // cluster sizes (multiples of gpus_per_node); empty: the scenario's own
  PlanObjective objective = PlanObjective::time;
  int top = 10;
  int jobs = 0;                // workers; 0: std::thread::hardware_concurrency()
  int max_candidates = 0;      // step simulations at most; 0: no bound
  bool allow_overfit = false;  // keep plans over the memory capacity
  bool exhaustive = false;     // simulate dominated and outpaced plans too
  // Skip plans whose bound (sim/step_bound.h: the compute bound, then the
  // bound with collectives) is slower than every plan reported; false (or
  // exhaustive): simulate them.
  bool outpace = true;
  // Screen plans with many micro-batches per pipeline by two short steps;
  // false: simulate every plan in full.
  bool extrapolate = true;
  RunDepth depth = RunDepth::step;  // run: the whole run and its dollars for the top K
  sim::StepOptions step;            // symmetric fidelity by default
  // Called once before the step simulations with (0, total), then after each
  // with (done, total), from the worker that finished it: must be thread-safe.
  std::function<void(int done, int total)> progress;
};

struct PlanCounts {
  int enumerated = 0;  // the grid, over every cluster size (the published plan added when outside it)
  int invalid = 0;
  std::vector<std::pair<std::string, int>> invalid_by_rule;  // rule category, count; by rule name
  int over_memory = 0;
  int dominated = 0;
  int beyond_bound = 0;
  int outpaced = 0;
  int outpaced_by_collectives = 0;  // of `outpaced`: by the bound with collectives, not by compute alone
  int simulated = 0;
  int extrapolated = 0;         // of `simulated`: screened by short steps (their line checked by a third)
  int verified = 0;             // of `extrapolated`: then simulated in full, as they might be reported
  int simulation_rejected = 0;  // simulated, but the step simulation refused the plan
};

struct PlanSearchResult {
  std::string scenario;  // the scenario's name
  std::string model;
  std::string gpu;
  std::vector<int> gpus;
  PlanObjective objective = PlanObjective::time;
  RunDepth depth = RunDepth::step;
  bool allow_overfit = false;
  bool exhaustive = false;
  bool outpace = true;
  bool extrapolate = true;
  int max_candidates = 0;
  int top = 10;
  std::int64_t batch = 0;  // sequences per step
  int seq_len = 0;
  DollarsPerGpuHour rental;
  std::string grid;                       // the grid's dimensions in words
  std::vector<PlanCandidate> candidates;  // every candidate, in enumeration order
  PlanCounts counts;
  std::vector<int> ranking;  // candidates with a step (fitting unless --allow-overfit), best first
  std::vector<int> pareto;   // of `ranking`: not dominated in (time, cost) per token, fastest first
  std::optional<int> published;

  std::int64_t tokens_per_step() const { return batch * seq_len; }
};

// The grid for one cluster size, in a fixed order, before any check: tp over
// divisors of gpus_per_node up to 8; cp 1, or powers of two when the first
// phase's sequences are 32K tokens or longer; pp over divisors of
// gpus / (tp cp); dp = gpus / (tp pp cp); ep over divisors of the routed
// experts (1 for dense models); the schedules (interleaved with 2 virtual
// stages); micro-batch 1 and 2; ZeRO 0-3; recompute none, selective, full.
// Stage layers: the scenario's own when it has pp x virtual stages entries,
// else an even split, else the first layers % stages stages get one more.
std::vector<model::ParallelPlan> enumerate_plans(const scenario::Scenario& s, int gpus);

// The grid's values per dimension, in words ("tp {1,2,4,8} x cp {1} x pp {...} x ...").
std::string grid_dimensions(const scenario::Scenario& s, int gpus);

struct PlanRule {
  std::string rule;  // category
  std::string reason;
};
// The first rule `plan` breaks on `gpus` GPUs (the loader's rules for the
// first phase, the layout's expert rule, the schedules' micro-batch rules),
// or nullopt when it breaks none.
std::optional<PlanRule> check_plan(const scenario::Scenario& s, const model::ParallelPlan& plan, int gpus);

// `s` with `plan` as the top-level and first-phase plan on `gpus` GPUs. Later
// phases keep the fields their own overrides set (those where their plan
// differs from the scenario's top-level plan) over `plan`, with dp refilled
// to the GPU count.
scenario::Scenario with_plan(const scenario::Scenario& s, const model::ParallelPlan& plan, int gpus);

// The --set overrides that give `with_plan(s, plan, gpus)` from `s`.
std::vector<std::string> plan_overrides(const scenario::Scenario& s, const model::ParallelPlan& plan, int gpus);

// "TP1 PP16 EP64 DP128 CP1, dualpipe, ZeRO-1, micro-batch 1, recompute selective"
std::string plan_label(const model::ParallelPlan& p);

// Indices of the points (time, cost) that no other point dominates (no more
// in either, less in one), ordered by time, then cost, then index.
std::vector<int> pareto_front(const std::vector<std::pair<double, double>>& points);

// Plans with at least kExtrapolateFrom x pp micro-batches per pipeline are
// screened by two short steps (plan_search.cpp, docs/plan-search.md).
inline constexpr std::int64_t kExtrapolateFrom = 24;

// Candidate `a` ranks before `b`: by the objective, then the other figure,
// then enumeration order.
bool ranks_before(const PlanSearchResult& r, int a, int b);

// Every field of the plan but the ZeRO stage and the recompute policy, with
// the GPU count: plans of one shape share it.
std::string plan_shape_key(int gpus, const model::ParallelPlan& p);

// Runs the search. Throws ConfigError for bad options (a GPU count that is
// not a multiple of gpus_per_node, a cost objective without a rental rate).
PlanSearchResult search_plans(const scenario::Scenario& s, const PlanSearchOptions& options);

}  // namespace tcsim::study
