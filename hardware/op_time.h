// The op-time model: how long one op of the workload takes on one GPU, and
// which calibrated rate that time came from.
//   GEMM: wave and tile quantisation over the SMs left to compute, at the
//         profile's full-wave rate for the op's dtype.
//   attention: FLOPs at the profile's fused-attention rate (forward/backward).
//   memory-bound: bytes over the profile's rate for the op's memory family,
//         or its HBM rate where the profile gives none.
//   A measured profile may rate FP8 grouped and weight-gradient GEMMs apart.
// SMs given to communication kernels are taken from compute while they run
// (`compute_sms` below the profile's SM count scales the rate down).
// Contract: an op that does work in a pass takes work / achieved rate plus
// the `overhead` of the rate it used (the fitted per-launch time of a
// measured profile; zero when the profile gives none). The overhead is not
// scaled by `compute_sms`. A pass with no work (zero FLOPs or bytes) takes
// no time and no overhead: no kernel is launched.
#pragma once

#include <string>

#include "core/units.h"
#include "hardware/profile.h"
#include "model/ops.h"

namespace tcsim::hw {

struct OpTime {
  Seconds time;
  double rate = 0;          // the rate used, in its unit: B/s when `per_byte`, else FLOP/s
  bool per_byte = false;    // a memory-bound kernel's rate
  double efficiency = 1.0;  // GEMM: useful tile area / computed tile area over full waves
  Seconds overhead;         // the rate's per-launch overhead, included in `time`
  std::string rate_name;    // "FP8 GEMM", "HBM", "attention backward"
  std::string source;       // where the rate came from
};

// Wave-quantisation efficiency of an M x N GEMM (x groups) with tm x tn
// output tiles over `sms` SMs: useful tiles' area over the area computed by
// ceil(tiles / sms) full waves of sms tiles.
double gemm_wave_efficiency(const model::GemmShape& shape, int tile_m, int tile_n, int sms);

// The family of a memory op's kernel, for its rate.
MemoryFamily memory_family(model::MemoryKind kind);

// Time of `op` in `pass` (comm ops are not timed here: they are flows).
OpTime op_time(const model::Op& op, model::Pass pass, const CalibrationProfile& profile, int compute_sms);

// op_time(...).time alone, without copying the rate's name and source (the
// step graph and the plan search's bounds time ops by the million).
Seconds op_seconds(const model::Op& op, model::Pass pass, const CalibrationProfile& profile, int compute_sms);

}  // namespace tcsim::hw
