// Kernel families: every GPU kernel of a trace is put in one by its name,
// through one table of name patterns (families.cpp; docs/calibration.md,
// "Kernel families"), so a trace's time can be set beside the op-time
// model's kernel families. A kernel no pattern matches is `unknown` and is
// listed by name, never dropped.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/named.h"

namespace tcsim::trace {

enum class KernelFamily {
  gemm_fp8,            // dense FP8 GEMM (DeepGEMM-style, block-scaled)
  grouped_gemm_fp8,    // FP8 GEMMs of the routed experts, grouped by expert
  gemm_fp8_wgrad,      // FP8 weight-gradient GEMM accumulating into FP32
  gemm_bf16,           // BF16/FP32 GEMMs (cuBLAS)
  attention_forward,   // fused attention forward
  attention_backward,  // fused attention backward
  attention_prep,      // attention backward's pre- and post-processing
  quantize,            // FP8 casts, cast-backs and transposes
  norm,                // RMSNorm/LayerNorm forward and backward
  rope,                // rotary position embedding
  activation,          // SwiGLU and other activations (with fused casts)
  moe_permute,         // MoE expand (permute) and weighted reduce (unpermute)
  routing,             // gate top-k, expert mapping and counts
  elementwise,         // PyTorch elementwise, reductions, copies, fills
  communication,       // NCCL, DeepEP
  memcpy,              // GPU memory copies (not kernels)
  memset,              // GPU memory sets (not kernels)
  unknown,
};

inline constexpr std::array<Named<KernelFamily>, 18> kKernelFamilyNames{{
    {"gemm-fp8", KernelFamily::gemm_fp8},
    {"grouped-gemm-fp8", KernelFamily::grouped_gemm_fp8},
    {"gemm-fp8-wgrad", KernelFamily::gemm_fp8_wgrad},
    {"gemm-bf16", KernelFamily::gemm_bf16},
    {"attention-forward", KernelFamily::attention_forward},
    {"attention-backward", KernelFamily::attention_backward},
    {"attention-prep", KernelFamily::attention_prep},
    {"quantize", KernelFamily::quantize},
    {"norm", KernelFamily::norm},
    {"rope", KernelFamily::rope},
    {"activation", KernelFamily::activation},
    {"moe-permute", KernelFamily::moe_permute},
    {"routing", KernelFamily::routing},
    {"elementwise", KernelFamily::elementwise},
    {"communication", KernelFamily::communication},
    {"memcpy", KernelFamily::memcpy},
    {"memset", KernelFamily::memset},
    {"unknown", KernelFamily::unknown},
}};

std::string_view family_name(KernelFamily f);

// One row of the table: kernels whose name contains `pattern` are `family`.
struct FamilyPattern {
  std::string pattern;
  KernelFamily family = KernelFamily::unknown;
};

// The built-in table, most specific patterns first (the first match wins).
std::vector<FamilyPattern> builtin_family_patterns();

// The family of a kernel by its name: the first pattern of `table` it
// contains, else unknown.
KernelFamily classify_kernel(std::string_view name, const std::vector<FamilyPattern>& table);

}  // namespace tcsim::trace
