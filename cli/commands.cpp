#include "cli/commands.h"
#include "cli/args.h"

#include <charconv>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "cost/ledger.h"
#include "hardware/builders.h"
#include "hardware/catalog.h"
#include "model/catalog.h"
#include "reports/accounting.h"
#include "reports/cluster_report.h"
#include "reports/cost_json.h"
#include "reports/evaluation.h"
#include "reports/op_table.h"
#include "reports/step_report.h"
#include "scenarios/loader.h"
#include "sim/run_level.h"
#include "sim/step.h"
#include "sim/trace.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kRunHelp =
    R"(Usage: tcsim run [SCENARIO] [--set PATH=VALUE]... [--json] [--fidelity symmetric|full]
                 [--collectives shared|alone] [--trace FILE.json] [--seed N]

Resolves SCENARIO (a YAML file, or builtin:NAME; default builtin:deepseek-v3, the
DeepSeek-V3 pre-training on 2048 H800 GPUs) and reports the resolved plan, the model's
parameter and FLOP accounting, the memory budget per GPU, the simulated steady-state
training step of the first phase at its final batch size (step time, throughput, MFU,
GPU-hours per trillion tokens, where the critical GPU's time went), then the whole run
over the symmetric step simulation (phases, batch ramp, interruptions, checkpoints:
GPU-hours and wall days) and its cost (final run at the rental rate, on owned hardware,
the R&D total with P10/P50/P90).

  SCENARIO           scenario file; `tcsim list scenarios` shows the built-in ones
  --set PATH=VALUE   override one field after loading, e.g. --set parallelism.pp=8,
                     --set hardware.gpu=h100, --set 'training.phases[0].batch=8192',
                     --set 'model={preset: deepseek-v3, layers: 4}'. Repeatable; applied in order.
  --json             print one JSON object (keys scenario.*, model.*, memory.*, step.*, run.*,
                     cost.*, and `resolved`, the full resolved scenario) instead of tables
  --fidelity MODE    symmetric (default): one pipeline of pp GPUs stands for its identical
                     data/expert-parallel replicas, collectives simulated on the whole group;
                     full: every GPU of the cluster, with per-GPU speed variation and skewed
                     expert load drawn from --seed
  --collectives HOW  shared (default): each collective shares links with the others and with
                     pipeline sends where GPUs attach to the network, and is slowed by them;
                     alone: each takes its time simulated on its own, as a fixed delay (what
                     sharing costs is the difference)
  --trace FILE.json  write a Chrome trace-event file (open it in Perfetto or chrome://tracing):
                     a track per GPU stream and per busy link; in full mode the GPUs of the
                     first pipeline only
  --seed N           seed of the full mode's variation and of the run's Monte Carlo estimates
                     (default 1); a seed gives the same output bit for bit
  --step-only        stop after the step: no run-level simulation and no cost
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

// Flags of `run` beyond --set and --json.
struct RunFlags {
  sim::StepOptions step;
  std::optional<std::string> trace;
  bool step_only = false;  // --step-only: no run-level simulation, no ledger
};

sim::Fidelity parse_fidelity(const std::string& v) {
  if (v == "symmetric") return sim::Fidelity::symmetric;
  if (v == "full") return sim::Fidelity::full;
  throw ConfigError(fmt::format("--fidelity: expected symmetric or full, got \"{}\"", v));
}

bool parse_collectives(const std::string& v) {
  if (v == "shared") return true;
  if (v == "alone") return false;
  throw ConfigError(fmt::format("--collectives: expected shared or alone, got \"{}\"", v));
}

std::uint64_t parse_seed(const std::string& v) {
  std::uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) {
    throw ConfigError(fmt::format("--seed: expected a non-negative integer, got \"{}\"", v));
  }
  return seed;
}

// Pulls the step flags out of `args`; returns the remaining arguments.
std::vector<std::string> take_step_flags(std::span<const std::string> args, RunFlags& flags) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (const auto v = flag_value(args, i, "--fidelity", "run")) {
      flags.step.fidelity = parse_fidelity(*v);
    } else if (const auto c = flag_value(args, i, "--collectives", "run")) {
      flags.step.shared_collectives = parse_collectives(*c);
    } else if (const auto t = flag_value(args, i, "--trace", "run")) {
      if (t->empty()) throw ConfigError("--trace needs a file name");
      flags.trace = *t;
    } else if (const auto n = flag_value(args, i, "--seed", "run")) {
      flags.step.seed = parse_seed(*n);
    } else if (args[i] == "--step-only") {
      flags.step_only = true;
    } else {
      rest.push_back(args[i]);
    }
  }
  return rest;
}

// The engine GPUs a trace records: every simulated GPU in symmetric mode, the
// first replica of each pipeline rank in full mode (a full trace of 2048 GPUs
// is too big to open).
std::vector<int> traced_gpus(const sim::StepGraph& g) {
  std::vector<int> out;
  if (g.fidelity == sim::Fidelity::symmetric) return out;
  const int per_rank = static_cast<int>(g.gpu_ids.size()) / g.pipeline.ranks;
  for (int r = 0; r < g.pipeline.ranks; ++r) out.push_back(r * per_rank);
  return out;
}

// The simulated step, or nullopt when the GPU has no calibration profile.
struct SimulatedStep {
  sim::StepResult result;
  std::unique_ptr<sim::StepSimulation> simulation;
};

SimulatedStep simulate(const scenario::Scenario& s, const RunFlags& flags,
                       const std::shared_ptr<hw::TopologyCache>& distances) {
  if (!s.hardware.profile) {
    throw ConfigError(fmt::format(
        "hardware.calibration: GPU \"{}\" has no calibration profile, so no kernel can be timed; name one "
        "(a profile file, or builtin:NAME of {}) or measure one with `tcsim calibrate` (docs/calibration.md)",
        s.hardware.gpu.name, fmt::join(scenario::builtin_profile_names(), ", ")));
  }
  SimulatedStep out;
  out.simulation = std::make_unique<sim::StepSimulation>(sim::step_shape(s), flags.step, distances.get());
  std::optional<sim::ChromeTrace> trace;
  if (flags.trace) {
    trace.emplace(out.simulation->graph(), out.simulation->topology(), traced_gpus(out.simulation->graph()));
    out.simulation->add_observer(*trace);
  }
  out.result = out.simulation->run();
  if (trace) {
    trace->write(*flags.trace);
    // On stderr, so --json output stays JSON alone.
    fmt::print(stderr,
               "trace: wrote {} ({} slices); open it at https://ui.perfetto.dev (Open trace file) or in "
               "chrome://tracing\n",
               *flags.trace, trace->slices());
  }
  return out;
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
  RunFlags flags;
  const std::vector<std::string> rest = take_step_flags(args, flags);
  for (const std::string& a : take_sets(rest, sets)) {
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
  // The cluster graph and the step need the network section; without it the
  // accounting still stands, and the output says what was missing.
  std::optional<SimulatedStep> step;
  // The step and the run level's steps share hop distances (one cluster shape).
  const auto distances = std::make_shared<hw::TopologyCache>();
  std::string not_built;
  try {
    step = simulate(s, flags, distances);
  } catch (const ConfigError& e) {
    // Only a scenario without a network section gets its accounting alone; any other refusal is exit 2.
    if (flags.trace || !s.hardware.profile || s.hardware.has_network) throw;
    not_built = e.what();
  }
  const hw::ClusterTopology* topology = step ? &step->simulation->topology() : nullptr;
  // The whole run and its cost, over the symmetric step simulation (exact at
  // the ends of a batch ramp, interpolated between: sim::interpolated_oracle).
  std::optional<cost::Evaluation> eval;
  std::string run_not_simulated;
  if (step && !flags.step_only) {
    sim::StepOptions o;
    o.seed = flags.step.seed;
    cost::EvalOptions eo;
    eo.run.seed = flags.step.seed;
    eo.rnd.seed = flags.step.seed;
    try {
      eval = cost::evaluate(s, sim::interpolated_oracle(sim::step_simulation_oracle(s, o, distances)), eo);
    } catch (const ConfigError& e) {
      run_not_simulated = e.what();
    }
  }
  if (json) {
    reports::Json j = reports::accounting_json(s, acc);
    if (topology) j.set("cluster", reports::cluster_json(*topology));
    if (!not_built.empty()) j.set("not_simulated", not_built);
    j.set("layer_ops", reports::layer_ops_json(s));
    if (step) j.set("step", reports::step_json(s, step->result, step->simulation->topology()));
    if (eval) {
      j.set("run", reports::run_json(eval->run));
      j.set("cost", reports::cost_json(eval->ledger, s.cost));
    }
    if (!run_not_simulated.empty()) j.set("run_not_simulated", run_not_simulated);
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}", reports::accounting_table(s, acc));
    if (topology) fmt::print("{}", reports::cluster_table(*topology));
    fmt::print("{}", reports::layer_ops_table(s));
    if (step) {
      fmt::print("{}", reports::step_table(s, step->result));
      if (eval) fmt::print("{}", reports::evaluation_table(*eval));
      if (!run_not_simulated.empty()) fmt::print("\nRun and cost: not simulated: {}\n", run_not_simulated);
    } else {
      fmt::print("\nCluster and step: not simulated: {}\n", not_built);
    }
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
