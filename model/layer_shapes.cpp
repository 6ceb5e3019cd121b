#include "model/layer_shapes.h"

#include <cassert>

namespace tcsim::model {
namespace {

// DeepSeek-V2 §2.1 (arXiv:2405.04434), as implemented in DeepSeek-V3's
// inference/model.py: wq_a (h -> q_lora_rank), q_norm, wq_b (q_lora_rank ->
// heads x (nope + rope)); wkv_a (h -> kv_lora_rank + rope), kv_norm, wkv_b
// (kv_lora_rank -> heads x (nope + v)); wo (heads x v -> h). q_lora_rank == 0:
// a direct wq (h -> heads x (nope + rope)).
std::vector<Linear> mla_linears(const ModelSpec& m) {
  const AttentionSpec& a = m.attention;
  const std::int64_t h = m.hidden;
  const std::int64_t heads = a.heads;
  const std::int64_t q_out = heads * (a.qk_nope_head_dim + a.qk_rope_head_dim);
  std::vector<Linear> ls;
  if (a.q_lora_rank > 0) {
    ls.push_back({"attn.q_down", h, a.q_lora_rank, TpSplit::replicated});
    ls.push_back({"attn.q_up", a.q_lora_rank, q_out, TpSplit::column});
  } else {
    ls.push_back({"attn.q", h, q_out, TpSplit::column});
  }
  ls.push_back({"attn.kv_down", h, a.kv_lora_rank + a.qk_rope_head_dim, TpSplit::replicated});
  ls.push_back({"attn.kv_up", a.kv_lora_rank, heads * (a.qk_nope_head_dim + a.v_head_dim), TpSplit::column});
  ls.push_back({"attn.out", heads * a.v_head_dim, h, TpSplit::row});
  return ls;
}

// Multi-head / grouped-query attention (Ainslie et al. 2023, arXiv:2305.13245):
// q over heads x head_dim, k and v over kv_heads x head_dim (fused into one
// QKV GEMM as Megatron-LM runs it), output heads x head_dim -> h.
std::vector<Linear> mha_linears(const ModelSpec& m) {
  const AttentionDims d = attention_dims(m);
  const std::int64_t h = m.hidden;
  return {{"attn.qkv", h, (d.heads + 2 * d.kv_heads) * d.d_qk, TpSplit::column},
          {"attn.out", d.heads * d.d_v, h, TpSplit::row}};
}

}  // namespace

AttentionDims attention_dims(const ModelSpec& m) {
  const AttentionSpec& a = m.attention;
  if (a.kind == AttentionKind::mla) {
    return {
        .heads = a.heads, .kv_heads = a.heads, .d_qk = a.qk_nope_head_dim + a.qk_rope_head_dim, .d_v = a.v_head_dim};
  }
  const std::int64_t kv = a.kind == AttentionKind::mha ? a.heads : a.kv_heads;
  return {.heads = a.heads, .kv_heads = kv, .d_qk = a.head_dim, .d_v = a.head_dim};
}

std::vector<Linear> attention_linears(const ModelSpec& m) {
  return m.attention.kind == AttentionKind::mla ? mla_linears(m) : mha_linears(m);
}

std::vector<std::int64_t> attention_norm_widths(const ModelSpec& m) {
  const AttentionSpec& a = m.attention;
  if (a.kind != AttentionKind::mla) return {};
  std::vector<std::int64_t> widths;
  if (a.q_lora_rank > 0) widths.push_back(a.q_lora_rank);
  widths.push_back(a.kv_lora_rank);
  return widths;
}

// SwiGLU: Shazeer 2020 (arXiv:2002.05202) eq. 6, three matrices h x i; GELU:
// the original two-matrix FFN (Vaswani et al. 2017 §3.3).
std::vector<Linear> mlp_linears(const ModelSpec& m, const std::string& prefix, std::int64_t width) {
  const std::int64_t h = m.hidden;
  if (m.ffn == FfnKind::swiglu) {
    return {{prefix + ".up_gate", h, 2 * width, TpSplit::column}, {prefix + ".down", width, h, TpSplit::row}};
  }
  return {{prefix + ".up", h, width, TpSplit::column}, {prefix + ".down", width, h, TpSplit::row}};
}

// Gating: one logit per routed expert (DeepSeek-V3 §2.1.2 eq. 15: s = sigmoid(u^T e)).
Linear router_linear(const ModelSpec& m) {
  assert(m.moe.has_value());
  return {"moe.router", m.hidden, m.moe->routed, TpSplit::replicated, false};
}

// Vocabulary-parallel output layer (Megatron-LM: column-parallel over the vocabulary).
Linear head_linear(const ModelSpec& m, const std::string& name) {
  return {name, m.hidden, m.vocab, TpSplit::column, false};
}

Linear mtp_projection(const ModelSpec& m) { return {"mtp.eh_proj", 2 * std::int64_t{m.hidden}, m.hidden}; }

// RMSNorm (Zhang & Sennrich 2019) has one gain per feature; LayerNorm (Ba et
// al. 2016) a gain and a bias.
std::int64_t norm_weights(const ModelSpec& m, std::int64_t width) {
  return m.norm == NormKind::rmsnorm ? width : 2 * width;
}

std::int64_t bias_weights(const ModelSpec& m, const std::vector<Linear>& linears) {
  if (!m.biases) return 0;
  std::int64_t n = 0;
  for (const Linear& l : linears) n += l.out;
  return n;
}

std::int64_t sum_weights(const std::vector<Linear>& linears) {
  std::int64_t n = 0;
  for (const Linear& l : linears) n += l.weights();
  return n;
}

bool is_mtp_layer(const ModelSpec& m, int layer) { return layer >= m.layers; }

bool is_moe_layer(const ModelSpec& m, int layer) {
  if (!m.moe.has_value()) return false;
  return is_mtp_layer(m, layer) || layer >= m.dense_layers;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::int64_t local_out(const Linear& l, int tp) { return l.split == TpSplit::column ? ceil_div(l.out, tp) : l.out; }

std::int64_t local_in(const Linear& l, int tp) { return l.split == TpSplit::row ? ceil_div(l.in, tp) : l.in; }

}  // namespace tcsim::model
