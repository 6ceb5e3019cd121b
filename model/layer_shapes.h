// Private to model/: the weight matrices of each block, with how tensor
// parallelism splits them. One table feeds parameter counting (params.cpp),
// the op builder (ops.cpp) and per-GPU weight memory (memory.cpp), so the
// three cannot disagree about what a layer contains.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/spec.h"

namespace tcsim::model {

// Megatron-LM tensor parallelism (Shoeybi et al. 2019, arXiv:1909.08053 §3): a
// column-parallel linear splits its output features over the TP ranks, a
// row-parallel one its input features; a replicated linear is computed whole
// on every TP rank (Megatron-Core MLA keeps the q/kv down-projections
// duplicated; the MoE router is replicated).
enum class TpSplit { column, row, replicated };

struct Linear {
  std::string name;  // op name: "attn.q_down", "ffn.up_gate", ...
  std::int64_t in = 0;
  std::int64_t out = 0;
  TpSplit split = TpSplit::replicated;
  // Runs in the plan's GEMM dtype. False for the GEMMs DeepSeek keeps in
  // BF16/FP32 under FP8 training: the output head and the MoE gating module
  // (V3-TR §3.3, "Mixed Precision Framework").
  bool low_precision = true;

  std::int64_t weights() const { return in * out; }
};

// Per-head attention dimensions: query/key width, value width, and head
// counts (MLA: every head has its own key and value after up-projection).
struct AttentionDims {
  std::int64_t heads = 0;
  std::int64_t kv_heads = 0;
  std::int64_t d_qk = 0;
  std::int64_t d_v = 0;
};

AttentionDims attention_dims(const ModelSpec& m);

// Attention projections of one layer, in execution order.
std::vector<Linear> attention_linears(const ModelSpec& m);

// Widths of the norms inside the attention block beyond the layer's two
// (MLA's q_norm over q_lora_rank and kv_norm over kv_lora_rank).
std::vector<std::int64_t> attention_norm_widths(const ModelSpec& m);

// A feed-forward block of `width` (one expert, a dense FFN, or the shared
// experts fused): SwiGLU up_gate (h -> 2 width, gate and up fused) then down;
// GELU up then down.
std::vector<Linear> mlp_linears(const ModelSpec& m, const std::string& prefix, std::int64_t width);

Linear router_linear(const ModelSpec& m);
Linear head_linear(const ModelSpec& m, const std::string& name);
// MTP module's projection of [RMSNorm(h); RMSNorm(emb)] from 2h to h (V3-TR §2.2, eq. 21).
Linear mtp_projection(const ModelSpec& m);

// Weights of one norm over `width` features: RMSNorm has a gain (width),
// LayerNorm a gain and a bias (2 width).
std::int64_t norm_weights(const ModelSpec& m, std::int64_t width);

// Bias weights of these linears when the model has biases (GPT-3), else 0.
std::int64_t bias_weights(const ModelSpec& m, const std::vector<Linear>& linears);

std::int64_t sum_weights(const std::vector<Linear>& linears);

// A layer index >= m.layers is an MTP module, built like the last main layer.
bool is_moe_layer(const ModelSpec& m, int layer);
bool is_mtp_layer(const ModelSpec& m, int layer);

// Local GEMM dimensions on one TP rank (output or input features divided by
// tp, rounded up: Megatron pads vocabularies to a multiple of tp; heads are
// expected to divide).
std::int64_t local_out(const Linear& l, int tp);
std::int64_t local_in(const Linear& l, int tp);
std::int64_t ceil_div(std::int64_t a, std::int64_t b);

}  // namespace tcsim::model
