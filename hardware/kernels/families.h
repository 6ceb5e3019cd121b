// The kernel families of the op-time model, one leaf file each in this
// folder; op_time.cpp picks one by the op's class. Private to hardware/.
#pragma once

#include <string_view>

#include "hardware/op_time.h"

namespace tcsim::hw::kernels {

// An OpTime whose name and source are views (of static text and of the
// profile's, which outlives the call that reads them): op_time copies them,
// op_seconds reads the time alone.
struct KernelTime {
  Seconds time;
  double rate = 0;
  bool per_byte = false;
  double efficiency = 1.0;
  Seconds overhead;
  std::string_view rate_name;
  std::string_view source;
};

// Tensor-core GEMMs, dense and grouped: FLOPs at the dtype's calibrated rate,
// scaled by the SMs left to compute and the wave quantisation of the tiles.
KernelTime gemm(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms);

// Fused causal attention: FLOPs at the calibrated forward or backward rate.
KernelTime attention(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms);

// Memory-bound kernels: bytes read plus written at the calibrated HBM rate.
KernelTime memory_bound(const model::Op& op, model::Pass pass, const CalibrationProfile& p);

}  // namespace tcsim::hw::kernels
