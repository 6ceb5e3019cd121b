// `tcsim plan`: search the parallel plans of a scenario's model on its cluster
// (or on several cluster sizes), print the best and the time-versus-cost
// Pareto front (reports/plan_search.h).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "reports/plan_report.h"
#include "scenarios/loader.h"
#include "study/plan_search.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kPlanHelp =
    R"(Usage: tcsim plan [SCENARIO] [--gpus N[,N...]] [--objective time|cost] [--top K] [--jobs N]
                  [--set PATH=VALUE]... [--json] [--out FILE.csv] [--allow-overfit]
                  [--max-candidates N] [--exhaustive] [--exact] [--depth step|run]

Searches the parallel plans of SCENARIO's model (default builtin:deepseek-v3) for the
first training phase: enumerates a bounded grid (tensor, pipeline, expert, context and
data parallelism, schedule, micro-batch, ZeRO stage, recompute), discards the plans the
loader or the schedules would reject and those the memory model says do not fit,
simulates the steady-state step of the rest (symmetric fidelity, in parallel), and prints
the best K, the Pareto front of time against cost per token, and where the scenario's own
(published) plan ranks and why the best differs. docs/plan-search.md describes the grid,
the pruning and its bounds.

  SCENARIO            scenario file or builtin:NAME
  --gpus N[,N...]     cluster sizes to search (multiples of hardware.gpus_per_node); default
                      the scenario's own. Several sizes give a real time-versus-cost front
  --objective NAME    time (default): step time per token; cost: dollars per token at the
                      rental rate (time x GPUs x rate)
  --top K             plans to list (default 10)
  --jobs N            simulation workers (default: the hardware's threads); any N gives the
                      same output
  --set PATH=VALUE    override a scenario field before searching; repeatable
  --json              print one JSON object {counts, top, pareto, published, ...}
  --out FILE.csv      write every candidate that passed the rules, with its fate and figures
  --allow-overfit     keep plans whose memory exceeds the GPU's capacity (marked !)
  --max-candidates N  simulate at most N plans, those with the smallest closed-form pipeline
                      bubble first (default 0: no bound)
  --exhaustive        also simulate the plans a fitting plan of the same shape dominates:
                      more recompute than needed to fit, or ZeRO-2 where ZeRO-1 (the same
                      step in the model) fits; and the outpaced plans, whose bound on the
                      step (the busiest pipeline rank's compute back to back, then with the
                      collectives its chunks wait for at their time alone) is slower than
                      every plan reported
  --exact             simulate every plan in full; by default a plan with 24 pp or more
                      micro-batches per pipeline is first screened by three short steps (its
                      step is affine in the micro-batch count: two give the line, the third
                      checks it) and simulated in full when off the line or when it might be
                      reported
  --depth step|run    step (default); run: also the whole run and its dollars for the top K
                      (about a second each)
  -h, --help          this text
)";

std::vector<int> parse_gpus(std::string_view v) {
  std::vector<int> out;
  std::size_t from = 0;
  while (from <= v.size()) {
    const std::size_t comma = std::min(v.find(',', from), v.size());
    const int g = whole_number("--gpus", v.substr(from, comma - from), 1);
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    from = comma + 1;
  }
  return out;
}

}  // namespace

int plan_command(std::span<const std::string> args) {
  std::vector<std::string> positional;
  std::vector<std::string> sets;
  std::optional<std::string> out;
  bool json = false;
  study::PlanSearchOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kPlanHelp);
      return 0;
    }
    if (a == "--json") {
      json = true;
    } else if (a == "--allow-overfit") {
      o.allow_overfit = true;
    } else if (a == "--exhaustive") {
      o.exhaustive = true;
    } else if (a == "--exact") {
      o.extrapolate = false;
    } else if (const auto v = flag_value(args, i, "--set", "plan")) {
      sets.push_back(*v);
    } else if (const auto g = flag_value(args, i, "--gpus", "plan")) {
      o.gpus = parse_gpus(*g);
    } else if (const auto obj = flag_value(args, i, "--objective", "plan")) {
      if (*obj == "time") {
        o.objective = study::PlanObjective::time;
      } else if (*obj == "cost") {
        o.objective = study::PlanObjective::cost;
      } else {
        throw ConfigError(fmt::format("--objective: expected time or cost, got \"{}\"", *obj));
      }
    } else if (const auto t = flag_value(args, i, "--top", "plan")) {
      o.top = whole_number("--top", *t, 1);
    } else if (const auto j = flag_value(args, i, "--jobs", "plan")) {
      o.jobs = jobs_flag(*j);
    } else if (const auto m = flag_value(args, i, "--max-candidates", "plan")) {
      o.max_candidates = whole_number("--max-candidates", *m, 0);
    } else if (const auto d = flag_value(args, i, "--depth", "plan")) {
      if (*d == "step") {
        o.depth = study::RunDepth::step;
      } else if (*d == "run") {
        o.depth = study::RunDepth::run;
      } else {
        throw ConfigError(fmt::format("--depth: expected step or run, got \"{}\"", *d));
      }
    } else if (const auto f = flag_value(args, i, "--out", "plan")) {
      if (f->empty()) throw ConfigError("--out needs a file name");
      out = *f;
    } else if (a.starts_with("-")) {
      throw ConfigError(fmt::format("plan: unknown flag \"{}\" (see tcsim plan --help)", a));
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() > 1) {
    throw ConfigError(fmt::format("plan: expected at most one scenario, got {}", positional.size()));
  }
  const std::string path = positional.empty() ? std::string(scenario::kDefaultScenario) : positional.front();
  const scenario::Scenario s = scenario::load_scenario(path, sets);

  const auto start = std::chrono::steady_clock::now();
  // Progress on stderr: the count to simulate, then every tenth of it.
  const int workers = o.jobs > 0 ? o.jobs : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::mutex progress_mutex;
  o.progress = [&](int done, int total) {
    const std::lock_guard<std::mutex> lock(progress_mutex);
    if (done == 0) {
      fmt::print(stderr, "tcsim plan: {} plans to simulate or outpace on {} workers\n", total, workers);
    } else if (total >= 10 && done % (total / 10) == 0 && done < total) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print(stderr, "tcsim plan: {} of {} simulated or outpaced, {:.0f} s\n", done, total, elapsed);
    }
  };
  const study::PlanSearchResult r = study::search_plans(s, o);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Timing goes to stderr, so stdout is the same for any --jobs.
  fmt::print(stderr, "tcsim plan: {} candidates, {} step simulations in {:.1f} s; {} plans outpaced\n",
             r.counts.enumerated, r.counts.simulated, wall, r.counts.outpaced);

  if (out) write_file_atomically(*out, reports::plan_search_csv(r), "--out");
  if (json) {
    fmt::print("{}\n", reports::plan_search_json(r).dump());
  } else {
    fmt::print("{}", reports::plan_search_table(r));
  }
  return 0;
}

}  // namespace tcsim::cli
