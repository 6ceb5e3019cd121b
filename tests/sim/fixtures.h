// Scenarios the step-simulation tests share.
#pragma once

#include <string_view>

namespace tcsim_test {

// 64 H800 in 8 nodes on DeepSeek's multi-plane fat-tree; four DeepSeek-V3
// layers (three dense, one MoE) over PP2 DualPipe, EP32, DP32, ZeRO-1; 128
// sequences of 4096 tokens per step.
inline constexpr std::string_view kSmallMoe = R"(
name: small-moe
model: {preset: deepseek-v3, layers: 4}
parallelism: {tp: 1, pp: 2, ep: 32, dp: 32, micro_batch: 1, zero: 1, schedule: dualpipe, recompute: selective,
              comm_sms: 20}
precision: {gemm: fp8, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: bf16, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 8
  nodes: 8
  network: {topology: multi-plane-fat-tree, nic_bandwidth: "400 Gb/s", nics_per_node: 8, switch_radix: 64,
            latency_intra_leaf: "2.8 us", latency_cross_leaf: "3.7 us", latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 128}]
reliability: {mtbf_per_gpu: "50676 h", checkpoint_interval: "1 h"}
cost: {rental: "$2/GPU-h"}
)";

}  // namespace tcsim_test
