#include "calibrate/fit/calibration.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "hardware/catalog.h"
#include "hardware/spec.h"
#include "scenarios/loader.h"

namespace tcsim::calibrate {
namespace {

// Device-name fragments and the preset each means, most specific first
// ("H200" before "H20", which it contains).
struct NameRow {
  std::string_view fragment;
  std::string_view preset;
};
constexpr std::array<NameRow, 6> kDeviceNames{
    {{"H100", "h100"}, {"H800", "h800"}, {"H200", "h200"}, {"H20", "h20"}, {"A100", "a100"}, {"A800", "a800"}}};

// GPUs whose compute and HBM are one die and one memory, so samples of one
// stand for the other; their interconnects differ, and interconnect is in
// the GPU preset, not in a calibration profile.
struct Twin {
  std::string_view measured;
  std::string_view described;
  std::string_view why;
};
constexpr std::array<Twin, 4> kTwins{{
    {"h100", "h800", "the H800 is the H100's GH100 die with its compute and HBM (V3-TR §3.5.1)"},
    {"h800", "h100", "the H800 is the H100's GH100 die with its compute and HBM (V3-TR §3.5.1)"},
    {"a100", "a800", "the A800 is the A100's GA100 die with its HBM [estimate: press]"},
    {"a800", "a100", "the A800 is the A100's GA100 die with its HBM [estimate: press]"},
}};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string percent(double x) { return fmt::format("{:.2g}%", 100 * x); }

// "20" when every shape was repeated as often, else "5-20".
std::string repeats_text(const std::vector<Point>& points) {
  int lo = points.front().repeats;
  int hi = lo;
  for (const Point& p : points) {
    lo = std::min(lo, p.repeats);
    hi = std::max(hi, p.repeats);
  }
  return lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
}

std::string families_text(const std::vector<Point>& points) {
  std::vector<std::string> names;
  for (const Point& p : points) {
    const std::string n(name_of(p.family));
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

// The program that took the samples: the file name of the header's command, or the kit.
std::string program(const SampleSet& samples) {
  const std::string command = samples.header.value("command");
  const std::string first = command.substr(0, command.find(' '));
  if (first.empty()) return "tcsim-calibrate-kernels";
  return std::filesystem::path(first).filename().string();
}

class SourceWriter {
 public:
  SourceWriter(const SampleSet& samples, std::string standing, std::string samples_ref)
      : samples_(samples), standing_(std::move(standing)), samples_ref_(std::move(samples_ref)) {}

  // "fitted to 12 shapes x 20 repeats (gemm, grouped_gemm) of tcsim-calibrate-kernels on GPU, DATE, ..."
  template <class Rate>
  std::string fitted(const RateFit<Rate>& f) const {
    const std::string date = samples_.header.value("date");
    std::string s =
        fmt::format("fitted to {} shape{} x {} repeats ({}) of {} on {}{}{}, t0 {}, residual rms {} (max {})",
                    f.points.size(), f.points.size() == 1 ? "" : "s", repeats_text(f.points), families_text(f.points),
                    program(samples_), samples_.header.gpu, standing_, date.empty() ? "" : ", " + date, to_string(f.t0),
                    percent(f.rms), percent(f.max));
    if (!f.note.empty()) s += "; " + f.note;
    return s + "; samples: " + samples_ref_;
  }

 private:
  const SampleSet& samples_;
  std::string standing_;  // " (standing for h800: ...)" or empty
  std::string samples_ref_;
};

template <class Q>
hw::Sourced<Q> from_reference(const std::optional<hw::CalibrationProfile>& ref,
                              hw::Sourced<Q> hw::CalibrationProfile::*rate, std::string_view what,
                              std::string_view families, const SampleSet& samples, std::vector<std::string>& notes) {
  if (!ref) {
    throw ConfigError(
        fmt::format("{}: no {} rows to fit the {} rate to, and no default profile of this GPU to take it "
                    "from; run tcsim-calibrate-kernels with those families",
                    samples.file, families, what));
  }
  const hw::Sourced<Q>& r = (*ref).*rate;
  notes.push_back(
      fmt::format("{}: not in the samples (no {} rows): {}'s rate {}", what, families, ref->name, to_string(r.value)));
  return {r.value,
          fmt::format("not measured (no {} rows in the samples): {}'s rate, {}", families, ref->name, r.source),
          r.overhead};
}

std::string provenance(const SampleSet& samples, const std::string& standing_for) {
  const SampleHeader& h = samples.header;
  std::vector<std::string> device{fmt::format("{} SMs", h.sms)};
  const auto add = [&](std::string_view key, std::string_view label, std::string_view unit = "") {
    const std::string v = h.value(key);
    if (!v.empty()) device.push_back(fmt::format("{} {}{}", label, v, unit));
  };
  add("sm_clock_mhz", "SM clock", " MHz");
  add("memory_clock_mhz", "memory clock", " MHz");
  add("l2_bytes", "L2", " bytes");
  add("hbm_bytes", "HBM", " bytes");
  add("compute_capability", "compute capability");
  add("driver", "driver");
  add("runtime", "CUDA runtime");
  add("cublaslt", "cuBLASLt");
  std::string s = fmt::format("measured by {} on {} ({})", program(samples), h.gpu, fmt::join(device, ", "));
  if (const std::string host = h.value("host"); !host.empty()) s += ", host " + host;
  if (const std::string date = h.value("date"); !date.empty()) s += ", " + date;
  if (const std::string cmd = h.value("command"); !cmd.empty()) s += fmt::format(", command `{}`", cmd);
  if (const std::string note = h.value("note"); !note.empty()) s += "; note: " + note;
  s += fmt::format("; fitted by tcsim calibrate from {}", samples.file);
  return s + standing_for;
}

}  // namespace

std::string gpu_preset_of(std::string_view device_name) {
  const std::string name = upper(device_name);
  for (const NameRow& row : kDeviceNames) {
    std::size_t at = name.find(row.fragment);
    while (at != std::string::npos) {
      // "H20" must not match inside "H200": the fragment ends where the model number does.
      const std::size_t end = at + row.fragment.size();
      if (end >= name.size() || !std::isdigit(static_cast<unsigned char>(name[end]))) return std::string(row.preset);
      at = name.find(row.fragment, at + 1);
    }
  }
  return "";
}

Calibration calibrate(const SampleSet& samples, const CalibrateOptions& options) {
  Calibration c;
  c.measured_on = gpu_preset_of(samples.header.gpu);
  const std::string wanted = options.gpu.empty() ? c.measured_on : options.gpu;
  if (wanted.empty()) {
    throw ConfigError(
        fmt::format("{}: the samples were taken on \"{}\", which matches no GPU preset; name the GPU the "
                    "profile describes with --gpu (one of {})",
                    samples.file, samples.header.gpu, fmt::join(hw::gpu_preset_names(), ", ")));
  }
  const hw::GpuSpec* gpu = hw::find_gpu_preset(wanted);
  if (gpu == nullptr) {
    throw ConfigError(
        fmt::format("--gpu: no GPU preset \"{}\" (one of {})", wanted, fmt::join(hw::gpu_preset_names(), ", ")));
  }
  if (samples.header.sms != gpu->sms) {
    throw ConfigError(
        fmt::format("{}: the samples were taken on {} with {} SMs; GPU preset {} has {}: a profile "
                    "describes the GPU it was measured on",
                    samples.file, samples.header.gpu, samples.header.sms, gpu->name, gpu->sms));
  }
  std::string standing;      // in each rate's source
  std::string standing_for;  // in the provenance
  if (!c.measured_on.empty() && c.measured_on != gpu->name) {
    const auto twin = std::find_if(kTwins.begin(), kTwins.end(), [&](const Twin& t) {
      return t.measured == c.measured_on && t.described == gpu->name;
    });
    if (twin == kTwins.end()) {
      throw ConfigError(
          fmt::format("{}: samples taken on {} ({}) cannot stand for GPU preset {}: only the same die "
                      "with the same memory can (an H100 for an H800, an A100 for an A800)",
                      samples.file, samples.header.gpu, c.measured_on, gpu->name));
    }
    standing = fmt::format(" (standing for the {})", gpu->name);
    standing_for = fmt::format(
        "; the {} measurement stands for the {}: {}; the {}'s interconnect is in its GPU "
        "preset, not in this profile",
        c.measured_on, gpu->name, twin->why, gpu->name);
    c.notes.push_back(fmt::format("{} samples stand for the {}: {}", c.measured_on, gpu->name, twin->why));
  } else if (c.measured_on.empty()) {
    standing_for = fmt::format("; taken as GPU preset {} by --gpu (same SM count)", gpu->name);
  }
  if (!gpu->profile.empty()) c.reference = scenario::load_profile("builtin:" + gpu->profile);

  c.fits = fit_samples(samples);
  const Fits& f = c.fits;
  c.notes.insert(c.notes.end(), f.notes.begin(), f.notes.end());
  const SourceWriter src(samples, standing, options.samples);

  hw::CalibrationProfile& p = c.profile;
  p.name = options.name.empty() ? "measured-" + gpu->name : options.name;
  p.gpu = gpu->name;
  p.provenance = provenance(samples, standing_for);
  p.samples = options.samples;
  p.sms = samples.header.sms;
  using P = hw::CalibrationProfile;
  const auto flops_rate = [&](const std::optional<FlopsFit>& fit, hw::Sourced<FlopsPerSecond> P::*member,
                              std::string_view what, std::string_view families) {
    if (fit) return hw::Sourced<FlopsPerSecond>{fit->rate, src.fitted(*fit), fit->t0};
    return from_reference(c.reference, member, what, families, samples, c.notes);
  };
  p.gemm_bf16 = flops_rate(f.gemm_bf16, &P::gemm_bf16, "gemm.bf16", "bf16 gemm or grouped_gemm");
  p.gemm_fp8 = flops_rate(f.gemm_fp8, &P::gemm_fp8, "gemm.fp8", "fp8_e4m3 gemm or grouped_gemm");
  p.attention_forward = flops_rate(f.attention_forward, &P::attention_forward, "attention.forward", "attention_fwd");
  p.attention_backward =
      flops_rate(f.attention_backward, &P::attention_backward, "attention.backward", "attention_bwd");
  if (f.hbm) {
    p.hbm = {f.hbm->rate, src.fitted(*f.hbm), f.hbm->t0};
  } else {
    p.hbm = from_reference(c.reference, &P::hbm, "hbm", "rmsnorm, swiglu or fp8_cast", samples, c.notes);
  }

  // The GEMM tile: the fit's (one tile for both dtypes, fit.h), else the default profile's.
  const FlopsFit* g = f.gemm_bf16 ? &*f.gemm_bf16 : f.gemm_fp8 ? &*f.gemm_fp8 : nullptr;
  if (g != nullptr) {
    p.tile_m = g->tile.m;
    p.tile_n = g->tile.n;
    std::size_t shapes = 0;
    for (const auto* fit : {&f.gemm_bf16, &f.gemm_fp8}) shapes += *fit ? (*fit)->points.size() : 0;
    if (g->degenerate) {
      p.tile_source = fmt::format(
          "not identifiable from one GEMM shape: {} x {} kept (the public profiles' "
          "assumption); samples: {}",
          p.tile_m, p.tile_n, options.samples);
    } else if (f.bf16_own_tile) {
      p.tile_source = fmt::format(
          "fitted: of the output tiles {{64, 128, 256}} x {{64, 128, 256}}, the one that "
          "best explains the {} BF16 and FP8 GEMM shapes together (alone BF16 picks {} x {}, "
          "FP8 {} x {}); samples: {}",
          shapes, f.bf16_own_tile->tile.m, f.bf16_own_tile->tile.n, f.fp8_own_tile->tile.m, f.fp8_own_tile->tile.n,
          options.samples);
    } else {
      p.tile_source = fmt::format(
          "fitted: of the output tiles {{64, 128, 256}} x {{64, 128, 256}}, the one that "
          "best explains the {} GEMM shapes{}; samples: {}",
          shapes, f.gemm_bf16 && f.gemm_fp8 ? " (BF16 and FP8 agree)" : "", options.samples);
    }
  } else {
    if (!c.reference) {
      throw ConfigError(
          fmt::format("{}: no gemm or grouped_gemm rows to fit the GEMM tile to, and no default profile "
                      "of this GPU to take it from",
                      samples.file));
    }
    p.tile_m = c.reference->tile_m;
    p.tile_n = c.reference->tile_n;
    p.tile_source = fmt::format("not measured (no GEMM rows in the samples): {}'s tile, {}", c.reference->name,
                                c.reference->tile_source);
  }
  return c;
}

}  // namespace tcsim::calibrate
