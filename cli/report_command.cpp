// `tcsim report` and the flags it shares with `tcsim compare`: load a
// scenario, run the run-level simulation over a step-time oracle, price it
// with the ledger, and write the report files.
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "hardware/topology.h"
#include "reports/report.h"
#include "scenarios/loader.h"
#include "sim/run_level.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kReportHelp =
    R"(Usage: tcsim report [SCENARIO] --out DIR [--set PATH=VALUE]... [--compare SCENARIO_B]
                    [--set-b PATH=VALUE]... [--seed N] [--trials N] [--samples N]

Simulates SCENARIO's whole run (phases, batch ramp, interruptions, checkpoints), prices it
(final run at the rental rate, the same run on owned hardware, the full R&D total with its
uncertainty) and writes:
  DIR/report.md      the report in Markdown (charts as DIR/charts/*.svg)
  DIR/report.html    the same, self-contained: inline SVG charts, no network fetches, prints cleanly
  DIR/report.json    run.* and cost.* (as tcsim run --json names them) and the resolved scenario
Every file is written to a temporary name and renamed into place.

  SCENARIO           scenario file or builtin:NAME (default builtin:deepseek-v3)
  --out DIR          output directory (created if missing)
  --set PATH=VALUE   override a field of SCENARIO (and of SCENARIO_B); repeatable
  --compare B        add a side-by-side comparison with scenario B (e.g. the same file with
                     --set-b hardware.gpu=h100)
  --set-b PATH=VALUE override a field of the compared scenario only; repeatable
  --step-oracle NAME how step times are obtained (docs/costs.md):
                     step-simulation (default): the discrete-event step simulation at each
                       phase's batch; within a batch ramp at the ramp's two ends, interpolated
                       linearly in the batch between them
                     step-simulation-exact: the step simulation at every distinct batch
                     peak-flops: a labelled stand-in, every FLOP at the dense peak (a lower bound)
  --seed N           seed of the Monte Carlo estimates (default 1); the same seed, the same report
  --trials N         Monte Carlo draws of the run's failure history (default 1000)
  --samples N        Monte Carlo samples of the R&D total (default 10000)
  -h, --help         this text

Bad input exits with code 2 and a message naming file:line:column and the key.
)";

std::int64_t parse_number(std::string_view flag, std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    throw ConfigError(fmt::format("{}: expected a whole number from {} to {}, got \"{}\"", flag, min, max, text));
  }
  return v;
}

}  // namespace

EvalFlags parse_eval_flags(std::string_view command, std::span<const std::string> args) {
  EvalFlags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // "--flag VALUE" or "--flag=VALUE": true when `a` is `flag`, its value in `v`.
    std::string v;
    const auto take = [&](std::string_view flag) {
      std::optional<std::string> x = flag_value(args, i, flag, command);
      if (x) v = std::move(*x);
      return x.has_value();
    };
    if (take("--set")) {
      f.sets.push_back(v);
    } else if (take("--set-a")) {
      f.sets_a.push_back(v);
    } else if (take("--set-b")) {
      f.sets_b.push_back(v);
    } else if (take("--out")) {
      f.out = v;
    } else if (take("--compare")) {
      f.compare = v;
    } else if (take("--step-oracle")) {
      if (v != "step-simulation" && v != "step-simulation-exact" && v != "peak-flops") {
        throw ConfigError(
            fmt::format("{}: --step-oracle: expected step-simulation, step-simulation-exact or peak-flops, got \"{}\"",
                        command, v));
      }
      f.oracle = v;
    } else if (take("--seed")) {
      f.seed = static_cast<std::uint64_t>(parse_number("--seed", v, 0, std::numeric_limits<std::int64_t>::max()));
    } else if (take("--trials")) {
      f.trials = static_cast<int>(parse_number("--trials", v, 1, 100'000));
    } else if (take("--samples")) {
      f.samples = static_cast<int>(parse_number("--samples", v, 1, 1'000'000));
    } else if (a == "--json") {
      f.json = true;
    } else if (a.starts_with("-")) {
      throw ConfigError(fmt::format("{}: unknown flag \"{}\" (see tcsim {} --help)", command, a, command));
    } else {
      f.scenarios.push_back(a);
    }
  }
  return f;
}

namespace {

sim::StepOracle make_oracle(std::string_view name, const scenario::Scenario& s, const sim::StepOptions& step,
                            const std::shared_ptr<hw::TopologyCache>& distances) {
  if (name == "peak-flops") return sim::peak_flops_oracle(s);
  if (name == "step-simulation-exact") return sim::step_simulation_oracle(s, step, distances);
  return sim::interpolated_oracle(sim::step_simulation_oracle(s, step, distances));
}

}  // namespace

cost::Evaluation evaluate_scenario(const std::string& path, const std::vector<std::string>& sets, const EvalFlags& f,
                                   const std::shared_ptr<hw::TopologyCache>& distances) {
  const scenario::Scenario s = scenario::load_scenario(path, sets);
  cost::EvalOptions o;
  o.run.seed = f.seed;
  o.run.trials = f.trials;
  o.rnd.seed = f.seed;
  o.rnd.samples = f.samples;
  sim::StepOptions step;
  step.seed = f.seed;
  return cost::evaluate(s, make_oracle(f.oracle, s, step, distances), o);
}

int report_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kReportHelp);
      return 0;
    }
  }
  const EvalFlags f = parse_eval_flags("report", args);
  if (f.scenarios.size() > 1) {
    throw ConfigError(fmt::format("report: one scenario at a time, got \"{}\" and \"{}\" (use --compare B)",
                                  f.scenarios[0], f.scenarios[1]));
  }
  if (!f.out) throw ConfigError("report: --out DIR is required (see tcsim report --help)");
  if (!f.sets_a.empty()) throw ConfigError("report: --set-a belongs to tcsim compare; use --set");
  if (!f.sets_b.empty() && !f.compare) throw ConfigError("report: --set-b needs --compare SCENARIO_B");
  if (f.json) throw ConfigError("report: --json belongs to tcsim compare; the report writes DIR/report.json");
  const std::string path = f.scenarios.empty() ? std::string(scenario::kDefaultScenario) : f.scenarios[0];
  const auto distances = std::make_shared<hw::TopologyCache>();  // both scenarios' clusters
  const cost::Evaluation a = evaluate_scenario(path, f.sets, f, distances);
  std::optional<cost::Evaluation> b;
  if (f.compare) {
    std::vector<std::string> sets = f.sets;
    sets.insert(sets.end(), f.sets_b.begin(), f.sets_b.end());
    b = evaluate_scenario(*f.compare, sets, f, distances);
  }
  const std::string resolved =
      fmt::format("# Written by tcsim report with --seed {} --trials {} --samples {} --step-oracle {}\n", f.seed,
                  f.trials, f.samples, f.oracle) +
      scenario::resolved_yaml(path, f.sets);
  reports::write_report(*f.out, a, b ? &*b : nullptr, resolved);
  fmt::print("wrote {0}/report.md, {0}/report.html, {0}/report.json, {0}/resolved.yaml\n", *f.out);
  fmt::print("  run.gpu_hours_total   {}  ({})\n", to_string(a.run.gpu_hours_total),
             a.run.simulated_phases == 0     ? "every phase measured"
             : sim::rests_on_stand_in(a.run) ? a.run.oracle.name + " step times, a stand-in: lower bound"
                                             : a.run.oracle.name + " step times");
  fmt::print("  cost.final_run_usd    {}\n", a.ledger.rental.value() > 0
                                                 ? to_string(a.ledger.final_run)
                                                 : std::string("not given (the scenario has no cost.rental)"));
  if (a.ledger.owned_final_run) fmt::print("  cost.owned_final_run_usd {}\n", to_string(*a.ledger.owned_final_run));
  if (a.ledger.rnd) {
    fmt::print("  cost.rnd_total_usd    p10 {}  p50 {}  p90 {}\n", to_string(a.ledger.rnd->total.p10),
               to_string(a.ledger.rnd->total.p50), to_string(a.ledger.rnd->total.p90));
  }
  return 0;
}

}  // namespace tcsim::cli
