// tcsim trace: read a PyTorch profiler (Kineto) trace.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calibrate/trace/kineto.h"
#include "calibrate/trace/summary.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "reports/trace_report.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kTraceHelp = R"(Usage: tcsim trace summary TRACE.json[.gz] [--json]

Reads a PyTorch profiler (Kineto) trace, the Chrome-trace JSON torch.profiler
exports (plain or gzip-compressed), once, event by event, and sums it up:
  - busy time per GPU stream (compute or communication, by its kernels), and how
    much of the compute streams' time the communication streams overlap;
  - kernel time per family (FP8 GEMM, grouped GEMM, weight-gradient GEMM,
    attention, quantise/cast, norm, RoPE, activation, MoE permute, routing,
    elementwise, communication, ...), by kernel-name patterns
    (docs/calibration.md, "Kernel families");
  - kernel time per user-annotation region (torch.profiler.record_function):
    each kernel in the innermost annotation around the runtime call that
    launched it, matched by its correlation id;
  - every kernel no pattern matched, by name.

  --json       one JSON object instead of tables
  -h, --help   this text

A file that is not a Kineto trace, or is cut short, exits with code 2 and names
the line and byte where reading stopped.
)";

}  // namespace

int trace_command(std::span<const std::string> args) {
  if (wants_help(args)) {
    fmt::print("{}", kTraceHelp);
    return 0;
  }
  if (args.empty()) throw ConfigError("trace: expected a subcommand: summary (see tcsim trace --help)");
  if (args[0] != "summary") {
    throw ConfigError(
        fmt::format("trace: unknown subcommand \"{}\" (expected summary; see tcsim trace --help)", args[0]));
  }
  std::vector<std::string> files;
  bool json = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--json") {
      json = true;
    } else if (args[i].starts_with("-")) {
      throw ConfigError(fmt::format("trace summary: unknown flag \"{}\" (see tcsim trace --help)", args[i]));
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.size() != 1) throw ConfigError("trace summary: expected one TRACE.json (see tcsim trace --help)");
  const trace::TraceSummary s =
      trace::summarize(trace::read_kineto_trace(files.front()), trace::builtin_family_patterns());
  if (json) {
    fmt::print("{}\n", reports::trace_summary_json(s).dump());
  } else {
    fmt::print("{}", reports::trace_summary_table(s));
  }
  return 0;
}

}  // namespace tcsim::cli
