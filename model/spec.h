// Plain resolved specs of a workload: the model's architecture, the parallel
// plan and the numeric precision. Aggregates with no behaviour; the scenario
// loader fills them, everything downstream reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tcsim::model {

enum class AttentionKind { mha, gqa, mla };
enum class FfnKind { swiglu, gelu };
enum class NormKind { rmsnorm, layernorm };
enum class PositionKind { rope, learned };

struct AttentionSpec {
  AttentionKind kind = AttentionKind::mha;
  int heads = 0;
  // MHA/GQA: key/value heads (== heads for MHA) and the per-head dimension.
  int kv_heads = 0;
  int head_dim = 0;
  // MLA (DeepSeek-V2/V3): low-rank query and joint key-value compression.
  // q_lora_rank == 0 means queries are projected directly (no compression).
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;

  bool operator==(const AttentionSpec&) const = default;
};

struct MoeSpec {
  int routed = 0;               // routed experts per MoE layer
  int shared = 0;               // shared experts, always active
  int per_token = 0;            // routed experts each token activates (top-k)
  int expert_intermediate = 0;  // FFN width of one expert
  int max_nodes_per_token = 0;  // node-limited routing (0: unlimited)

  bool operator==(const MoeSpec&) const = default;
};

struct ModelSpec {
  std::string name;
  std::string source;  // where the architecture numbers come from
  int layers = 0;
  int hidden = 0;
  int vocab = 0;
  AttentionSpec attention;
  FfnKind ffn = FfnKind::swiglu;
  int ffn_intermediate = 0;  // dense FFN width (dense layers, dense models)
  std::optional<MoeSpec> moe;
  int dense_layers = 0;  // MoE models: the first dense_layers layers use a dense FFN
  NormKind norm = NormKind::rmsnorm;
  PositionKind position = PositionKind::rope;
  int max_position = 0;          // learned position embeddings: table rows
  bool biases = false;           // linear layers carry biases (GPT-3)
  bool tied_embeddings = false;  // output head shares the input embedding
  int mtp_depth = 0;             // multi-token-prediction modules (DeepSeek-V3: 1)
  // How the model's paper counts "activated" parameters: with the whole input
  // embedding table (Mistral), or with only the row a token reads (DeepSeek).
  bool active_counts_embedding = true;

  bool operator==(const ModelSpec&) const = default;
};

enum class Schedule { one_f_one_b, interleaved_1f1b, zero_bubble, dualpipe };
enum class Recompute { none, selective, full };

struct ParallelPlan {
  int tp = 1;              // tensor parallel
  int pp = 1;              // pipeline parallel
  int ep = 1;              // expert parallel (carved out of dp x tp x cp)
  int dp = 1;              // data parallel
  int cp = 1;              // context parallel
  int virtual_stages = 1;  // pipeline chunks per rank (interleaved 1F1B)
  int micro_batch = 1;     // sequences per micro-batch
  int zero = 0;            // ZeRO stage 0..3
  Schedule schedule = Schedule::one_f_one_b;
  Recompute recompute = Recompute::none;
  // The expert FFNs of MoE layers (routed and shared) keep their activation
  // function's input (the up/gate GEMM's output) in
  // PrecisionSpec::gemm_input_cache and recompute its output (the
  // down-projection's input) in backward, under any recompute policy. V3-TR
  // §3.3.4 "Low-Precision Activation" (2); Megatron-Core's recompute module
  // "moe_act". Dense FFNs are not affected.
  bool recompute_moe_activation = false;
  // The router's gate values multiply the routed experts' activation output
  // before their down-projection, so an expert's output is never kept: the
  // gate's gradient is <down-projection input gradient, activation output>,
  // both at hand in backward. DeepSeek's training kernels do this
  // (swiglu_forward_with_weight_and_per_token_cast_to_fp8 in its published
  // H800 profile), as does Megatron-Core since 0.12.1 (weighted_bias_swiglu).
  // false: the combine weights the expert outputs and keeps them for the
  // gate's gradient (Megatron-Core up to 0.12.0, probs in unpermute).
  bool moe_weighted_activation = true;
  int comm_sms = 0;  // SMs given to communication kernels while they run
  // Layers per pipeline stage (pp x virtual_stages entries, first stage
  // first). Empty: layers split evenly, which requires divisibility.
  std::vector<int> stage_layers;
  // Sequence parallelism with tensor parallelism (Korthikanti et al. 2022,
  // arXiv:2205.05198 §4.2.2; Megatron-LM --sequence-parallel): norms,
  // residuals and dropout on tokens/tp per GPU; each TP all-reduce becomes a
  // reduce-scatter, with an all-gather before the next column-parallel GEMM.
  bool sequence_parallel = false;
  // Tensor parallelism inside each routed and shared expert (Megatron-Core
  // --expert-tensor-parallel-size); 0: the same as tp. Expert parallelism
  // is carved out of the tp x dp x cp GPUs of a stage, expert_tp at a time.
  int expert_tp = 0;
  // Combined 1F1B (Megatron-Core --overlap-moe-expert-parallel-comm): the
  // forward and backward chunks of each steady-state 1F1B step run as one
  // overlapped pair, so one chunk's EP all-to-alls hide behind the other's
  // compute (DualPipe's pairing, V3-TR §3.2.1). interleaved-1f1b, or 1f1b on
  // one pipeline rank; DualPipe always overlaps.
  bool overlap_ep_comm = false;
  // The shared expert runs beside the dispatch all-to-all (Megatron-Core
  // --moe-shared-expert-overlap; DeepSeek-V2, arXiv:2405.04434, §3.2
  // infrastructure; V3-TR Fig. 4). DualPipe
  // always does.
  bool overlap_shared_expert = false;
  // Tensor-parallel collectives overlapped with the GEMM beside them
  // (Megatron-LM --tp-comm-overlap, TransformerEngine userbuffers): the
  // all-gather with the column-parallel GEMM that reads it, the
  // reduce-scatter with the row-parallel GEMM that feeds it, pipelined in
  // tp chunks. Needs sequence_parallel.
  bool overlap_tp_comm = false;
  // Data-parallel gradient reduction in buckets as each block's gradients
  // are done, beside the rest of the backward (Megatron-LM
  // --overlap-grad-reduce); false: all of it after the rank's last backward.
  bool overlap_grad_reduce = true;
  // ZeRO-1/2 parameter all-gather of the updated weights beside the next
  // step's forward, each stage's first forward waiting for its own weights
  // (Megatron-LM --overlap-param-gather; it requires --overlap-grad-reduce and
  // the distributed optimizer, arguments.py); false: after the optimizer,
  // before the step ends.
  bool overlap_param_gather = false;
  // Weight gradients after the input gradients of their backward chunk: a
  // block's weight-gradient GEMMs wait while input-gradient work is ready and
  // fill the stream while it waits for communication (Megatron-LM
  // --delay-wgrad-compute; with combined 1F1B they run beside the backward's
  // all-to-alls). false: each block's right after its input gradients.
  bool delay_wgrad_compute = false;

  bool operator==(const ParallelPlan&) const = default;
};

// The tensor-parallel degree inside each expert.
constexpr int expert_tp(const ParallelPlan& p) { return p.expert_tp > 0 ? p.expert_tp : p.tp; }

// e5m6: DeepSeek-V3's 12-bit storage format (1 sign, 5 exponent, 6 mantissa
// bits) for cached attention outputs (V3-TR §3.3.4); a storage format only.
enum class Dtype { fp32, bf16, fp16, fp8, e5m6 };

struct PrecisionSpec {
  Dtype gemm = Dtype::bf16;              // GEMM inputs (fprop, dgrad, wgrad)
  Dtype weights = Dtype::bf16;           // working copy of the weights
  Dtype master_weights = Dtype::fp32;    // optimizer's copy
  Dtype grads = Dtype::fp32;             // gradient accumulation buffers
  Dtype optimizer_states = Dtype::fp32;  // AdamW first and second moments
  Dtype activations = Dtype::bf16;       // tensors saved for backward
  // The saved copy of each input of a GEMM that runs in `gemm`, which its
  // weight-gradient GEMM reads in backward (and the MoE activation input
  // under ParallelPlan::recompute_moe_activation). fp8 and e5m6 copies carry
  // one FP32 scale per 1x128 tile. DeepSeek-V3: fp8 (V3-TR §3.3.4: "cache
  // activations in FP8 format for the backward pass of the Linear operator").
  Dtype gemm_input_cache = Dtype::bf16;
  // The saved attention output O: the output projection's GEMM input, also
  // read by the attention core's backward; one copy serves both. Scaled like
  // gemm_input_cache. DeepSeek-V3: e5m6 (V3-TR §3.3.4 (1)).
  Dtype attention_output_cache = Dtype::bf16;

  bool operator==(const PrecisionSpec&) const = default;
};

// Bytes per element of a dtype (IEEE 754 and OCP FP8 sizes; e5m6 packed,
// 12 bits: docs/model.md, "Activation memory").
constexpr double dtype_bytes(Dtype d) {
  switch (d) {
    case Dtype::fp32: return 4.0;
    case Dtype::bf16: return 2.0;
    case Dtype::fp16: return 2.0;
    case Dtype::fp8: return 1.0;
    case Dtype::e5m6: return 1.5;
  }
  return 0.0;
}

}  // namespace tcsim::model
