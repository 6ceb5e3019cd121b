// tcsim trace: read a PyTorch profiler (Kineto) trace.
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calibrate/trace/kineto.h"
#include "calibrate/trace/summary.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "reports/trace_report.h"
#include "scenarios/loader.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kTraceHelp = R"(Usage: tcsim trace summary TRACE.json[.gz] [--json] [--families FILE.yaml]
       tcsim trace kernels TRACE.json[.gz] --out FILE.csv [--source TEXT]... [--families FILE.yaml]

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

`kernels` writes every GPU activity as a CSV row (name, family, device, stream,
start in microseconds after the first activity, duration, grid, block, region),
each --source TEXT a "# " comment line above the header (where the trace comes
from: repository, commit, file): the derived table a calibration keeps.

  --json                one JSON object instead of tables (summary)
  --families FILE.yaml  kernel-name patterns tried before the built-in table:
                        families: [{pattern: TEXT, family: NAME}, ...]
                        (names: docs/calibration.md, "Kernel families")
  --out FILE.csv        where the kernel table goes (written whole or not at all)
  --source TEXT         a provenance line for the table (repeatable)
  -h, --help            this text

A file that is not a Kineto trace, or is cut short, exits with code 2 and names
the line and byte where reading stopped.
)";

}  // namespace

int trace_command(std::span<const std::string> args) {
  if (wants_help(args)) {
    fmt::print("{}", kTraceHelp);
    return 0;
  }
  if (args.empty()) throw ConfigError("trace: expected a subcommand: summary or kernels (see tcsim trace --help)");
  const std::string& sub = args[0];
  if (sub != "summary" && sub != "kernels") {
    throw ConfigError(
        fmt::format("trace: unknown subcommand \"{}\" (expected summary or kernels; see tcsim trace --help)", sub));
  }
  std::vector<std::string> files, sources;
  std::optional<std::string> out, families_file;
  bool json = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--json") {
      json = true;
    } else if (auto f = flag_value(args, i, "--families", "trace")) {
      families_file = *f;
    } else if (auto o = flag_value(args, i, "--out", "trace")) {
      out = *o;
    } else if (auto src = flag_value(args, i, "--source", "trace")) {
      sources.push_back(*src);
    } else if (args[i].starts_with("-")) {
      throw ConfigError(fmt::format("trace {}: unknown flag \"{}\" (see tcsim trace --help)", sub, args[i]));
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.size() != 1)
    throw ConfigError(fmt::format("trace {}: expected one TRACE.json (see tcsim trace --help)", sub));
  std::vector<trace::FamilyPattern> families;
  if (families_file) families = scenario::load_family_patterns(*families_file);
  for (trace::FamilyPattern& p : trace::builtin_family_patterns()) families.push_back(std::move(p));
  const trace::KinetoTrace t = trace::read_kineto_trace(files.front());
  if (sub == "kernels") {
    if (!out) throw ConfigError("trace kernels: --out FILE.csv is required");
    if (json) throw ConfigError("trace kernels: --json applies to summary only");
    sources.insert(sources.begin(), fmt::format("trace: {} ({} events, {} GPU activities)", files.front(), t.events,
                                                t.activities.size()));
    write_file_atomically(*out, reports::trace_kernels_csv(t, families, sources), "--out");
    fmt::print("trace kernels: wrote {} rows to {}\n", t.activities.size(), *out);
    return 0;
  }
  if (out || !sources.empty()) throw ConfigError("trace summary: --out and --source apply to kernels only");
  const trace::TraceSummary s = trace::summarize(t, families);
  if (json) {
    fmt::print("{}\n", reports::trace_summary_json(s).dump());
  } else {
    fmt::print("{}", reports::trace_summary_table(s));
  }
  return 0;
}

}  // namespace tcsim::cli
