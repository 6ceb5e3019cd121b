// The plan search (reports/plan_search.h) against hand arithmetic, the memory
// model, the step simulation and a brute-force Pareto front.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "hardware/builders.h"
#include "model/memory.h"
#include "reports/plan_report.h"
#include "scenarios/loader.h"
#include "sim/step_bound.h"
#include "sim/step_shape.h"
#include "study/plan_search.h"
#include "tests/plan/fixtures.h"

using namespace tcsim;
using namespace tcsim::reports;
using namespace tcsim::study;

namespace {

scenario::Scenario small(const std::vector<std::string>& sets = {}) {
  return scenario::load_scenario_text(tcsim_test::kPlanSmall, "plan-small.yaml", sets);
}

int count_fate(const PlanSearchResult& r, PlanFate f) {
  return static_cast<int>(
      std::count_if(r.candidates.begin(), r.candidates.end(), [f](const PlanCandidate& c) { return c.fate == f; }));
}

int rule_count(const PlanSearchResult& r, const std::string& rule) {
  for (const auto& [name, n] : r.counts.invalid_by_rule) {
    if (name == rule) return n;
  }
  return 0;
}

}  // namespace

TEST_CASE("on 16 GPUs of 8 per node the grid holds the 11 (tp, pp, dp) triples a 4-layer model allows") {
  const scenario::Scenario s = small();
  const std::vector<model::ParallelPlan> plans = enumerate_plans(s, 16);
  // tp divides the 8 GPUs of a node: 1, 2, 4, 8. pp divides 16 / tp and is at most the 4 layers:
  // tp 1: pp 1 2 4 (8, 16 > 4 layers); tp 2: 1 2 4; tp 4: 1 2 4; tp 8: 1 2. dp = 16 / (tp pp).
  const std::set<std::tuple<int, int, int>> expected{{1, 1, 16}, {1, 2, 8}, {1, 4, 4}, {2, 1, 8}, {2, 2, 4}, {2, 4, 2},
                                                     {4, 1, 4},  {4, 2, 2}, {4, 4, 1}, {8, 1, 2}, {8, 2, 1}};
  std::set<std::tuple<int, int, int>> seen;
  for (const model::ParallelPlan& p : plans) {
    seen.insert({p.tp, p.pp, p.dp});
    // Every candidate fills the cluster.
    CHECK(p.tp * p.pp * p.dp * p.cp == 16);
    CHECK(p.cp == 1);  // 4096-token sequences: no context parallelism
    CHECK(p.ep == 1);  // dense model
  }
  CHECK(seen == expected);
  // 11 triples x 4 schedules x 2 micro-batch sizes x 4 ZeRO stages x 3 recompute policies.
  CHECK(plans.size() == 11 * 4 * 2 * 4 * 3);
}

TEST_CASE("the rules reject by hand: interleaving past the layers, DualPipe on one stage or too few micro-batches") {
  const scenario::Scenario s = small();
  PlanSearchOptions o;
  o.max_candidates = 1;  // the rules and memory only matter here
  o.jobs = 2;
  const PlanSearchResult r = search_plans(s, o);
  // Per (tp, pp, dp) and micro-batch size, n = 32 / (dp mb) micro-batches:
  //   interleaved v2 with pp 4 has 8 stages for 4 layers: 3 triples x 2 mb = 6 shapes ("layers");
  //   dualpipe with pp 1: 4 triples x 2 mb = 8 shapes ("pipeline-shape");
  //   dualpipe needs n even >= 2 pp: (1,2,8) mb 2 has n = 2 < 4, (1,4,4) mb 2 has n = 4 < 8: 2 shapes
  //   ("micro-batches").
  // Each shape stands for 4 ZeRO stages x 3 recompute policies = 12 candidates.
  CHECK(r.counts.enumerated == 1056);
  CHECK(rule_count(r, "layers") == 6 * 12);
  CHECK(rule_count(r, "pipeline-shape") == 8 * 12);
  CHECK(rule_count(r, "micro-batches") == 2 * 12);
  CHECK(r.counts.invalid == (6 + 8 + 2) * 12);
  CHECK(r.counts.invalid_by_rule.size() == 3);
  // The scenario's own plan is in the grid.
  REQUIRE(r.published);
  CHECK(r.candidates[static_cast<std::size_t>(*r.published)].in_grid);
}

TEST_CASE("memory pruning removes exactly the plans memory_per_gpu says do not fit") {
  // A capacity between the smallest and the largest budget of the grid (tensors only: no runtime reserve).
  const scenario::Scenario s =
      small({"hardware.gpu={preset: h800, hbm_capacity: \"0.07 GiB\"}", "memory={runtime_reserve: \"0 GB\"}"});
  PlanSearchOptions o;
  o.max_candidates = 1;
  const PlanSearchResult r = search_plans(s, o);
  int fits = 0;
  int over = 0;
  for (const PlanCandidate& c : r.candidates) {
    if (c.fate == PlanFate::invalid) continue;
    const model::MemoryBudget m =
        model::memory_per_gpu(s.model, c.plan, s.precision, 4096, s.hardware.gpu.hbm_capacity, s.memory);
    CHECK((c.fate == PlanFate::over_memory) == !m.fits);
    (m.fits ? fits : over) += 1;
  }
  CHECK(fits > 0);
  CHECK(over > 0);
  CHECK(r.counts.over_memory == over);
}

TEST_CASE("a dominated plan is never faster than the fitting plan that dominates it") {
  // Exhaustive: every fitting plan is simulated, so dominance can be checked against the step simulation.
  const scenario::Scenario s =
      small({"hardware.gpu={preset: h800, hbm_capacity: \"0.07 GiB\"}", "memory={runtime_reserve: \"0 GB\"}"});
  PlanSearchOptions o;
  o.exhaustive = true;
  o.jobs = 2;
  const PlanSearchResult all = search_plans(s, o);
  CHECK(all.counts.dominated == 0);
  o.exhaustive = false;
  o.outpace = false;  // dominance alone: every plan it keeps is simulated
  const PlanSearchResult pruned = search_plans(s, o);
  CHECK(pruned.counts.dominated > 0);
  // Same enumeration order in both: a candidate pruned as dominated is no faster than some
  // simulated plan of its shape, and the best plan survives pruning.
  REQUIRE(all.candidates.size() == pruned.candidates.size());
  for (std::size_t i = 0; i < pruned.candidates.size(); ++i) {
    if (pruned.candidates[i].fate != PlanFate::dominated) continue;
    const PlanCandidate& b = all.candidates[i];
    REQUIRE(b.has_step());
    bool covered = false;
    for (std::size_t j = 0; j < pruned.candidates.size(); ++j) {
      const PlanCandidate& a = all.candidates[j];
      if (pruned.candidates[j].fate != PlanFate::simulated || !a.has_step()) continue;
      model::ParallelPlan pa = a.plan;
      pa.zero = b.plan.zero;
      pa.recompute = b.plan.recompute;
      if (a.gpus != b.gpus || pa.tp != b.plan.tp || pa.pp != b.plan.pp || pa.dp != b.plan.dp ||
          pa.schedule != b.plan.schedule || pa.micro_batch != b.plan.micro_batch) {
        continue;
      }
      covered = covered || a.result->step->value() <= b.result->step->value();
    }
    CHECK_MESSAGE(covered, plan_label(b.plan));
  }
  REQUIRE(!all.ranking.empty());
  REQUIRE(!pruned.ranking.empty());
  CHECK(all.candidates[static_cast<std::size_t>(all.ranking.front())].result->step->value() ==
        pruned.candidates[static_cast<std::size_t>(pruned.ranking.front())].result->step->value());
}

TEST_CASE("the Pareto front of two cluster sizes is non-dominated and complete against brute force") {
  const scenario::Scenario s = small();
  PlanSearchOptions o;
  o.gpus = {8, 16};
  o.jobs = 2;
  const PlanSearchResult r = search_plans(s, o);
  REQUIRE(r.ranking.size() > 2);
  // Brute force: a ranked plan is on the front exactly when no other ranked plan is no worse in
  // both time and cost per token and better in one.
  std::vector<int> expected;
  for (int i : r.ranking) {
    const PlanCandidate& p = r.candidates[static_cast<std::size_t>(i)];
    bool dominated = false;
    for (int j : r.ranking) {
      const PlanCandidate& q = r.candidates[static_cast<std::size_t>(j)];
      dominated =
          dominated ||
          (q.time_per_mtok.value() <= p.time_per_mtok.value() && q.cost_per_mtok.value() <= p.cost_per_mtok.value() &&
           (q.time_per_mtok.value() < p.time_per_mtok.value() || q.cost_per_mtok.value() < p.cost_per_mtok.value()));
    }
    if (!dominated) expected.push_back(i);
  }
  std::vector<int> front = r.pareto;
  std::sort(front.begin(), front.end());
  std::sort(expected.begin(), expected.end());
  CHECK(front == expected);
  // Fastest first, and along the front each step faster costs more.
  for (std::size_t k = 1; k < r.pareto.size(); ++k) {
    const PlanCandidate& a = r.candidates[static_cast<std::size_t>(r.pareto[k - 1])];
    const PlanCandidate& b = r.candidates[static_cast<std::size_t>(r.pareto[k])];
    CHECK(a.time_per_mtok.value() <= b.time_per_mtok.value());
    CHECK(a.cost_per_mtok.value() >= b.cost_per_mtok.value());
  }
  // Both cluster sizes were searched; cost per token = time per token x GPUs x $2/GPU-h.
  std::set<int> sizes;
  for (int i : r.ranking) {
    const PlanCandidate& c = r.candidates[static_cast<std::size_t>(i)];
    sizes.insert(c.gpus);
    CHECK(c.cost_per_mtok.value() == doctest::Approx(c.time_per_mtok.value() * c.gpus * 2.0 / 3600.0));
  }
  CHECK(sizes == std::set<int>{8, 16});
}

TEST_CASE("pareto_front keeps ties and drops points dominated in one coordinate only") {
  // (1,5) (2,3) (2,3) (3,3) (4,1) (5,1) (1,6): (3,3) is dominated by (2,3), (5,1) by (4,1), (1,6) by (1,5).
  const std::vector<std::pair<double, double>> pts{{1, 5}, {2, 3}, {2, 3}, {3, 3}, {4, 1}, {5, 1}, {1, 6}};
  CHECK(pareto_front(pts) == std::vector<int>{0, 1, 2, 4});
  CHECK(pareto_front({}).empty());
}

TEST_CASE("the search gives the same result for one worker and for two") {
  const scenario::Scenario s = small();
  PlanSearchOptions o;
  o.jobs = 1;
  const std::string one = plan_search_json(search_plans(s, o)).dump();
  o.jobs = 2;
  const std::string two = plan_search_json(search_plans(s, o)).dump();
  CHECK(one == two);
  // Two cluster sizes and a short top list: plans are outpaced, and a second
  // worker may bound plans ahead while the first runs a batch's last step
  // (when depends on timing; the figures must not).
  o.gpus = {8, 16};
  o.top = 3;
  o.extrapolate = false;
  o.jobs = 1;
  const PlanSearchResult alone = search_plans(s, o);
  o.jobs = 2;
  const PlanSearchResult beside = search_plans(s, o);
  CHECK(alone.counts.outpaced_by_collectives > 0);
  CHECK(plan_search_json(alone).dump() == plan_search_json(beside).dump());
}

TEST_CASE("the bound simulates the plans with the smallest closed-form bubble and counts the rest") {
  const scenario::Scenario s = small();
  PlanSearchOptions o;
  o.max_candidates = 5;
  const PlanSearchResult r = search_plans(s, o);
  CHECK(r.counts.simulated == 5);
  CHECK(count_fate(r, PlanFate::simulated) == 5);
  CHECK(r.counts.beyond_bound > 0);
  CHECK(r.counts.enumerated == r.counts.invalid + r.counts.over_memory + r.counts.dominated + r.counts.beyond_bound +
                                   r.counts.outpaced + r.counts.simulated);
  // Closed-form bubble over 3 n units of work (F = B = W = 1, docs/simulation.md): no simulated plan
  // has more than one left out. With pp 1 every schedule has none, so the five are single-stage plans.
  for (const PlanCandidate& c : r.candidates) {
    if (c.fate == PlanFate::simulated) CHECK(c.plan.pp == 1);
  }
  // The published plan is simulated for reference whatever its fate.
  REQUIRE(r.published);
  CHECK(r.candidates[static_cast<std::size_t>(*r.published)].result.has_value());
}

TEST_CASE("outpaced plans are slower than their bound, and skipping them changes nothing the search reports") {
  // Two cluster sizes (a front of more than one point), a short top list so that most plans can be
  // outpaced, every plan simulated in full (no extrapolation: the figures compare exactly).
  const scenario::Scenario s = small();
  PlanSearchOptions o;
  o.gpus = {8, 16};
  o.top = 3;
  o.jobs = 2;
  o.extrapolate = false;
  o.outpace = false;
  const PlanSearchResult all = search_plans(s, o);
  o.outpace = true;
  const PlanSearchResult skipped = search_plans(s, o);
  CHECK(all.counts.outpaced == 0);
  CHECK(skipped.counts.outpaced > 0);
  // Some by the bound with collectives, which the compute bound let through.
  CHECK(skipped.counts.outpaced_by_collectives > 0);
  CHECK(skipped.counts.outpaced_by_collectives < skipped.counts.outpaced);
  CHECK(skipped.counts.simulated + skipped.counts.outpaced == all.counts.simulated);
  REQUIRE(all.candidates.size() == skipped.candidates.size());
  // Each outpaced plan's bound is below its simulated step (sim/step_bound.h) and the plan is
  // nowhere in what the full search reports.
  const auto reported = [&](const PlanSearchResult& r, int i) {
    const auto top = r.ranking.begin() + std::min<std::ptrdiff_t>(r.top, std::ssize(r.ranking));
    return std::find(r.ranking.begin(), top, i) != top ||
           std::find(r.pareto.begin(), r.pareto.end(), i) != r.pareto.end();
  };
  for (std::size_t i = 0; i < skipped.candidates.size(); ++i) {
    if (skipped.candidates[i].fate != PlanFate::outpaced) continue;
    const PlanCandidate& c = all.candidates[i];
    REQUIRE(c.has_step());
    const sim::StepShape shape = sim::step_shape(with_plan(s, c.plan, c.gpus));
    const double bound = to_seconds(sim::step_bound(shape, hw::build_topology(shape.cluster))).value();
    CHECK(to_seconds(sim::compute_bound(shape)).value() <= bound);
    CHECK(bound <= c.result->step->value());
    CHECK_FALSE(reported(all, static_cast<int>(i)));
  }
  // The same top plans, front and published plan's rank, figure for figure.
  const std::size_t k = std::min<std::size_t>(3, all.ranking.size());
  REQUIRE(skipped.ranking.size() >= k);
  for (std::size_t j = 0; j < k; ++j) CHECK(skipped.ranking[j] == all.ranking[j]);
  CHECK(skipped.pareto == all.pareto);
  REQUIRE(all.published);
  const auto published_rank = [](const PlanSearchResult& r) {
    return std::count_if(r.ranking.begin(), r.ranking.end(), [&](int i) { return ranks_before(r, i, *r.published); });
  };
  CHECK(published_rank(skipped) == published_rank(all));
}

TEST_CASE("two short steps predict a long step: the step is affine in the micro-batches per pipeline") {
  // 256 sequences per step: n = 256 / (dp mb) micro-batches per pipeline, many plans with n >= 24 pp.
  const scenario::Scenario s = small({"training.phases[0].batch=256"});
  PlanSearchOptions o;
  o.jobs = 2;
  o.outpace = false;  // the screening alone, on every plan
  const PlanSearchResult screened = search_plans(s, o);
  o.extrapolate = false;
  const PlanSearchResult exact = search_plans(s, o);
  REQUIRE(screened.counts.extrapolated > 10);
  CHECK(exact.counts.extrapolated == 0);
  REQUIRE(screened.candidates.size() == exact.candidates.size());
  int compared = 0;
  for (std::size_t i = 0; i < screened.candidates.size(); ++i) {
    const PlanCandidate& a = screened.candidates[i];
    if (!a.estimated) continue;
    const PlanCandidate& b = exact.candidates[i];
    REQUIRE(b.has_step());
    // Within 0.5% (DeepSeek-V3's plans: 0.15% at most, docs/plan-search.md).
    CHECK_MESSAGE(a.result->step->value() == doctest::Approx(b.result->step->value()).epsilon(0.005),
                  plan_label(a.plan));
    ++compared;
  }
  CHECK(compared > 10);
  // Every reported plan was simulated in full: the top and the front are the exact search's.
  CHECK(std::vector<int>(screened.ranking.begin(), screened.ranking.begin() + 10) ==
        std::vector<int>(exact.ranking.begin(), exact.ranking.begin() + 10));
  CHECK(screened.pareto == exact.pareto);
  for (int i : screened.pareto) CHECK_FALSE(screened.candidates[static_cast<std::size_t>(i)].estimated);
}

TEST_CASE("a candidate's overrides load into the scenario the search simulated") {
  const scenario::Scenario s = small();
  model::ParallelPlan p = s.parallelism;
  p.pp = 4;
  p.dp = 4;
  p.schedule = model::Schedule::zero_bubble;
  p.recompute = model::Recompute::none;
  const std::vector<std::string> sets = plan_overrides(s, p, 16);
  const scenario::Scenario loaded = small(sets);
  CHECK(loaded.parallelism.pp == 4);
  CHECK(loaded.parallelism.dp == 4);
  CHECK(loaded.parallelism.schedule == model::Schedule::zero_bubble);
  CHECK(loaded.training.phases[0].parallelism.recompute == model::Recompute::none);
  // On 8 GPUs: one node fewer.
  p.dp = 2;
  const scenario::Scenario eight = small(plan_overrides(s, p, 8));
  CHECK(scenario::gpu_count(eight) == 8);
  CHECK(eight.parallelism.dp == 2);
}

TEST_CASE("the published plan is added when the grid misses it, and absent when its cluster size is not searched") {
  // Micro-batches of 4 sequences are outside the grid (1 and 2); 128 sequences on DP8 give DualPipe its
  // 4 = 2 pp micro-batches.
  const scenario::Scenario s = small({"parallelism.micro_batch=4", "training.phases[0].batch=128"});
  PlanSearchOptions o;
  o.max_candidates = 1;
  const PlanSearchResult r = search_plans(s, o);
  REQUIRE(r.published);
  const PlanCandidate& pub = r.candidates[static_cast<std::size_t>(*r.published)];
  CHECK_FALSE(pub.in_grid);
  CHECK(pub.plan.micro_batch == 4);
  CHECK(r.counts.enumerated == 1056 + 1);
  CHECK(pub.result.has_value());  // simulated for reference
  o.gpus = {8};
  CHECK_FALSE(search_plans(s, o).published.has_value());
}

TEST_CASE("bad options are input errors") {
  const scenario::Scenario s = small();
  PlanSearchOptions o;
  o.gpus = {12};  // not a multiple of 8 per node
  CHECK_THROWS_AS(search_plans(s, o), ConfigError);
  o.gpus = {};
  o.top = 0;
  CHECK_THROWS_AS(search_plans(s, o), ConfigError);
}

TEST_CASE("one rule set: a candidate the search calls invalid is exactly one the loader refuses") {
  // Every plan of the grid, given to the loader as the --set overrides that make it: the loader
  // refuses it (ConfigError) exactly when the search finds a broken rule (bounds of the search
  // itself, such as ep-span-bound, are not rules and do not occur in this small grid).
  const scenario::Scenario s = small();
  const int gpus = scenario::gpu_count(s);
  int refused = 0, checked = 0;
  for (const model::ParallelPlan& p : enumerate_plans(s, gpus)) {
    if (p.zero != 1 || p.recompute != model::Recompute::selective) continue;  // one of each (ZeRO, recompute) family
    const std::optional<PlanRule> rule = check_plan(s, p, gpus);
    bool loads = true;
    try {
      (void)small(plan_overrides(s, p, gpus));
    } catch (const ConfigError&) {
      loads = false;
    }
    CAPTURE(plan_label(p));
    CHECK(loads == !rule.has_value());
    refused += loads ? 0 : 1;
    ++checked;
  }
  CHECK(checked == 88);  // 11 triples x 4 schedules x 2 micro-batch sizes
  CHECK(refused == 16);  // (6 + 8 + 2) shapes: test above
}

TEST_CASE("each candidate carries the overlaps frameworks turn on for its shape") {
  const scenario::Scenario s = small({"model={preset: deepseek-v3, layers: 4}", "parallelism.ep=8"});
  const std::vector<model::ParallelPlan> plans = enumerate_plans(s, 16);
  int etp_default = 0, etp_one = 0;
  for (const model::ParallelPlan& p : plans) {
    // Sequence parallelism exactly when there is tensor parallelism (it needs tp > 1).
    CHECK(p.sequence_parallel == (p.tp > 1));
    // Combined 1F1B where it runs outside DualPipe: MoE with ep > 1 under interleaving (or 1F1B on one stage).
    if (p.schedule == model::Schedule::interleaved_1f1b || p.schedule == model::Schedule::zero_bubble) {
      CHECK(p.overlap_ep_comm == (p.ep > 1 && p.schedule == model::Schedule::interleaved_1f1b));
    }
    // The distributed optimizer's all-gather beside the forward under ZeRO-1/2 only.
    CHECK(p.overlap_param_gather == (p.zero == 1 || p.zero == 2));
    if (p.tp > 1) (p.expert_tp == 1 ? etp_one : etp_default) += 1;
    if (p.tp == 1) CHECK(p.expert_tp == 0);
  }
  // Expert-TP 1 beside expert-TP = tp for every MoE candidate with tp > 1.
  CHECK(etp_one > 0);
  CHECK(etp_one == etp_default);
}

TEST_CASE("a plan's shape leaves out ZeRO, recompute and what the grid derives from the ZeRO stage") {
  const model::ParallelPlan a = small().training.phases.front().parallelism;
  REQUIRE(a.overlap_param_gather);
  model::ParallelPlan b = a;
  b.overlap_param_gather = false;  // a scenario's own plan without it still has the grid's shape
  CHECK(plan_shape_key(16, a) == plan_shape_key(16, b));
  b.zero = 3;
  b.recompute = model::Recompute::full;
  CHECK(plan_shape_key(16, a) == plan_shape_key(16, b));
  b.pp = 4;
  CHECK(plan_shape_key(16, a) != plan_shape_key(16, b));
}
