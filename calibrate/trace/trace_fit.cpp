// Fitting each kernel family's rate to a trace's kernels: trace_fit.h.
#include "calibrate/trace/trace_fit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "calibrate/fit/yaml_writer.h"
#include "calibrate/trace/op_families.h"
#include "hardware/op_time.h"

namespace tcsim::trace {
namespace {

constexpr std::array<std::string_view, kCells> kCellNames{"forward", "input gradient", "weight gradient",
                                                          "whole trace"};

bool is_flops_family(KernelFamily f) {
  switch (f) {
    case KernelFamily::gemm_fp8:
    case KernelFamily::grouped_gemm_fp8:
    case KernelFamily::gemm_fp8_wgrad:
    case KernelFamily::gemm_bf16:
    case KernelFamily::attention_forward:
    case KernelFamily::attention_backward: return true;
    default: return false;
  }
}

// A profile whose every rate is 1 and overhead 0: the op-time model's time
// under it is the op's work in the rate's unit.
hw::CalibrationProfile unit_profile(const hw::CalibrationProfile& base) {
  hw::CalibrationProfile u = base;
  const hw::Sourced<FlopsPerSecond> flops{FlopsPerSecond(1), "unit", Seconds(0)};
  const hw::Sourced<BytesPerSecond> bytes{BytesPerSecond(1), "unit", Seconds(0)};
  u.gemm_bf16 = u.gemm_fp8 = u.attention_forward = u.attention_backward = flops;
  u.gemm_fp8_grouped = u.gemm_fp8_wgrad = flops;
  u.hbm = bytes;
  for (auto& m : u.memory) m = bytes;
  return u;
}

struct Solution {
  double t0 = 0;        // seconds
  double inv_rate = 0;  // seconds per unit
  bool both = false;
};

// Weighted least squares in (t0, 1/rate) over cells with a measurement:
// both when there are three cells or more and both come out positive, else
// 1/rate alone, as the ratio of the sums.
Solution solve(const std::vector<FitCell>& cells) {
  std::vector<const FitCell*> used;
  for (const FitCell& c : cells) {
    if (c.measured_us > 0 && c.work > 0) used.push_back(&c);
  }
  Solution s;
  if (used.size() >= 3) {
    Eigen::MatrixXd a(static_cast<Eigen::Index>(used.size()), 2);
    Eigen::VectorXd b = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(used.size()));
    for (std::size_t i = 0; i < used.size(); ++i) {
      const double t = used[i]->measured_us * 1e-6;
      a(static_cast<Eigen::Index>(i), 0) = used[i]->launches / t;
      a(static_cast<Eigen::Index>(i), 1) = used[i]->work / t;
    }
    const auto qr = a.colPivHouseholderQr();
    if (qr.rank() == 2) {
      const Eigen::Vector2d x = qr.solve(b);
      if (x(0) > 0 && x(1) > 0) return {x(0), x(1), true};
    }
  }
  // 1/rate alone: the family's measured time over its work, so the fitted
  // total matches the trace's (cells then show how the time is spread).
  double time = 0, work = 0;
  for (const FitCell& c : cells) {
    time += c.measured_us * 1e-6;
    work += c.work;
  }
  s.inv_rate = time / work;
  return s;
}

void set_rate(hw::CalibrationProfile& p, KernelFamily f, double rate, Seconds t0, const std::string& source) {
  const hw::Sourced<FlopsPerSecond> flops{FlopsPerSecond(rate), source, t0};
  const hw::Sourced<BytesPerSecond> bytes{BytesPerSecond(rate), source, t0};
  switch (f) {
    case KernelFamily::gemm_fp8: p.gemm_fp8 = flops; return;
    case KernelFamily::grouped_gemm_fp8: p.gemm_fp8_grouped = flops; return;
    case KernelFamily::gemm_fp8_wgrad: p.gemm_fp8_wgrad = flops; return;
    case KernelFamily::gemm_bf16: p.gemm_bf16 = flops; return;
    case KernelFamily::attention_forward: p.attention_forward = flops; return;
    case KernelFamily::attention_backward: p.attention_backward = flops; return;
    default:
      if (const auto m = memory_family_of(f)) p.memory[static_cast<std::size_t>(*m)] = bytes;
      return;
  }
}

std::string rate_shown(const FamilyFit& f) {
  return !f.per_byte ? calibrate::rate_text(FlopsPerSecond(f.rate)) : calibrate::rate_text(BytesPerSecond(f.rate));
}

}  // namespace

std::string_view outcome_name(FitOutcome o) {
  switch (o) {
    case FitOutcome::fitted: return "fitted";
    case FitOutcome::rate_only: return "rate only";
    case FitOutcome::kept: return "kept";
    case FitOutcome::not_modelled: return "not modelled";
    case FitOutcome::not_measured: return "not measured";
  }
  return "?";
}

int region_cell(const std::string& region, const std::vector<RegionRule>& rules) {
  for (const RegionRule& r : rules) {
    if (r.region == region) return r.pass ? static_cast<int>(*r.pass) : -1;
  }
  if (region.ends_with("(F)")) return 0;
  if (region.ends_with("(B)")) return 1;
  if (region.ends_with("(W)")) return 2;
  return kWholeTrace;
}

TraceFit fit_trace(const std::vector<model::Block>& blocks, const hw::CalibrationProfile& base, int compute_sms,
                   const KernelTable& measured, const TraceFitOptions& options) {
  const hw::CalibrationProfile unit = unit_profile(base);
  std::map<KernelFamily, std::array<FitCell, kCells>> cells;
  std::map<KernelFamily, double> base_us;
  std::map<KernelFamily, bool> unaligned;
  const auto add_op = [&](const model::Op& op, model::Pass pass, int cell) {
    const double work = hw::op_time(op, pass, unit, compute_sms).time.value();
    if (work <= 0) return;
    const KernelFamily f = family_of(op, pass);
    FitCell& c = cells[f][static_cast<std::size_t>(cell)];
    ++c.launches;
    c.work += work;
    base_us[f] += hw::op_time(op, pass, base, compute_sms).time.value() * 1e6;
  };
  for (const model::Block& b : blocks) {
    for (const model::Op& op : b.ops) {
      if (op.cls == model::OpClass::comm) continue;
      add_op(op, model::Pass::forward, 0);
      add_op(op, model::Pass::backward_input, 1);
      add_op(op, model::Pass::backward_weight, 2);
      if (op.recomputed) add_op(op, model::Pass::forward, 1);
    }
  }
  TraceFit out;
  out.profile = base;
  for (const KernelRow& r : measured.rows) {
    if (r.family == KernelFamily::communication) continue;
    const int cell = region_cell(r.region, options.rules);
    if (cell < 0) continue;
    if (cell == kWholeTrace) {
      unaligned[r.family] = true;
      ++out.unaligned;
    }
    FitCell& c = cells[r.family][static_cast<std::size_t>(cell)];
    ++c.kernels;
    c.measured_us += r.duration_us;
    out.measured_us += r.duration_us;
  }
  for (const Named<KernelFamily>& n : kKernelFamilyNames) {
    const auto it = cells.find(n.value);
    if (it == cells.end()) continue;
    std::array<FitCell, kCells> by_cell = it->second;
    if (unaligned[n.value]) {  // one cell: the whole trace
      FitCell all;
      for (const FitCell& c : by_cell) {
        all.launches += c.launches;
        all.work += c.work;
        all.kernels += c.kernels;
        all.measured_us += c.measured_us;
      }
      all.cell = kWholeTrace;
      by_cell = {FitCell{.cell = 0}, FitCell{.cell = 1}, FitCell{.cell = 2}, all};
    }
    FamilyFit f;
    f.family = n.value;
    f.per_byte = !is_flops_family(n.value);
    f.base_us = base_us[n.value];
    double work = 0;
    for (int c = 0; c < kCells; ++c) {
      FitCell cell = by_cell[static_cast<std::size_t>(c)];
      cell.cell = c;
      if (cell.launches == 0 && cell.kernels == 0) continue;
      f.measured_us += cell.measured_us;
      work += cell.work;
      f.cells.push_back(cell);
    }
    const bool rated = is_flops_family(n.value) || memory_family_of(n.value).has_value();
    if (f.measured_us <= 0) {
      f.outcome = FitOutcome::not_measured;
    } else if (work <= 0 || !rated) {
      f.outcome = FitOutcome::not_modelled;
    } else if (f.measured_us < options.min_share * out.measured_us) {
      f.outcome = FitOutcome::kept;
    } else {
      const Solution s = solve(f.cells);
      f.outcome = s.both ? FitOutcome::fitted : FitOutcome::rate_only;
      f.rate = 1.0 / s.inv_rate;
      f.t0_us = s.t0 * 1e6;
      double sum2 = 0;
      int n_res = 0;
      for (FitCell& c : f.cells) {
        c.fitted_us = c.launches * f.t0_us + c.work / f.rate * 1e6;
        f.fitted_us += c.fitted_us;
        if (c.measured_us > 0) {
          const double r = (c.fitted_us - c.measured_us) / c.measured_us;
          sum2 += r * r;
          f.max = std::abs(r) > std::abs(f.max) ? r : f.max;
          ++n_res;
        }
      }
      f.rms = n_res > 0 ? std::sqrt(sum2 / n_res) : 0;
      int kernels = 0;
      for (const FitCell& c : f.cells) kernels += c.kernels;
      set_rate(out.profile, n.value, f.rate, Seconds(f.t0_us * 1e-6),
               fmt::format("fitted to {} {} kernels ({:.2f} ms) of {}{}{}: time = launches x t0 + work / rate over "
                           "{} cell{}, residual rms {:.1f}%",
                           kernels, family_name(n.value), f.measured_us / 1e3, options.trace_name,
                           options.source.empty() ? "" : ", ", options.source, f.cells.size(),
                           f.cells.size() == 1 ? "" : "s", 100 * f.rms));
    }
    out.families.push_back(std::move(f));
  }
  return out;
}

std::string trace_profile_yaml(const TraceFit& fit, const TraceFitOptions& options) {
  calibrate::Yaml y;
  y.comment("Calibration profile written by `tcsim calibrate --from-trace` (docs/calibration.md): the kernel families");
  y.comment("of a profiler trace fitted against the same work in the model. Rates not fitted keep the base profile's");
  y.comment("value and source. The `fit:` map reports each family's cells and residuals.");
  calibrate::write_profile_rates(y, fit.profile);
  y.key(0, "fit");
  y.text(1, "method",
         "per kernel family, cells by pass (annotation regions ...(F), ...(B), ...(W); the whole trace where a "
         "kernel's region has no known pass): time = launches x t0 + work / rate, least squares in (t0, 1/rate) "
         "weighted 1/measured, both only with 3 cells or more and both positive, else the rate alone as measured time "
         "over work (the totals agree); work: GEMM "
         "FLOPs over wave efficiency and the SMs left to compute, attention FLOPs over those SMs, memory bytes");
  y.text(1, "trace", options.trace_name);
  if (!options.source.empty()) y.text(1, "source", options.source);
  if (!options.command.empty()) y.text(1, "command", options.command);
  y.value(1, "measured_ms", fmt::format("{:.3f}", fit.measured_us / 1e3));
  y.value(1, "kernels_in_regions_of_no_known_pass", fmt::format("{}", fit.unaligned));
  y.key(1, "families");
  for (const FamilyFit& f : fit.families) {
    y.key(2, family_name(f.family));
    y.text(3, "outcome", outcome_name(f.outcome));
    if (f.outcome == FitOutcome::fitted || f.outcome == FitOutcome::rate_only) {
      y.text(3, "rate", rate_shown(f));
      y.text(3, "t0", fmt::format("{:.6g} us", f.t0_us));
      y.text(3, "residual_rms", calibrate::percent(f.rms));
      y.text(3, "residual_max", calibrate::percent(f.max));
    }
    y.value(3, "measured_ms", fmt::format("{:.3f}", f.measured_us / 1e3));
    y.value(3, "base_profile_ms", fmt::format("{:.3f}", f.base_us / 1e3));
    y.key(3, "cells");
    for (const FitCell& c : f.cells) {
      y.item(4, fmt::format("{}: {} model kernels, work {:.6g}, {} trace kernels {:.3f} ms, fitted {:.3f} ms",
                            kCellNames[static_cast<std::size_t>(c.cell)], c.launches, c.work, c.kernels,
                            c.measured_us / 1e3, c.fitted_us / 1e3));
    }
  }
  return y.str();
}

}  // namespace tcsim::trace
