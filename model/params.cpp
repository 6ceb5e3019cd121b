// Parameter counting from the architecture alone (no checkpoint). Every
// weight matrix comes from model/layer_shapes.h; conventions and sources are
// in docs/model.md ("Parameter counts").
#include "model/params.h"

#include "model/layer_shapes.h"

namespace tcsim::model {
namespace {

std::int64_t expert_weights(const ModelSpec& m) {
  return sum_weights(mlp_linears(m, "moe.experts", m.moe->expert_intermediate));
}

// DeepSeekMoE (Dai et al. 2024, arXiv:2401.06066; V3-TR §2.1.2): routed
// experts, shared experts (fused into one FFN of shared x expert width, as
// DeepSeek-V3's inference/model.py builds them) and a router h x routed.
// Experts and router carry no biases (DeepSeek, Mixtral). The sigmoid-score
// correction bias of aux-loss-free balancing (one number per expert, not
// trained by gradient) is not counted.
void add_moe(const ModelSpec& m, ParamCounts& c) {
  const MoeSpec& e = *m.moe;
  c.routed_experts = e.routed * expert_weights(m);
  const std::int64_t shared_width = std::int64_t{e.shared} * e.expert_intermediate;
  if (e.shared > 0) c.shared_experts = sum_weights(mlp_linears(m, "moe.shared", shared_width));
  c.router = router_linear(m).weights();
}

void add_dense_ffn(const ModelSpec& m, ParamCounts& c) {
  const std::vector<Linear> ffn = mlp_linears(m, "ffn", m.ffn_intermediate);
  c.dense_ffn = sum_weights(ffn);
  c.norms += bias_weights(m, ffn);
}

// One transformer layer by category. Pre-norm layers carry two norms (before
// attention, before the FFN: GPT-2/3, Llama, DeepSeek); MLA's latent norms
// count as attention, as ParamCounts documents.
ParamCounts layer_breakdown(const ModelSpec& m, int layer) {
  ParamCounts c;
  const std::vector<Linear> attn = attention_linears(m);
  c.attention = sum_weights(attn);
  for (std::int64_t width : attention_norm_widths(m)) c.attention += norm_weights(m, width);
  c.norms = 2 * norm_weights(m, m.hidden) + bias_weights(m, attn);
  if (is_moe_layer(m, layer)) {
    add_moe(m, c);
  } else {
    add_dense_ffn(m, c);
  }
  return c;
}

// Routed-expert weights one token uses: per_token (top-k) experts.
std::int64_t active_routed(const ModelSpec& m, int layer) {
  return is_moe_layer(m, layer) ? m.moe->per_token * expert_weights(m) : 0;
}

// An MTP module's weights beyond its transformer layer (V3-TR §2.2 eq. 21-22;
// the DeepSeek-V3 checkpoint's model.layers.61: eh_proj, enorm, hnorm and
// shared_head.norm). Embedding and head are shared with the main model.
std::int64_t mtp_extra(const ModelSpec& m) {
  const Linear proj = mtp_projection(m);
  return proj.weights() + bias_weights(m, {proj}) + 3 * norm_weights(m, m.hidden);
}

void accumulate(ParamCounts& into, const ParamCounts& c) {
  into.attention += c.attention;
  into.dense_ffn += c.dense_ffn;
  into.routed_experts += c.routed_experts;
  into.shared_experts += c.shared_experts;
  into.router += c.router;
  into.norms += c.norms;
}

std::int64_t sum_categories(const ParamCounts& c) {
  return c.embedding + c.head + c.attention + c.dense_ffn + c.routed_experts + c.shared_experts + c.router + c.norms;
}

}  // namespace

ParamCounts count_params(const ModelSpec& m) {
  const std::int64_t h = m.hidden;
  ParamCounts c;
  c.embedding = std::int64_t{m.vocab} * h;
  if (m.position == PositionKind::learned) c.embedding += std::int64_t{m.max_position} * h;
  c.head = m.tied_embeddings ? 0 : std::int64_t{m.vocab} * h;
  c.norms = norm_weights(m, h);  // the final norm before the head
  std::int64_t routed_used = 0;
  for (int layer = 0; layer < m.layers; ++layer) {
    accumulate(c, layer_breakdown(m, layer));
    routed_used += active_routed(m, layer);
  }
  c.total = sum_categories(c);
  c.active = c.total - c.routed_experts + routed_used;
  // A token reads one row of the embedding table; labs differ on whether
  // "activated" counts the table (ModelSpec::active_counts_embedding).
  if (!m.active_counts_embedding) c.active -= c.embedding - h;
  if (m.mtp_depth > 0) {
    const LayerParams p = layer_params(m, m.layers);
    c.mtp = m.mtp_depth * (p.dense + p.routed_experts);
    c.mtp_active = m.mtp_depth * (p.dense + active_routed(m, m.layers));
  }
  return c;
}

LayerParams layer_params(const ModelSpec& m, int layer) {
  const ParamCounts c = layer_breakdown(m, layer);
  LayerParams p;
  p.dense = c.attention + c.dense_ffn + c.shared_experts + c.router + c.norms;
  if (is_mtp_layer(m, layer)) p.dense += mtp_extra(m);
  p.routed_experts = c.routed_experts;
  return p;
}

}  // namespace tcsim::model
