// `tcsim calibrate --from-trace`: fit the op-time model's kernel families to
// the kernels of a profiler trace of the same work (calibrate/trace/
// trace_fit.h) and write the fitted profile.
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calibrate/trace/families.h"
#include "calibrate/trace/kernel_table.h"
#include "calibrate/trace/kineto.h"
#include "calibrate/trace/trace_fit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "hardware/catalog.h"
#include "model/layer_shapes.h"
#include "model/ops.h"
#include "scenarios/loader.h"

namespace tcsim::cli {
namespace {

// A derived kernel table is small; a larger file is not one.
constexpr std::uintmax_t kMaxTableBytes = std::uintmax_t{256} << 20;

struct TraceFlags {
  std::string trace;
  std::string scenario;
  std::string out;
  std::string name;
  std::string source;
  std::string gpu;  // the preset the profile describes; default: the scenario's
  std::optional<std::string> families;
  std::vector<std::string> sets;              // --set overrides of the scenario
  std::optional<std::pair<int, int>> layers;  // first, last (inclusive)
  std::vector<trace::RegionRule> rules;
};

std::pair<int, int> parse_layers(const std::string& v) {
  const std::size_t dash = v.find('-');
  const std::string_view text(v);
  const int first = whole_number("calibrate --layers", text.substr(0, dash), 0);
  const int last = dash == std::string::npos ? first : whole_number("calibrate --layers", text.substr(dash + 1), 0);
  if (last < first) throw ConfigError(fmt::format("calibrate: --layers {}: the last layer is before the first", v));
  return {first, last};
}

trace::RegionRule parse_region(const std::string& v) {
  const std::size_t eq = v.rfind('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(fmt::format("calibrate: --region {}: expected NAME=PASS (forward, input, weight or skip)", v));
  }
  const std::string pass = v.substr(eq + 1);
  trace::RegionRule r{.region = v.substr(0, eq), .pass = std::nullopt};
  if (pass == "forward") {
    r.pass = model::Pass::forward;
  } else if (pass == "input") {
    r.pass = model::Pass::backward_input;
  } else if (pass == "weight") {
    r.pass = model::Pass::backward_weight;
  } else if (pass != "skip") {
    throw ConfigError(
        fmt::format("calibrate: --region {}: unknown pass \"{}\" (forward, input, weight or skip)", v, pass));
  }
  return r;
}

TraceFlags parse(std::span<const std::string> args) {
  TraceFlags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto v = flag_value(args, i, "--from-trace", "calibrate")) {
      f.trace = *v;
    } else if (auto s = flag_value(args, i, "--scenario", "calibrate")) {
      f.scenario = *s;
    } else if (auto o = flag_value(args, i, "--out", "calibrate")) {
      f.out = *o;
    } else if (auto n = flag_value(args, i, "--name", "calibrate")) {
      f.name = *n;
    } else if (auto src = flag_value(args, i, "--source", "calibrate")) {
      f.source = *src;
    } else if (auto set = flag_value(args, i, "--set", "calibrate")) {
      f.sets.push_back(*set);
    } else if (auto g = flag_value(args, i, "--gpu", "calibrate")) {
      f.gpu = *g;
    } else if (auto fam = flag_value(args, i, "--families", "calibrate")) {
      f.families = *fam;
    } else if (auto l = flag_value(args, i, "--layers", "calibrate")) {
      f.layers = parse_layers(*l);
    } else if (auto r = flag_value(args, i, "--region", "calibrate")) {
      f.rules.push_back(parse_region(*r));
    } else {
      throw ConfigError(
          fmt::format("calibrate --from-trace: unexpected argument \"{}\" (see tcsim calibrate --help)", args[i]));
    }
  }
  if (f.trace.empty()) throw ConfigError("calibrate: --from-trace needs a trace file");
  if (f.scenario.empty()) {
    throw ConfigError("calibrate --from-trace: --scenario SCENARIO is required (the model and plan the trace ran)");
  }
  if (f.out.empty()) throw ConfigError("calibrate --from-trace: --out PROFILE.yaml is required");
  return f;
}

// A kernel table (`tcsim trace kernels` output) or a trace (JSON, gzip).
trace::KernelTable measured_kernels(const TraceFlags& f) {
  if (f.trace.ends_with(".csv")) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f.trace, ec)) {
      throw ConfigError(fmt::format("calibrate: --from-trace {}: not a regular file", f.trace));
    }
    if (std::filesystem::file_size(f.trace, ec) > kMaxTableBytes) {
      throw ConfigError(fmt::format("calibrate: --from-trace {}: larger than a kernel table can be", f.trace));
    }
    std::ifstream in(f.trace, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw ConfigError(fmt::format("calibrate: --from-trace {}: cannot read", f.trace));
    return trace::parse_kernel_table(text.str(), f.trace);
  }
  std::vector<trace::FamilyPattern> families;
  if (f.families) families = scenario::load_family_patterns(*f.families);
  for (trace::FamilyPattern& p : trace::builtin_family_patterns()) families.push_back(std::move(p));
  return trace::table_of(trace::read_kineto_trace(f.trace), families);
}

// The blocks the trace ran: the scenario's layers `first..last` (every
// layer by default), one micro-batch of its first phase.
std::vector<model::Block> traced_blocks(const scenario::Scenario& s, const TraceFlags& f) {
  const scenario::Phase& ph = s.training.phases.front();
  const auto [first, last] = f.layers.value_or(std::pair{0, s.model.layers - 1});
  if (last >= s.model.layers) {
    throw ConfigError(
        fmt::format("calibrate: --layers {}-{}: the model has layers 0-{}", first, last, s.model.layers - 1));
  }
  std::vector<model::Block> blocks;
  for (int l = first; l <= last; ++l) {
    const model::BlockKind kind =
        model::is_moe_layer(s.model, l) ? model::BlockKind::moe_layer : model::BlockKind::dense_layer;
    blocks.push_back(
        model::build_block(s.model, ph.parallelism, s.precision, kind, l, {ph.parallelism.micro_batch, ph.seq_len}));
  }
  return blocks;
}

void print_fit(const trace::TraceFit& fit) {
  fmt::print("{:<20} {:<13} {:>10} {:>10} {:>10} {:>20} {:>10} {:>8}\n", "family", "outcome", "trace ms", "base ms",
             "fitted ms", "rate", "t0 us", "rms");
  for (const trace::FamilyFit& f : fit.families) {
    const bool has_rate = f.outcome == trace::FitOutcome::fitted || f.outcome == trace::FitOutcome::rate_only;
    const std::string rate = !has_rate     ? ""
                             : !f.per_byte ? fmt::format("{:.1f} TFLOP/s", f.rate / 1e12)
                                           : fmt::format("{:.1f} GB/s", f.rate / 1e9);
    fmt::print("{:<20} {:<13} {:>10.3f} {:>10.3f} {:>10} {:>20} {:>10} {:>8}\n", trace::family_name(f.family),
               trace::outcome_name(f.outcome), f.measured_us / 1e3, f.base_us / 1e3,
               has_rate ? fmt::format("{:.3f}", f.fitted_us / 1e3) : "", rate,
               has_rate ? fmt::format("{:.2f}", f.t0_us) : "", has_rate ? fmt::format("{:.1f}%", 100 * f.rms) : "");
  }
  if (fit.unaligned > 0) {
    fmt::print("{} kernels were in regions of no known pass: their families were fitted over the whole trace\n",
               fit.unaligned);
  }
}

}  // namespace

int calibrate_from_trace(std::span<const std::string> args) {
  const TraceFlags f = parse(args);
  const scenario::Scenario s = scenario::load_scenario(f.scenario, f.sets);
  const std::vector<model::Block> blocks = traced_blocks(s, f);
  const trace::KernelTable measured = measured_kernels(f);
  if (!s.hardware.profile) {
    throw ConfigError(fmt::format(
        "calibrate --from-trace: the scenario's GPU ({}) has no calibration profile to start from (the rates the "
        "trace cannot fit, the GEMM tile); name one with hardware.calibration",
        s.hardware.gpu.name));
  }
  const hw::CalibrationProfile& base = *s.hardware.profile;
  const int sms = base.sms - s.training.phases.front().parallelism.comm_sms;
  trace::TraceFitOptions options;
  options.rules = f.rules;
  options.trace_name = std::filesystem::path(f.trace).filename().string();
  options.source = f.source;
  trace::TraceFit fit = trace::fit_trace(blocks, base, sms, measured, options);
  fit.profile.name = f.name.empty() ? std::filesystem::path(f.out).stem().string() : f.name;
  fit.profile.provenance = fmt::format(
      "kernel families fitted to {}{}{} by tcsim calibrate --from-trace (scenario {}, {} blocks, {} of {} SMs to "
      "compute); rates not fitted: profile {}",
      options.trace_name, f.source.empty() ? "" : ", ", f.source, f.scenario, blocks.size(), sms, base.sms, base.name);
  fit.profile.samples.clear();
  if (!f.gpu.empty() && f.gpu != base.gpu) {
    if (hw::find_gpu_preset(f.gpu) == nullptr) {
      throw ConfigError(fmt::format("calibrate: --gpu: no GPU preset \"{}\"", f.gpu));
    }
    fit.profile.provenance += fmt::format(
        "; the trace ran on {} GPUs, the profile describes {}: only rates of the same die and memory carry over",
        base.gpu, f.gpu);
    fit.profile.gpu = f.gpu;
  }
  options.command = "tcsim calibrate";
  for (const std::string& a : args) options.command += " " + a;
  write_file_atomically(f.out, trace::trace_profile_yaml(fit, options), "--out");
  print_fit(fit);
  fmt::print("\nWrote {}. Use it with `hardware.calibration: {}`.\n", f.out, f.out);
  return 0;
}

}  // namespace tcsim::cli
