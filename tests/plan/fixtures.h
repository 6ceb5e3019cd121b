// The plan-search tests' scenario, shared by the library and CLI suites.
#pragma once

#include <string_view>

namespace tcsim_test {

// 16 H800 in 2 nodes of 8; a 4-layer dense model with 8 MHA heads; 32
// sequences of 4096 tokens per step, no ramp. The scenario's own plan: TP1
// PP2 DP8 DualPipe ZeRO-1, recompute selective.
inline constexpr std::string_view kPlanSmall = R"(
name: plan-small
model: {layers: 4, hidden: 256, vocab: 1024, attention: {kind: mha, heads: 8, kv_heads: 8, head_dim: 32},
        ffn: {kind: swiglu, intermediate: 512}}
parallelism: {tp: 1, pp: 2, ep: 1, dp: 8, micro_batch: 1, zero: 1, schedule: dualpipe, recompute: selective,
              overlap_param_gather: true}
precision: {gemm: bf16, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: fp32, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 8
  nodes: 2
  network: {topology: multi-plane-fat-tree, nic_bandwidth: "400 Gb/s", nics_per_node: 8, switch_radix: 64,
            latency_intra_leaf: "2.8 us", latency_cross_leaf: "3.7 us", latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 32}]
cost: {rental: "$2/GPU-h"}
)";

}  // namespace tcsim_test
