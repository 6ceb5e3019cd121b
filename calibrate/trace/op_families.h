// The op-time model's predictions beside a trace's measurements, family by
// family: the trace family a model op's kernel falls in, pass by pass, and
// the two sums side by side.
#pragma once

#include <optional>
#include <vector>

#include "calibrate/trace/families.h"
#include "calibrate/trace/kernel_table.h"
#include "hardware/profile.h"
#include "model/ops.h"

namespace tcsim::trace {

// An FP8 GEMM's input-gradient pass is a gemm-fp8 kernel and its weight
// gradient a gemm-fp8-wgrad; grouped expert GEMMs likewise; norms,
// activations, residual adds, permutes and the loss by their MemoryKind;
// communication ops are `communication`.
KernelFamily family_of(const model::Op& op, model::Pass pass);

// The op-time model's memory families and the trace's families are named
// alike (hw::kMemoryFamilyNames, kKernelFamilyNames): the trace family of a
// memory family, and the memory family a trace family rates, if any.
KernelFamily kernel_family(hw::MemoryFamily f);
std::optional<hw::MemoryFamily> memory_family_of(KernelFamily f);

struct FamilyComparison {
  KernelFamily family = KernelFamily::unknown;
  double predicted_us = 0;
  double measured_us = 0;
  int measured_kernels = 0;
};

// Predicted: every op of `blocks` in its forward, input-gradient and
// weight-gradient pass, and its forward again when the plan recomputes it,
// timed by hw::op_time on `sms` SMs. Measured: the table's kernels outside
// the communication family. One row per family either side has, in the
// order of kKernelFamilyNames; communication is left out (its kernels'
// durations include their waiting).
std::vector<FamilyComparison> compare_families(const std::vector<model::Block>& blocks,
                                               const hw::CalibrationProfile& profile, int sms,
                                               const KernelTable& measured);

}  // namespace tcsim::trace
