#include "cli/commands.h"

#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "hardware/catalog.h"
#include "model/catalog.h"
#include "reports/accounting.h"
#include "reports/op_table.h"
#include "scenarios/loader.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kRunHelp = R"(Usage: tcsim run [SCENARIO] [--set PATH=VALUE]... [--json]

Resolves SCENARIO (a YAML file, or builtin:NAME; default builtin:deepseek-v3, the
DeepSeek-V3 pre-training on 2048 H800 GPUs) and reports the resolved plan, the model's
parameter and FLOP accounting, and the memory budget per GPU.

  SCENARIO           scenario file; `tcsim list scenarios` shows the built-in ones
  --set PATH=VALUE   override one field after loading, e.g. --set parallelism.pp=8,
                     --set hardware.gpu=h100, --set 'training.phases[0].batch=8192',
                     --set 'model={preset: deepseek-v3, layers: 4}'. Repeatable; applied in order.
  --json             print one JSON object (keys scenario.*, model.*, memory.*, and
                     `resolved`, the full resolved scenario) instead of tables
  -h, --help         this text

Bad input exits with code 2 and a message naming file:line:column and the key.
)";

constexpr std::string_view kListHelp = R"(Usage: tcsim list [models|gpus|scenarios]

Lists the built-in presets a scenario can name (`model: deepseek-v3`, `gpu: h800`)
and the scenarios compiled into the binary (`tcsim run builtin:NAME`).
)";

// Pulls "--set X" / "--set=X" into `sets`; returns the remaining arguments.
std::vector<std::string> take_sets(std::span<const std::string> args, std::vector<std::string>& sets) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--set") {
      if (i + 1 == args.size()) throw ConfigError("--set needs PATH=VALUE");
      sets.push_back(args[++i]);
    } else if (a.starts_with("--set=")) {
      sets.push_back(a.substr(6));
    } else {
      rest.push_back(a);
    }
  }
  return rest;
}

bool wants_help(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int run_command(std::span<const std::string> args) {
  if (wants_help(args)) {
    fmt::print("{}", kRunHelp);
    return 0;
  }
  std::vector<std::string> sets;
  bool json = false;
  std::optional<std::string> path;
  for (const std::string& a : take_sets(args, sets)) {
    if (a == "--json") {
      json = true;
    } else if (a.starts_with("-")) {
      throw ConfigError(fmt::format("run: unknown flag \"{}\" (see tcsim run --help)", a));
    } else if (path) {
      throw ConfigError(fmt::format("run: one scenario at a time, got \"{}\" and \"{}\"", *path, a));
    } else {
      path = a;
    }
  }
  const scenario::Scenario s = scenario::load_scenario(path.value_or(std::string(scenario::kDefaultScenario)), sets);
  const reports::Accounting acc = reports::account(s);
  if (json) {
    reports::Json j = reports::accounting_json(s, acc);
    j.set("layer_ops", reports::layer_ops_json(s));
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}", reports::accounting_table(s, acc));
    fmt::print("{}", reports::layer_ops_table(s));
  }
  return 0;
}

int list_command(std::span<const std::string> args) {
  if (wants_help(args)) {
    fmt::print("{}", kListHelp);
    return 0;
  }
  if (args.size() > 1) throw ConfigError("list: expected at most one of models, gpus, scenarios");
  const std::string what = args.empty() ? "all" : args[0];
  if (what != "all" && what != "models" && what != "gpus" && what != "scenarios") {
    throw ConfigError(fmt::format("list: expected models, gpus or scenarios, got \"{}\"", what));
  }
  if (what == "all" || what == "models") {
    fmt::print("models:\n");
    for (const std::string& n : model::model_preset_names()) {
      fmt::print("  {:<18} {}\n", n, model::find_model_preset(n)->source);
    }
  }
  if (what == "all" || what == "gpus") {
    fmt::print("gpus:\n");
    for (const std::string& n : hw::gpu_preset_names()) {
      const hw::GpuSpec& g = *hw::find_gpu_preset(n);
      fmt::print("  {:<8} {:>4} SMs, BF16 {}, HBM {} at {}, NVLink {}/direction  [{}]\n", n, g.sms, g.bf16_dense,
                 g.hbm_capacity, g.hbm_bandwidth, g.nvlink_bandwidth, g.source);
    }
  }
  if (what == "all" || what == "scenarios") {
    fmt::print("scenarios:\n");
    for (const std::string& n : scenario::builtin_scenario_names()) fmt::print("  builtin:{}\n", n);
  }
  return 0;
}

}  // namespace tcsim::cli
