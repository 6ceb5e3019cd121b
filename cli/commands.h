// The CLI's subcommands. Each takes the arguments after its name, prints to
// stdout, and throws ConfigError for bad flags or input.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tcsim::cost {
struct Evaluation;
}
namespace tcsim::hw {
class TopologyCache;
}

namespace tcsim::cli {

inline constexpr std::string_view kVersion = "0.1.0";

// The command named by args[0] with the rest (cli/dispatch.cpp); no command
// prints the usage (exit code 2), --help and --version print theirs.
int dispatch(std::span<const std::string> args);

int run_command(std::span<const std::string> args);
int list_command(std::span<const std::string> args);
int collective_command(std::span<const std::string> args);
int report_command(std::span<const std::string> args);             // cli/report_command.cpp
int compare_command(std::span<const std::string> args);            // cli/compare_command.cpp
int validate_command(std::span<const std::string> args);           // cli/validate_command.cpp
int calibrate_command(std::span<const std::string> args);          // cli/calibrate_command.cpp
int calibrate_from_trace(std::span<const std::string> args);       // cli/calibrate_trace.cpp: calibrate --from-trace
int calibrate_from_nccl_tests(std::span<const std::string> args);  // cli/calibrate_nccl.cpp
int plan_command(std::span<const std::string> args);               // cli/plan_command.cpp
int sweep_command(std::span<const std::string> args);              // cli/sweep_command.cpp
int trace_command(std::span<const std::string> args);              // cli/trace_command.cpp
int import_command(std::span<const std::string> args);             // cli/import_command.cpp
int init_command(std::span<const std::string> args);               // cli/init_command.cpp

// Flags `report` and `compare` share (parsed in cli/report_command.cpp).
struct EvalFlags {
  std::vector<std::string> scenarios;      // positional arguments
  std::vector<std::string> sets;           // --set: every scenario
  std::vector<std::string> sets_a;         // --set-a: compare's A only
  std::vector<std::string> sets_b;         // --set-b: the compared scenario only
  std::optional<std::string> out;          // --out DIR
  std::optional<std::string> compare;      // --compare B
  std::string oracle = "step-simulation";  // --step-oracle: step-simulation | step-simulation-exact | peak-flops
  std::uint64_t seed = 1;
  int trials = 1000;
  int samples = 10000;
  bool json = false;
};
EvalFlags parse_eval_flags(std::string_view command, std::span<const std::string> args);
// Loads `path` with `sets` applied and evaluates it (run-level simulation and
// ledger); `distances` is shared by every cluster the command simulates.
cost::Evaluation evaluate_scenario(const std::string& path, const std::vector<std::string>& sets,
                                   const EvalFlags& flags, const std::shared_ptr<hw::TopologyCache>& distances);

}  // namespace tcsim::cli
