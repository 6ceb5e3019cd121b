// Parameter accounting: how many weights a model has, where they sit, and how
// many one token activates.
#pragma once

#include <cstdint>

#include "model/spec.h"

namespace tcsim::model {

// Counts of weights (elements, not bytes). The main model is what papers
// quote as "total" and "activated" (DeepSeek-V3: 671B / 37B); MTP modules are
// itemised separately and are not in total or active.
struct ParamCounts {
  std::int64_t embedding = 0;  // token embedding (+ learned position table)
  std::int64_t head = 0;       // output projection (0 when tied to the embedding)
  std::int64_t attention = 0;  // attention projections of all layers (incl. their norms inside MLA)
  std::int64_t dense_ffn = 0;  // dense FFNs (dense models, and MoE models' first dense layers)
  std::int64_t routed_experts = 0;
  std::int64_t shared_experts = 0;
  std::int64_t router = 0;  // gating weights
  std::int64_t norms = 0;   // layer norms, final norm, and biases where the model has them
  std::int64_t mtp = 0;     // MTP modules' own weights (embedding and head shared, not counted)
  std::int64_t total = 0;   // main model: every weight above except mtp
  // Main model weights one token uses: top-k routed + shared + everything
  // else, embedding table and head counted whole (the convention of Mixtral's
  // 12.9B; docs/model.md compares DeepSeek's published figures).
  std::int64_t active = 0;
  std::int64_t mtp_active = 0;  // MTP modules' weights one token uses
};

ParamCounts count_params(const ModelSpec& m);

// Weights of one transformer layer, split the way parallelism shards them.
struct LayerParams {
  std::int64_t dense = 0;  // everything replicated across EP: attention, norms, dense FFN, shared experts, router
  std::int64_t routed_experts = 0;  // all routed experts of the layer (sharded by EP)
};

// layer: 0-based index in the main model; layer == m.layers means an MTP module.
LayerParams layer_params(const ModelSpec& m, int layer);

}  // namespace tcsim::model
