#include "model/placement.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "model/layer_shapes.h"

namespace tcsim::model {
namespace {

// Weights of these linears on one TP rank; biased: they carry biases, as the
// attention, dense-FFN and MTP-projection linears of a `biases` model do
// (params.cpp; MoE experts carry none).
double local_weights(const std::vector<Linear>& ls, int tp, bool biased) {
  double n = 0;
  for (const Linear& l : ls) {
    n += static_cast<double>(local_in(l, tp) * local_out(l, tp));
    if (biased) n += static_cast<double>(local_out(l, tp));
  }
  return n;
}

// One layer (or MTP module) on one GPU.
BlockWeights layer_weights(const ModelSpec& m, const ParallelPlan& plan, int layer) {
  const int tp = plan.tp;
  BlockWeights p;
  p.dense = local_weights(attention_linears(m), tp, m.biases) + 2.0 * static_cast<double>(norm_weights(m, m.hidden));
  for (std::int64_t width : attention_norm_widths(m)) p.dense += static_cast<double>(norm_weights(m, width));
  if (is_moe_layer(m, layer)) {
    const MoeSpec& e = *m.moe;
    p.dense += static_cast<double>(router_linear(m).weights());
    const std::int64_t shared_width = std::int64_t{e.shared} * e.expert_intermediate;
    if (e.shared > 0) p.dense += local_weights(mlp_linears(m, "moe.shared", shared_width), tp, false);
    const double local_experts = static_cast<double>(e.routed) / plan.ep;
    p.routed =
        local_experts * local_weights(mlp_linears(m, "moe.experts", e.expert_intermediate), expert_tp(plan), false);
  } else {
    p.dense += local_weights(mlp_linears(m, "ffn", m.ffn_intermediate), tp, m.biases);
  }
  if (is_mtp_layer(m, layer)) {
    p.dense += local_weights({mtp_projection(m)}, tp, m.biases) + 3.0 * static_cast<double>(norm_weights(m, m.hidden));
  }
  return p;
}

// The vocabulary table, split over TP (Megatron's vocab-parallel embedding).
double vocab_table(const ModelSpec& m, int tp) {
  return static_cast<double>(ceil_div(m.vocab, tp)) * static_cast<double>(m.hidden);
}

}  // namespace

std::vector<BlockWeights> block_weights(const ModelSpec& m, const ParallelPlan& plan) {
  std::vector<BlockWeights> out;
  BlockWeights embedding;
  embedding.dense = vocab_table(m, plan.tp);
  if (m.position == PositionKind::learned) embedding.dense += static_cast<double>(m.max_position) * m.hidden;
  out.push_back(embedding);
  // A layer's weights depend on whether it is a MoE layer and whether an MTP
  // module (layer_weights): each kind is counted once.
  std::array<std::optional<BlockWeights>, 4> kinds;
  for (int l = 0; l < m.layers + m.mtp_depth; ++l) {
    std::optional<BlockWeights>& w = kinds[(is_moe_layer(m, l) ? 1U : 0U) + (is_mtp_layer(m, l) ? 2U : 0U)];
    if (!w) w = layer_weights(m, plan, l);
    out.push_back(*w);
  }
  BlockWeights head;
  head.dense = static_cast<double>(norm_weights(m, m.hidden));
  if (!m.tied_embeddings) head.dense += vocab_table(m, plan.tp);
  out.push_back(head);
  return out;
}

double table_copy_weights(const ModelSpec& m, const ParallelPlan& plan, const std::vector<int>& held) {
  const int last = plan.pp * plan.virtual_stages - 1;
  const bool holds_last = std::find(held.begin(), held.end(), last) != held.end();
  const bool holds_first = std::find(held.begin(), held.end(), 0) != held.end();
  const bool needs_table = m.tied_embeddings || m.mtp_depth > 0;
  return holds_last && needs_table && !holds_first ? vocab_table(m, plan.tp) : 0.0;
}

DataParallelDegrees data_parallel_degrees(const ParallelPlan& plan) {
  const double dense = static_cast<double>(plan.dp) * plan.cp;
  return {.dense = dense, .routed = dense / plan.ep};
}

}  // namespace tcsim::model
