#include "calibrate/fit/profile_writer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "calibrate/fit/calibration.h"
#include "calibrate/fit/yaml_writer.h"

namespace tcsim::calibrate {
namespace {

template <class Rate>
void fit_report(Yaml& y, std::string_view k, const RateFit<Rate>& f, std::string_view model, std::string_view role) {
  y.key(1, k);
  y.text(2, "model", model);
  y.text(2, "role", role);
  y.text(2, "rate", rate_text(f.rate));
  y.text(2, "t0", time_text(f.t0));
  y.value(2, "shapes", fmt::format("{}", f.points.size()));
  y.value(2, "repeats", fmt::format("{}", f.repeats()));
  y.text(2, "residual_rms", percent(f.rms));
  y.text(2, "residual_max", percent(f.max));
  if (!f.note.empty()) y.text(2, "note", f.note);
  if (!f.tiles.empty()) {
    y.key(2, "tiles");
    for (const TileTrial& t : f.tiles) y.text(3, fmt::format("{}x{}", t.tile.m, t.tile.n), "rms " + percent(t.rms));
  }
  // Residuals per variant: a kernel that disagrees with the rest shows here.
  y.key(2, "variants");
  std::vector<std::string> seen;
  for (const Point& p : f.points) {
    const std::string v = fmt::format("{} {}", name_of(p.family), p.variant);
    if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
    seen.push_back(v);
    double sum2 = 0;
    int n = 0;
    for (const Point& q : f.points) {
      if (q.family == p.family && q.variant == p.variant) {
        sum2 += q.residual * q.residual;
        ++n;
      }
    }
    y.text(3, json_quoted(v),
           fmt::format("{} shape{}, residual rms {}", n, n == 1 ? "" : "s", percent(std::sqrt(sum2 / n))));
  }
  y.key(2, "points");
  for (const Point& p : f.points) {
    y.item(3, fmt::format("line {}: {}: median {} (p10 {}, p90 {}, {} repeats), model {}, {:+.2f}%", p.line,
                          describe(p), to_string(p.median), to_string(p.p10), to_string(p.p90), p.repeats,
                          to_string(p.predicted), 100 * p.residual));
  }
}

}  // namespace

void write_profile_rates(Yaml& y, const hw::CalibrationProfile& p) {
  y.text(0, "name", p.name);
  y.text(0, "gpu", p.gpu);
  y.text(0, "provenance", p.provenance);
  y.value(0, "sms", fmt::format("{}", p.sms));
  if (!p.samples.empty()) y.text(0, "samples", p.samples);
  y.key(0, "gemm");
  write_rate(y, 1, "bf16", p.gemm_bf16);
  if (p.gemm_fp8.value.value() > 0) write_rate(y, 1, "fp8", p.gemm_fp8);
  y.key(1, "tile");
  y.value(2, "m", fmt::format("{}", p.tile_m));
  y.value(2, "n", fmt::format("{}", p.tile_n));
  y.text(2, "source", p.tile_source);
  if (p.gemm_fp8_grouped) write_rate(y, 1, "fp8_grouped", *p.gemm_fp8_grouped);
  if (p.gemm_fp8_wgrad) write_rate(y, 1, "fp8_wgrad", *p.gemm_fp8_wgrad);
  write_rate(y, 0, "hbm", p.hbm);
  y.key(0, "attention");
  write_rate(y, 1, "forward", p.attention_forward);
  write_rate(y, 1, "backward", p.attention_backward);
  const bool any_memory = std::any_of(p.memory.begin(), p.memory.end(), [](const auto& m) { return m.has_value(); });
  if (any_memory) {
    y.key(0, "memory");
    for (const Named<hw::MemoryFamily>& f : hw::kMemoryFamilyNames) {
      if (const auto& m = p.memory[static_cast<std::size_t>(f.value)]) write_rate(y, 1, f.name, *m);
    }
  }
}

std::string profile_yaml(const Calibration& c) {
  const hw::CalibrationProfile& p = c.profile;
  Yaml y;
  y.comment("Calibration profile written by `tcsim calibrate` (docs/calibration.md): every rate is fitted to the raw");
  y.comment("samples named below, or says where it came from. The `fit:` map reports each fit and its residuals.");
  write_profile_rates(y, p);

  const Fits& f = c.fits;
  y.key(0, "fit");
  y.text(1, "method",
         "weighted least squares in (t0, 1/rate) on the median of each shape's repeats, weights 1/time (relative "
         "errors), t0 >= 0; residual = (model - median) / median");
  const int sms = p.sms;
  const auto gemm_model = [&](const FlopsFit& g) {
    return fmt::format("time = t0 + flops / (rate x wave efficiency(shape; {} x {} tile, {} SMs))", g.tile.m, g.tile.n,
                       sms);
  };
  if (f.gemm_bf16) fit_report(y, "gemm_bf16", *f.gemm_bf16, gemm_model(*f.gemm_bf16), "gemm.bf16");
  if (f.gemm_fp8) fit_report(y, "gemm_fp8", *f.gemm_fp8, gemm_model(*f.gemm_fp8), "gemm.fp8");
  constexpr std::string_view kBytes = "time = t0 + bytes / rate";
  if (f.hbm) fit_report(y, "hbm", *f.hbm, kBytes, "hbm: the model-shaped kernels (rmsnorm, swiglu, fp8_cast)");
  if (f.hbm_copy) fit_report(y, "hbm_copy", *f.hbm_copy, kBytes, "ceiling: device copy, not used by op times");
  if (f.hbm_triad) fit_report(y, "hbm_triad", *f.hbm_triad, kBytes, "ceiling: triad, not used by op times");
  constexpr std::string_view kFlops = "time = t0 + flops / rate";
  if (f.attention_forward) fit_report(y, "attention_forward", *f.attention_forward, kFlops, "attention.forward");
  if (f.attention_backward) fit_report(y, "attention_backward", *f.attention_backward, kFlops, "attention.backward");
  if (!c.notes.empty()) {
    y.key(1, "notes");
    for (const std::string& n : c.notes) y.item(2, n);
  }
  return y.str();
}

}  // namespace tcsim::calibrate
