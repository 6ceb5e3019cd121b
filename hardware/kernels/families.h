// The kernel families of the op-time model, one leaf file each in this
// folder; op_time.cpp picks one by the op's class. Private to hardware/.
#pragma once

#include "hardware/op_time.h"

namespace tcsim::hw::kernels {

// Tensor-core GEMMs, dense and grouped: FLOPs at the dtype's calibrated rate,
// scaled by the SMs left to compute and the wave quantisation of the tiles.
OpTime gemm(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms);

// Fused causal attention: FLOPs at the calibrated forward or backward rate.
OpTime attention(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms);

// Memory-bound kernels: bytes read plus written at the calibrated HBM rate.
OpTime memory_bound(const model::Op& op, model::Pass pass, const CalibrationProfile& p);

}  // namespace tcsim::hw::kernels
