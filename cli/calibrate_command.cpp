// `tcsim calibrate`: run the calibration kernels on this machine's GPU (or
// take samples they wrote before), fit the op-time model's rates to them, and
// write a calibration profile that `hardware.calibration:` can name.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "calibrate/fit/calibration.h"
#include "calibrate/fit/profile_writer.h"
#include "calibrate/fit/samples.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "hardware/catalog.h"

extern char** environ;

namespace tcsim::cli {
namespace {

constexpr std::string_view kCalibrateHelp =
    R"(Usage: tcsim calibrate --out PROFILE.yaml [--samples SAMPLES.csv] [--kernels PATH]
                       [--gpu PRESET] [--quick] [--name NAME]
       tcsim calibrate --from-trace TRACE.json[.gz]|KERNELS.csv --scenario SCENARIO
                       --out PROFILE.yaml [--layers FIRST-LAST] [--region NAME=PASS]...
                       [--families FILE.yaml] [--source TEXT] [--name NAME] [--gpu PRESET]
                       [--set PATH=VALUE]...
       tcsim calibrate --from-nccl-tests LOG... --scenario SCENARIO --out NETWORK.yaml
                       [--op all_reduce_perf] [--name NAME] [--set PATH=VALUE]...

Measures this machine's GPU and writes a calibration profile: the GEMM (BF16, FP8),
HBM and attention rates the op-time model reads, each fitted to raw samples by least
squares (time = t0 + work / rate; GEMMs with wave and tile quantisation), each with its
per-launch overhead t0, its source and its residuals (docs/calibration.md).

Without --samples it runs the calibration kernels (tcsim-calibrate-kernels, built when a
CUDA toolkit is found; it needs a GPU), which write the raw samples beside the profile as
PROFILE.samples.csv; then it fits them. With --samples it only fits (no GPU needed).
It prints the fitted rates next to the GPU preset's default profile, if it has one.
Use the profile with `hardware.calibration: PROFILE.yaml` in a scenario.

  --out PROFILE.yaml   the profile to write (written whole or not at all)
  --samples FILE       fit these samples instead of running the kernels
  --kernels PATH       the kernels binary (default: tcsim-calibrate-kernels beside tcsim)
  --gpu PRESET         the GPU preset the profile describes (default: the samples' GPU);
                       samples of an H100 may describe an H800 (the same GH100 die)
  --quick              run fewer shapes and repeats (a quick check, not a profile to keep)
  --name NAME          the profile's name (default: PROFILE's file name without .yaml)
  -h, --help           this text

From a trace: --from-trace reads a PyTorch profiler (Kineto) trace, or a kernel table that
`tcsim trace kernels` wrote, of the work the scenario describes (its first phase's plan and
micro-batch, layers FIRST-LAST; every layer by default), and fits each kernel family's rate
(and per-launch t0) to the kernels' durations, cell by pass: annotation regions named
...(F), ...(B), ...(W) are the forward, input-gradient and weight-gradient passes; --region
NAME=PASS (forward, input, weight or skip) says it for other names. Rates the trace cannot
fit keep the scenario profile's value and source (--set hardware.calibration=... picks another
base; --set overrides any field of the scenario); --gpu names another preset of the same
die the profile describes (the file says so). No GPU needed (docs/calibration.md,
"Calibrating from a trace").

From nccl-tests: --from-nccl-tests LOG... fits each log (one network tier: intra-node when all
its ranks run on one host, inter-node otherwise) to time = latency + size / algbw on its
out-of-place times and writes a network profile (--out NETWORK.yaml) with each tier's latency,
algbw and busbw, their sources, the residual per size and the raw rows; it prints them beside
the --scenario's network figures. --op names the test for a log without its
"# Collective test starting" line (docs/calibration.md, "Network tiers from nccl-tests").

Exits 2 when the kernels binary is missing or fails (no GPU, no CUDA build) or the
samples are malformed (file:line:column and what was expected).
)";

struct CalibrateFlags {
  std::string out;
  std::optional<std::string> samples;
  std::optional<std::string> kernels;
  std::string gpu;
  std::string name;
  bool quick = false;
};

CalibrateFlags parse_flags(std::span<const std::string> args) {
  CalibrateFlags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    // "--flag VALUE" or "--flag=VALUE": true when `a` is `flag`, its value in `v`.
    const auto take = [&](std::string_view flag) {
      std::optional<std::string> x = flag_value(args, i, flag, "calibrate");
      if (!x) return false;
      v = std::move(*x);
      if (v.empty()) throw ConfigError(fmt::format("calibrate: {} needs a value", flag));
      return true;
    };
    if (take("--out")) {
      f.out = v;
    } else if (take("--samples")) {
      f.samples = v;
    } else if (take("--kernels")) {
      f.kernels = v;
    } else if (take("--gpu")) {
      f.gpu = v;
    } else if (take("--name")) {
      f.name = v;
    } else if (a == "--quick") {
      f.quick = true;
    } else {
      throw ConfigError(fmt::format("calibrate: unexpected argument \"{}\" (see tcsim calibrate --help)", a));
    }
  }
  if (f.out.empty()) throw ConfigError("calibrate: --out PROFILE.yaml is required (see tcsim calibrate --help)");
  if (f.samples && (f.kernels || f.quick)) {
    throw ConfigError("calibrate: --kernels and --quick run the kernels; with --samples nothing is run");
  }
  return f;
}

// tcsim-calibrate-kernels beside the running tcsim.
std::filesystem::path default_kernels() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "tcsim-calibrate-kernels";
  return self.parent_path() / "tcsim-calibrate-kernels";
}

// Runs the kernels binary, its output going to ours; throws ConfigError
// unless it exits 0 having written `samples`.
void run_kernels(const std::filesystem::path& kernels, const std::string& samples, bool quick) {
  if (::access(kernels.c_str(), X_OK) != 0) {
    throw ConfigError(
        fmt::format("calibrate: no calibration kernels at {} ({}): they build only when a CUDA toolkit "
                    "is found (see README.md, Development); pass --kernels PATH, or fit samples taken "
                    "elsewhere with --samples FILE",
                    kernels.string(), std::strerror(errno)));
  }
  std::vector<std::string> argv_text{kernels.string(), "--out", samples};
  if (quick) argv_text.emplace_back("--quick");
  std::vector<char*> argv;
  for (std::string& s : argv_text) argv.push_back(s.data());
  argv.push_back(nullptr);
  fmt::print("tcsim calibrate: running {} --out {}{}\n", kernels.string(), samples, quick ? " --quick" : "");
  std::fflush(stdout);
  pid_t pid = 0;
  if (const int err = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ); err != 0) {
    throw ConfigError(fmt::format("calibrate: cannot run {}: {}", kernels.string(), std::strerror(err)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw ConfigError(fmt::format("calibrate: lost {}: {}", kernels.string(), std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string how = WIFEXITED(status) ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                              : fmt::format("was killed by signal {}", WTERMSIG(status));
    throw ConfigError(
        fmt::format("calibrate: {} {} (no GPU, or see its message above); no profile written", kernels.string(), how));
  }
  if (!std::filesystem::exists(samples)) {
    throw ConfigError(fmt::format("calibrate: {} exited 0 but wrote no {}", kernels.string(), samples));
  }
}

// The samples as the profile names them: relative to the profile's folder,
// unless the two share no folder but the root (then the absolute path).
std::string samples_ref(const std::filesystem::path& samples, const std::filesystem::path& profile) {
  const std::filesystem::path from = std::filesystem::absolute(profile).lexically_normal().parent_path();
  const std::filesystem::path to = std::filesystem::absolute(samples).lexically_normal();
  const std::filesystem::path rel = to.lexically_relative(from);
  int up = 0;
  int depth = 0;
  for (const auto& part : rel) up += part == ".." ? 1 : 0;
  for (const auto& part : from.relative_path()) depth += part.empty() ? 0 : 1;
  return rel.empty() || up >= depth ? to.generic_string() : rel.generic_string();
}

std::string ratio(double fitted, double reference) {
  return reference > 0 ? fmt::format("{:.1f}%", 100 * fitted / reference) : "-";
}

template <class Rate>
void print_rate(std::string_view label, const hw::Sourced<Rate>& fitted, const std::optional<Rate>& reference,
                const calibrate::RateFit<Rate>* fit) {
  const std::string ref = reference ? to_string(*reference) : "-";
  const std::string rel = reference ? ratio(fitted.value.value(), reference->value()) : "-";
  if (fit == nullptr) {
    fmt::print("  {:<22} {:>14} {:>10} {:>14} {:>8}  {}\n", label, to_string(fitted.value), "-", ref, rel,
               "not measured: public rate");
    return;
  }
  fmt::print("  {:<22} {:>14} {:>10} {:>14} {:>8} {:>7} {:>8.2f}% {:>7.2f}%\n", label, to_string(fitted.value),
             to_string(fit->t0), ref, rel, fit->points.size(), 100 * fit->rms, 100 * fit->max);
}

template <class Rate>
void print_ceiling(std::string_view label, const std::optional<calibrate::RateFit<Rate>>& fit) {
  if (!fit) return;
  fmt::print("  {:<22} {:>14} {:>10} {:>14} {:>8} {:>7} {:>8.2f}% {:>7.2f}%\n", label, to_string(fit->rate),
             to_string(fit->t0), "-", "-", fit->points.size(), 100 * fit->rms, 100 * fit->max);
}

template <class Rate>
const calibrate::RateFit<Rate>* ptr(const std::optional<calibrate::RateFit<Rate>>& f) {
  return f ? &*f : nullptr;
}

void print_table(const calibrate::Calibration& c, const calibrate::SampleSet& samples) {
  const hw::CalibrationProfile& p = c.profile;
  const calibrate::Fits& f = c.fits;
  const std::optional<hw::CalibrationProfile>& r = c.reference;
  std::size_t shapes = 0;
  for (const auto* fit : {ptr(f.gemm_bf16), ptr(f.gemm_fp8), ptr(f.attention_forward), ptr(f.attention_backward)}) {
    shapes += fit != nullptr ? fit->points.size() : 0;
  }
  for (const auto* fit : {ptr(f.hbm), ptr(f.hbm_copy), ptr(f.hbm_triad)})
    shapes += fit != nullptr ? fit->points.size() : 0;
  fmt::print("Samples   {}: {} rows, {} shapes fitted, on {} ({} SMs){}\n", samples.file, samples.samples.size(),
             shapes, samples.header.gpu, samples.header.sms,
             samples.header.value("date").empty() ? "" : ", " + samples.header.value("date"));
  fmt::print("Profile   {} (gpu {}, {} SMs)\n\n", p.name, p.gpu, p.sms);
  const std::string ref_name = r ? r->name : "public";
  fmt::print("  {:<22} {:>14} {:>10} {:>14} {:>8} {:>7} {:>9} {:>8}\n", "rate", "fitted", "t0", ref_name, "ratio",
             "shapes", "rms", "max");
  const auto ref = [&](auto member) {
    using Q = decltype(((*r).*member).value);
    return r ? std::optional<Q>(((*r).*member).value) : std::nullopt;
  };
  using P = hw::CalibrationProfile;
  print_rate("gemm.bf16", p.gemm_bf16, ref(&P::gemm_bf16), ptr(f.gemm_bf16));
  print_rate("gemm.fp8", p.gemm_fp8, ref(&P::gemm_fp8), ptr(f.gemm_fp8));
  fmt::print("  {:<22} {:>14} {:>10} {:>14}\n", "gemm.tile", fmt::format("{} x {}", p.tile_m, p.tile_n), "",
             r ? fmt::format("{} x {}", r->tile_m, r->tile_n) : "-");
  print_rate("hbm", p.hbm, ref(&P::hbm), ptr(f.hbm));
  print_ceiling("hbm copy (ceiling)", f.hbm_copy);
  print_ceiling("hbm triad (ceiling)", f.hbm_triad);
  print_rate("attention.forward", p.attention_forward, ref(&P::attention_forward), ptr(f.attention_forward));
  print_rate("attention.backward", p.attention_backward, ref(&P::attention_backward), ptr(f.attention_backward));
  fmt::print("\n  rms and max: relative residuals (model - median) / median over the shapes of each fit\n");

  // The worst-fitted shape of each rate, so a misfit points at its row.
  const auto worst = [](std::string_view label, const auto* fit) {
    if (fit == nullptr || fit->points.empty()) return;
    const calibrate::Point* w = &fit->points.front();
    for (const calibrate::Point& q : fit->points) {
      if (std::abs(q.residual) > std::abs(w->residual)) w = &q;
    }
    fmt::print("  {:<20} line {}: {}: median {}, model {} ({:+.2f}%)\n", label, w->line, calibrate::describe(*w),
               to_string(w->median), to_string(w->predicted), 100 * w->residual);
  };
  fmt::print("\nWorst-fitted shape per rate\n");
  worst("gemm.bf16", ptr(f.gemm_bf16));
  worst("gemm.fp8", ptr(f.gemm_fp8));
  worst("hbm", ptr(f.hbm));
  worst("attention.forward", ptr(f.attention_forward));
  worst("attention.backward", ptr(f.attention_backward));
  // What each fit pinned or assumed, then the calibration's own notes.
  std::vector<std::string> notes;
  const auto note = [&](std::string_view label, const auto* fit) {
    if (fit != nullptr && !fit->note.empty()) notes.push_back(fmt::format("{}: {}", label, fit->note));
  };
  note("gemm.bf16", ptr(f.gemm_bf16));
  note("gemm.fp8", ptr(f.gemm_fp8));
  note("hbm", ptr(f.hbm));
  note("hbm copy", ptr(f.hbm_copy));
  note("hbm triad", ptr(f.hbm_triad));
  note("attention.forward", ptr(f.attention_forward));
  note("attention.backward", ptr(f.attention_backward));
  notes.insert(notes.end(), c.notes.begin(), c.notes.end());
  if (!notes.empty()) {
    fmt::print("\nNotes\n");
    for (const std::string& n : notes) fmt::print("  - {}\n", n);
  }
}

}  // namespace

int calibrate_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kCalibrateHelp);
      return 0;
    }
  }
  for (const std::string& a : args) {
    if (a == "--from-trace" || a.starts_with("--from-trace=")) return calibrate_from_trace(args);
    if (a == "--from-nccl-tests" || a.starts_with("--from-nccl-tests=")) return calibrate_from_nccl_tests(args);
  }
  const CalibrateFlags flags = parse_flags(args);
  const std::filesystem::path out(flags.out);
  // What can be checked before minutes of GPU time: the preset and where the profile goes.
  if (!flags.gpu.empty() && hw::find_gpu_preset(flags.gpu) == nullptr) {
    throw ConfigError(fmt::format("calibrate: --gpu: no GPU preset \"{}\" (one of {})", flags.gpu,
                                  fmt::join(hw::gpu_preset_names(), ", ")));
  }
  const std::filesystem::path dir = std::filesystem::absolute(out).parent_path();
  if (!std::filesystem::is_directory(dir)) {
    throw ConfigError(fmt::format("calibrate: --out {}: no folder {}", flags.out, dir.string()));
  }
  std::string samples_path;
  if (flags.samples) {
    samples_path = *flags.samples;
  } else {
    std::filesystem::path beside = out;
    beside.replace_extension(".samples.csv");
    samples_path = beside.string();
    run_kernels(flags.kernels ? std::filesystem::path(*flags.kernels) : default_kernels(), samples_path, flags.quick);
  }

  calibrate::CalibrateOptions options;
  options.gpu = flags.gpu;
  options.name = flags.name.empty() ? out.stem().string() : flags.name;
  // The profile names its samples relative to itself, as scenarios name profiles.
  options.samples = samples_ref(samples_path, out);
  const auto fit = [&] {
    const calibrate::SampleSet samples = calibrate::read_samples(samples_path);
    return std::pair{samples, calibrate::calibrate(samples, options)};
  };
  std::optional<std::pair<calibrate::SampleSet, calibrate::Calibration>> result;
  try {
    result = fit();
  } catch (const ConfigError& e) {
    if (flags.samples) throw;
    // The GPU time is not lost: the samples stay for another fit.
    throw ConfigError(
        fmt::format("{}\n(the samples are kept in {}; fit them again with tcsim calibrate --samples {} "
                    "--out {})",
                    e.what(), samples_path, samples_path, flags.out));
  }
  const auto& [samples, c] = *result;
  write_file_atomically(flags.out, calibrate::profile_yaml(c), "--out");

  print_table(c, samples);
  fmt::print("\nWrote {} (samples: {}). Use it with `hardware.calibration: {}`.\n", flags.out, options.samples,
             flags.out);
  return 0;
}

}  // namespace tcsim::cli
