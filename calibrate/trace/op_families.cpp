#include "calibrate/trace/op_families.h"

#include <map>

#include "hardware/op_time.h"

namespace tcsim::trace {

KernelFamily family_of(const model::Op& op, model::Pass pass) {
  using model::Pass;
  const bool fp8 = op.dtype == model::Dtype::fp8;
  switch (op.cls) {
    case model::OpClass::gemm:
      if (!fp8) return KernelFamily::gemm_bf16;
      return pass == Pass::backward_weight ? KernelFamily::gemm_fp8_wgrad : KernelFamily::gemm_fp8;
    case model::OpClass::grouped_gemm:
      if (pass == Pass::backward_weight) return fp8 ? KernelFamily::gemm_fp8_wgrad : KernelFamily::gemm_bf16;
      return fp8 ? KernelFamily::grouped_gemm_fp8 : KernelFamily::gemm_bf16;
    case model::OpClass::attention:
      return pass == Pass::forward ? KernelFamily::attention_forward : KernelFamily::attention_backward;
    case model::OpClass::comm: return KernelFamily::communication;
    case model::OpClass::memory: {
      // The op-time model's memory families carry the trace families' names.
      const std::string_view name =
          name_of(std::span<const Named<hw::MemoryFamily>>(hw::kMemoryFamilyNames), hw::memory_family(op.memory));
      for (const Named<KernelFamily>& f : kKernelFamilyNames) {
        if (f.name == name) return f.value;
      }
      return KernelFamily::unknown;
    }
  }
  return KernelFamily::unknown;
}

std::vector<FamilyComparison> compare_families(const std::vector<model::Block>& blocks,
                                               const hw::CalibrationProfile& profile, int sms,
                                               const KernelTable& measured) {
  std::map<KernelFamily, FamilyComparison> by;
  const auto predict = [&](const model::Op& op, model::Pass pass) {
    const double us = hw::op_time(op, pass, profile, sms).time.value() * 1e6;
    if (us <= 0) return;
    FamilyComparison& c = by[family_of(op, pass)];
    c.predicted_us += us;
  };
  for (const model::Block& b : blocks) {
    for (const model::Op& op : b.ops) {
      if (op.cls == model::OpClass::comm) continue;
      predict(op, model::Pass::forward);
      predict(op, model::Pass::backward_input);
      predict(op, model::Pass::backward_weight);
      if (op.recomputed) predict(op, model::Pass::forward);
    }
  }
  for (const KernelRow& r : measured.rows) {
    if (r.family == KernelFamily::communication) continue;
    FamilyComparison& c = by[r.family];
    c.measured_us += r.duration_us;
    ++c.measured_kernels;
  }
  std::vector<FamilyComparison> out;
  for (const Named<KernelFamily>& n : kKernelFamilyNames) {
    const auto it = by.find(n.value);
    if (it == by.end()) continue;
    FamilyComparison c = it->second;
    c.family = n.value;
    out.push_back(c);
  }
  return out;
}

}  // namespace tcsim::trace
