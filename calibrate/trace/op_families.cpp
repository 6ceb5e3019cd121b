#include "calibrate/trace/op_families.h"

#include <map>

#include "hardware/op_time.h"

namespace tcsim::trace {

KernelFamily kernel_family(hw::MemoryFamily f) {
  const std::string_view name = name_of(std::span<const Named<hw::MemoryFamily>>(hw::kMemoryFamilyNames), f);
  for (const Named<KernelFamily>& k : kKernelFamilyNames) {
    if (k.name == name) return k.value;
  }
  return KernelFamily::unknown;
}

std::optional<hw::MemoryFamily> memory_family_of(KernelFamily f) {
  for (const Named<hw::MemoryFamily>& m : hw::kMemoryFamilyNames) {
    if (m.name == family_name(f)) return m.value;
  }
  return std::nullopt;
}

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
    case model::OpClass::memory: return kernel_family(hw::memory_family(op.memory));
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
