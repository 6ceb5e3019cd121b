// `tcsim compare A B`: two scenarios side by side, time and dollars, with the
// difference attributed to what the run-level simulation and the ledger know.
#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "hardware/topology.h"
#include "reports/evaluation.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kCompareHelp =
    R"(Usage: tcsim compare A B [--set PATH=VALUE]... [--set-a PATH=VALUE]... [--set-b PATH=VALUE]...
                     [--json] [--seed N] [--trials N] [--samples N]

Evaluates scenarios A and B (files or builtin:NAME) on the cost side and prints them side by
side: wall time, GPU-hours (step compute, checkpoint stalls, restarts and lost work,
measured phases), the final run at the rental rate and on owned hardware, and the R&D
total. A dollar difference is split into the change in GPU-hours at A's rate plus the
change in rate at B's GPU-hours. Inside the steps, the step simulation splits the
difference into compute, exposed communication and pipeline bubble; a stand-in oracle
cannot, and the split is then marked pending.

  --set PATH=VALUE    override a field of both scenarios; repeatable
  --set-a PATH=VALUE  override a field of A only; repeatable
  --set-b PATH=VALUE  override a field of B only, e.g. H800 against H100 with the same file:
                      tcsim compare builtin:deepseek-v3 builtin:deepseek-v3 --set-b hardware.gpu=h100
  --json              print one JSON object {a, b, difference, pending}
  --step-oracle NAME  step-simulation (default; at the ends of a batch ramp, interpolated between),
                      step-simulation-exact (every distinct batch) or peak-flops (a labelled
                      stand-in, a lower bound); see tcsim report --help
  --seed N            seed of both Monte Carlo estimates (default 1; A and B share it)
  --trials N          Monte Carlo draws of the failure history (default 1000)
  --samples N         Monte Carlo samples of the R&D total (default 10000)
  -h, --help          this text
)";

}  // namespace

int compare_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kCompareHelp);
      return 0;
    }
  }
  const EvalFlags f = parse_eval_flags("compare", args);
  if (f.scenarios.size() != 2) {
    throw ConfigError(
        fmt::format("compare: expected two scenarios A B, got {} (see tcsim compare --help)", f.scenarios.size()));
  }
  if (f.out) throw ConfigError("compare: --out belongs to tcsim report (tcsim report A --compare B --out DIR)");
  if (f.compare) throw ConfigError("compare: give both scenarios as arguments, not --compare");
  std::vector<std::string> sets_a = f.sets;
  sets_a.insert(sets_a.end(), f.sets_a.begin(), f.sets_a.end());
  std::vector<std::string> sets_b = f.sets;
  sets_b.insert(sets_b.end(), f.sets_b.begin(), f.sets_b.end());
  const auto distances = std::make_shared<hw::TopologyCache>();  // both scenarios' clusters
  const cost::Evaluation a = evaluate_scenario(f.scenarios[0], sets_a, f, distances);
  const cost::Evaluation b = evaluate_scenario(f.scenarios[1], sets_b, f, distances);
  if (f.json) {
    fmt::print("{}\n", reports::comparison_json(a, b).dump());
  } else {
    fmt::print("{}", reports::comparison_table(a, b));
  }
  return 0;
}

}  // namespace tcsim::cli
