// The command line's dispatcher: the first argument names the command, the
// rest go to it. The executable (cli/main.cpp) and the Python module
// (python/module.cpp) both call it; each maps errors its own way.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

namespace {

constexpr std::string_view kUsage = R"(tcsim: what did that training run really cost, on which hardware, and why?

Usage:
  tcsim run [SCENARIO] [--set PATH=VALUE]... [--json] [--fidelity symmetric|full] [--collectives shared|alone]
            [--trace FILE.json] [--seed N]
  tcsim list [models|gpus|scenarios]
  tcsim collective [SCENARIO] --op OP [--algo ALGO] --size SIZE [--gpus N] [--set PATH=VALUE]...
  tcsim report [SCENARIO] --out DIR [--set PATH=VALUE]... [--compare SCENARIO_B] [--seed N]
  tcsim compare A B [--set PATH=VALUE]... [--set-a ...] [--set-b ...] [--json]
  tcsim validate
  tcsim sweep [SCENARIO] --vary PATH=V1,V2,... [--vary ...] --out FILE.csv|FILE.jsonl [--jobs N] [--shard I/N]
  tcsim sweep merge OUT INPUT...
  tcsim plan [SCENARIO] [--gpus N[,N...]] [--objective time|cost] [--top K] [--jobs N] [--json] [--out FILE.csv]
  tcsim calibrate --out PROFILE.yaml [--samples SAMPLES.csv] [--kernels PATH] [--gpu PRESET] [--quick]
  tcsim calibrate --from-trace TRACE.json --scenario S --out PROFILE.yaml
  tcsim calibrate --from-nccl-tests LOG... --scenario S --out NETWORK.yaml
  tcsim trace summary TRACE.json[.gz] [--json]
  tcsim init --model MODEL --gpu GPU --gpus N [--out FILE.yaml]
  tcsim import megatron [--file SCRIPT.sh] [--out FRAGMENT.yaml] [--] [MEGATRON ARGS...]
  tcsim --help | --version
  tcsim COMMAND --help

Commands:
  run     Resolve a scenario and report its model accounting (parameters, FLOPs per
          token), the memory budget per GPU and the simulated training step (time,
          throughput, MFU, where the time went). With no SCENARIO, runs the built-in
          DeepSeek-V3 on 2048 H800 scenario.
  list    Show the built-in model presets, GPU presets and scenarios.
  collective
          Simulate one collective (all-reduce, reduce-scatter, all-gather, all-to-all,
          expert dispatch/combine) on the scenario's cluster with flow-level sharing;
          prints time, algorithm and bus bandwidth as nccl-tests does.
  report  Simulate the whole run (phases, batch ramp, interruptions, checkpoints) and
          write DIR/report.md, report.html and report.json: GPU-hours, the final-run
          cost at the rental rate, on owned hardware, and the full R&D total.
  compare Two scenarios side by side (e.g. H800 against H100): time and dollars, with
          the difference attributed.
  validate
          The repository's validation cases: predicted against published, with errors.
  sweep   Evaluate every combination of the --vary values (what-if at scale) on a pool
          of threads, one row per variant in a CSV or JSON-lines table; resumable,
          shardable (--shard, or ranks under mpirun), merged with `tcsim sweep merge`.
  plan    Search parallel plans for the scenario's model and cluster: enumerate, drop
          what is invalid or does not fit in memory, simulate the rest; the best plans,
          the time-vs-cost Pareto front and where the scenario's own plan ranks.
  calibrate
          Run the calibration kernels on this machine's GPU (or take their samples with
          --samples), fit the op-time model's rates and write a calibration profile.
  init    Write a complete, commented scenario for a model on N GPUs: sourced defaults
          for every section and a plan that fits, so it runs the first time.
  trace   Read a PyTorch profiler (Kineto) trace: busy time per stream, kernel time
          per family and per annotated region, compute/communication overlap.
  import  Read a Megatron-LM launch (its arguments or a shell script) into a scenario
          fragment: the parallel plan, model, precision and training length, each
          value commented with the flag it came from.

Exit codes: 0 success, 2 bad input (scenario or flags), 1 internal error.
)";

}  // namespace

namespace tcsim::cli {

int dispatch(std::span<const std::string> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    fmt::print("{}", kUsage);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    fmt::print("tcsim {}\n", kVersion);
    return 0;
  }
  const std::span<const std::string> rest = args.subspan(1);
  if (args[0] == "run") return run_command(rest);
  if (args[0] == "list") return list_command(rest);
  if (args[0] == "init") return init_command(rest);
  if (args[0] == "collective") return collective_command(rest);
  if (args[0] == "report") return report_command(rest);
  if (args[0] == "compare") return compare_command(rest);
  if (args[0] == "validate") return validate_command(rest);
  if (args[0] == "plan") return plan_command(rest);
  if (args[0] == "sweep") return sweep_command(rest);
  if (args[0] == "calibrate") return calibrate_command(rest);
  if (args[0] == "trace") return trace_command(rest);
  if (args[0] == "import") return import_command(rest);
  throw ConfigError(fmt::format("unknown command \"{}\" (try tcsim --help)", args[0]));
}

}  // namespace tcsim::cli
