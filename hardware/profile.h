// A calibration profile: the rates one GPU achieves, each with where it came
// from. Measured profiles come from `tcsim calibrate` (raw samples beside
// them); until a GPU has one, a profile of public measured ceilings stands in,
// saying so. The op-time model reads only this.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/named.h"
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

// Memory-bound kernel families a profile may rate apart from `hbm`: the
// kernel families of a trace (calibrate/trace/families.h) that move bytes.
enum class MemoryFamily { quantize, norm, rope, activation, permute, routing, elementwise, attention_prep };
inline constexpr int kMemoryFamilies = 8;

inline constexpr std::array<Named<MemoryFamily>, kMemoryFamilies> kMemoryFamilyNames{{
    {"quantize", MemoryFamily::quantize},
    {"norm", MemoryFamily::norm},
    {"rope", MemoryFamily::rope},
    {"activation", MemoryFamily::activation},
    {"moe-permute", MemoryFamily::permute},
    {"routing", MemoryFamily::routing},
    {"elementwise", MemoryFamily::elementwise},
    {"attention-prep", MemoryFamily::attention_prep},
}};

struct CalibrationProfile {
  std::string name;        // "public-h800"
  std::string gpu;         // the GPU preset it describes
  std::string provenance;  // measured by whom, where, when; or "public ceilings"
  std::string file;        // where it was loaded from
  std::string samples;     // raw samples it was fitted to, relative to `file`; empty for public profiles
  int sms = 0;             // SMs of the GPU the rates were measured on
  // Best-shape GEMM throughput, taken as the rate of full waves of tiles.
  Sourced<FlopsPerSecond> gemm_bf16;
  // FP8 with the scaling the workload uses (block-scaled for DeepSeek-V3);
  // zero on a GPU without FP8 tensor cores, whose profile has no fp8 rate.
  Sourced<FlopsPerSecond> gemm_fp8;
  // Output tile of the GEMM kernels: the unit of wave and tile quantisation.
  int tile_m = 0;
  int tile_n = 0;
  std::string tile_source;
  // Kernel variants a measured profile rates apart; absent, gemm_fp8 rates them.
  std::optional<Sourced<FlopsPerSecond>> gemm_fp8_grouped;  // the routed experts' grouped GEMMs
  std::optional<Sourced<FlopsPerSecond>> gemm_fp8_wgrad;  // FP8 weight gradients (dense and grouped), FP32 accumulation
  Sourced<BytesPerSecond> hbm;                            // memory-bound kernels, bytes read plus written
  // Achieved bandwidth of each memory-bound family, indexed by MemoryFamily;
  // absent, `hbm` rates it.
  std::array<std::optional<Sourced<BytesPerSecond>>, kMemoryFamilies> memory;
  // Fused attention, BF16, applied to the causal FLOPs an op counts; public
  // profiles copy benchmark rates measured without the mask (docs/calibration.md).
  Sourced<FlopsPerSecond> attention_forward;
  Sourced<FlopsPerSecond> attention_backward;
  // A fitted profile's `fit:` map (residuals, points, ceilings) is a report
  // for people; the loader checks it is a map and keeps nothing of it.

  bool operator==(const CalibrationProfile&) const = default;
};

}  // namespace tcsim::hw
