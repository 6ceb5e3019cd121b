#include "calibrate/trace/families.h"

#include <span>

namespace tcsim::trace {

std::string_view family_name(KernelFamily f) {
  return name_of(std::span<const Named<KernelFamily>>(kKernelFamilyNames), f);
}

// Patterns from the kernel names of DeepSeek's published profile
// (deepseek-ai/profile-data train.json: DeepGEMM-style FP8 GEMMs, FlashAttention
// 3, DeepEP) and the common PyTorch, cuBLAS and NCCL kernels. Order matters:
// a fused SwiGLU-and-cast kernel is an activation, a grouped-GEMM helper that
// transposes is a quantize, DeepEP's layout kernel is communication.
namespace {

struct BuiltinPattern {
  std::string_view pattern;
  KernelFamily family;
};

using F = KernelFamily;
constexpr BuiltinPattern kBuiltin[] = {
    {"dpsk::ep::", F::communication},
    {"deep_ep", F::communication},
    {"nccl", F::communication},
    {"fp8_dptp128c_acc", F::gemm_fp8_wgrad},
    {"m_grouped_fp8", F::grouped_gemm_fp8},
    {"grouped_gemm::cuda::utils::transpose", F::quantize},
    {"fill_tensormaps", F::elementwise},
    {"grouped_gemm::cuda::fp8", F::gemm_fp8},
    {"deep_gemm", F::gemm_fp8},
    {"fp8_gemm", F::gemm_fp8},
    {"FlashAttnBwdPreprocess", F::attention_prep},
    {"FlashAttnBwdPostprocess", F::attention_prep},
    {"flash_bwd_dot_do_o", F::attention_prep},
    {"flash_bwd_convert", F::attention_prep},
    {"FlashAttnBwd", F::attention_backward},
    {"flash_bwd", F::attention_backward},
    {"compute_attn", F::attention_forward},
    {"flash_fwd", F::attention_forward},
    {"FlashAttnFwd", F::attention_forward},
    {"swiglu", F::activation},
    {"silu", F::activation},
    {"gelu", F::activation},
    {"cast_to_fp8", F::quantize},
    {"cast_and_transpose", F::quantize},
    {"cast_back", F::quantize},
    {"batched_transpose", F::quantize},
    {"quantize", F::quantize},
    {"layer_norm", F::norm},
    {"rms_norm", F::norm},
    {"rmsnorm", F::norm},
    {"rotary", F::rope},
    {"rope", F::rope},
    {"expand_to_fused", F::moe_permute},
    {"reduce_fused", F::moe_permute},
    {"permute", F::moe_permute},
    {"topk", F::routing},
    {"TopK", F::routing},
    {"get_fused_mapping", F::routing},
    {"clean_and_count_expert", F::routing},
    {"unique_group_indices", F::routing},
    {"aux_fi", F::routing},
    {"xmma_gemm", F::gemm_bf16},
    {"cutlass", F::gemm_bf16},
    {"gemm", F::gemm_bf16},
    {"elementwise", F::elementwise},
    {"reduce_kernel", F::elementwise},
    {"copy_tensor", F::elementwise},
    {"Distribution", F::elementwise},
    {"Fill", F::elementwise},
};

}  // namespace

std::vector<FamilyPattern> builtin_family_patterns() {
  std::vector<FamilyPattern> out;
  for (const BuiltinPattern& p : kBuiltin) out.push_back({std::string(p.pattern), p.family});
  return out;
}

KernelFamily classify_kernel(std::string_view name, const std::vector<FamilyPattern>& table) {
  for (const FamilyPattern& p : table) {
    if (name.find(p.pattern) != std::string_view::npos) return p.family;
  }
  return KernelFamily::unknown;
}

}  // namespace tcsim::trace
