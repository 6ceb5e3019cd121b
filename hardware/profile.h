// A calibration profile: the rates one GPU achieves, each with where it came
// from. Measured profiles come from `tcsim calibrate` (raw samples beside
// them); until a GPU has one, a profile of public measured ceilings stands in,
// saying so. The op-time model reads only this.
#pragma once

#include <string>

#include "core/units.h"

namespace tcsim::hw {

template <class Q>
struct Sourced {
  Q value;
  std::string source;
  // Fixed time per launch at this rate (the fitted t0 of time = t0 + work /
  // rate); zero when the profile gives none, as public ceilings do.
  Seconds overhead{};

  bool operator==(const Sourced&) const = default;
};

struct CalibrationProfile {
  std::string name;        // "public-h800"
  std::string gpu;         // the GPU preset it describes
  std::string provenance;  // measured by whom, where, when; or "public ceilings"
  std::string file;        // where it was loaded from
  std::string samples;     // raw samples it was fitted to, relative to `file`; empty for public profiles
  int sms = 0;             // SMs of the GPU the rates were measured on
  // Best-shape GEMM throughput, taken as the rate of full waves of tiles.
  Sourced<FlopsPerSecond> gemm_bf16;
  Sourced<FlopsPerSecond> gemm_fp8;  // FP8 with the scaling the workload uses (block-scaled for DeepSeek-V3)
  // Output tile of the GEMM kernels: the unit of wave and tile quantisation.
  int tile_m = 0;
  int tile_n = 0;
  std::string tile_source;
  Sourced<BytesPerSecond> hbm;                // memory-bound kernels, bytes read plus written
  Sourced<FlopsPerSecond> attention_forward;  // fused causal attention, BF16
  Sourced<FlopsPerSecond> attention_backward;
  // A fitted profile's `fit:` map (residuals, points, ceilings) is a report
  // for people; the loader checks it is a map and keeps nothing of it.

  bool operator==(const CalibrationProfile&) const = default;
};

}  // namespace tcsim::hw
