// Calibration from a profiler trace: the trace's kernels set beside the ops
// of the same work in the model (same model, micro-batch and plan), family
// by family and pass by pass, and each family's rate fitted to the kernels'
// measured durations (docs/calibration.md, "Calibrating from a trace").
//
// Alignment. A kernel's pass comes from the annotation region it counts in:
// a region named "...(F)" is forward, "...(B)" the input-gradient pass
// (recomputed forwards run there too), "...(W)" the weight-gradient pass;
// a user's rules come first. Model ops are placed in the same cells by their
// pass. A family with a kernel in a region of no known pass is fitted over
// one cell, the whole trace.
//
// Model. In each cell, time = launches x t0 + work / rate, where launches are
// the model's kernels in the cell and work the op-time model's work at a
// rate of 1 (GEMM FLOPs over the wave efficiency and the SMs left to compute;
// attention FLOPs over those SMs; memory bytes). Least squares in
// (t0, 1/rate), each cell weighted by 1/measured (relative errors), when a
// family has three cells or more and both come out positive; otherwise the
// rate alone (t0 = 0) as the family's measured time over its work, so its
// total matches the trace. A family whose kernels the framework runs in
// another pass than the model shows it in the cells' residuals. Only kernel durations are fitted: nothing here sees a
// step time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calibrate/trace/families.h"
#include "calibrate/trace/kernel_table.h"
#include "hardware/profile.h"
#include "model/ops.h"

namespace tcsim::trace {

// A user's rule: kernels in the region named `region` belong to `pass`, or
// to none (nullopt: left out of the fit, e.g. warm-up).
struct RegionRule {
  std::string region;
  std::optional<model::Pass> pass;
};

// The cells a pass falls in: 0 forward, 1 input gradient, 2 weight gradient,
// 3 the whole trace.
inline constexpr int kCells = 4;
inline constexpr int kWholeTrace = 3;

struct FitCell {
  int cell = 0;
  int launches = 0;        // the model's kernels
  double work = 0;         // the model's work at rate 1 (FLOP or byte equivalents)
  int kernels = 0;         // the trace's kernels
  double measured_us = 0;  // their summed durations
  double fitted_us = 0;    // launches x t0 + work / rate, after the fit
};

enum class FitOutcome {
  fitted,        // t0 and rate
  rate_only,     // the rate, t0 = 0
  kept,          // too little of the trace's time to fit: the base profile's rate stays
  not_modelled,  // measured, no model op of the family
  not_measured,  // modelled, no kernel of the family in the trace
};

struct FamilyFit {
  KernelFamily family = KernelFamily::unknown;
  FitOutcome outcome = FitOutcome::not_measured;
  double rate = 0;  // per second, in the family's work unit
  double t0_us = 0;
  std::vector<FitCell> cells;
  double rms = 0;  // relative residuals (fitted - measured) / measured over the cells
  double max = 0;
  double measured_us = 0;
  double base_us = 0;  // the base profile's prediction of the same work
  double fitted_us = 0;
  bool per_byte = false;  // the rate is in B/s (memory-bound families), else FLOP/s
};

struct TraceFitOptions {
  std::vector<RegionRule> rules;
  // A family with less than this share of the trace's compute-kernel time
  // keeps the base profile's rate (too little to fit). A choice, not a
  // measurement: 1% keeps DeepSeek's FP32 gate GEMMs (0.4%) from rating every
  // BF16 GEMM, while every other modelled family has 1.1% or more (RoPE: 1.5
  // of 130.6 ms).
  double min_share = 0.01;
  std::string trace_name;  // file name, for the sources
  std::string source;      // where the trace comes from (user text)
  std::string command;     // the command line that fitted it, for the report
};

struct TraceFit {
  hw::CalibrationProfile profile;   // the base with every fitted rate replaced
  std::vector<FamilyFit> families;  // in the order of kKernelFamilyNames
  double measured_us = 0;           // compute kernels (communication left out)
  int unaligned = 0;                // kernels in regions of no known pass
};

// The pass of a region: the rules, then the (F)/(B)/(W) suffix; -1 for a
// region left out by a rule, kWholeTrace for one of no known pass.
int region_cell(const std::string& region, const std::vector<RegionRule>& rules);

// Fits the families of `measured` against every op of `blocks` (each pass,
// recomputed forwards in the input-gradient cell) on `compute_sms` SMs.
// Communication kernels are left out (their durations include waiting).
TraceFit fit_trace(const std::vector<model::Block>& blocks, const hw::CalibrationProfile& base, int compute_sms,
                   const KernelTable& measured, const TraceFitOptions& options);

// The fitted profile as YAML (scenario/profile loader format) with a `fit:`
// report: the method, and per family its cells, residuals and outcome.
std::string trace_profile_yaml(const TraceFit& fit, const TraceFitOptions& options);

std::string_view outcome_name(FitOutcome o);

}  // namespace tcsim::trace
