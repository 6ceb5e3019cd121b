#include "model/catalog.h"

#include <array>

namespace tcsim::model {
namespace {

struct Row {
  std::string_view key;
  std::string_view alias;
  ModelSpec spec;
};

// clang-format off
const std::vector<Row>& rows() {
  static const std::vector<Row> table{
      // DeepSeek-V3 Technical Report, arXiv:2412.19437 §4.2; inference/configs/config_671B.json
      {"deepseek-v3", "dsv3",
       {.name = "deepseek-v3",
        .source = "DeepSeek-V3 Technical Report (arXiv:2412.19437) §4.2; config_671B.json",
        .layers = 61, .hidden = 7168, .vocab = 129280,
        .attention = {.kind = AttentionKind::mla, .heads = 128, .q_lora_rank = 1536, .kv_lora_rank = 512,
                      .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128},
        .ffn = FfnKind::swiglu, .ffn_intermediate = 18432,
        .moe = MoeSpec{.routed = 256, .shared = 1, .per_token = 8, .expert_intermediate = 2048,
                       .max_nodes_per_token = 4},
        .dense_layers = 3, .mtp_depth = 1,
        // The model card's 36.7B activated matches the count with one embedding row per token.
        .active_counts_embedding = false}},
      // DeepSeek-V2 paper, arXiv:2405.04434 §3.1.1 and App. B; DeepSeek-V2 config.json.
      // V2 limits routing to 3 devices, not nodes: max_nodes_per_token stays 0 (unlimited).
      {"deepseek-v2", "dsv2",
       {.name = "deepseek-v2",
        .source = "DeepSeek-V2 paper (arXiv:2405.04434) §3.1.1; DeepSeek-V2 config.json",
        .layers = 60, .hidden = 5120, .vocab = 102400,
        .attention = {.kind = AttentionKind::mla, .heads = 128, .q_lora_rank = 1536, .kv_lora_rank = 512,
                      .qk_nope_head_dim = 128, .qk_rope_head_dim = 64, .v_head_dim = 128},
        .ffn = FfnKind::swiglu, .ffn_intermediate = 12288,
        .moe = MoeSpec{.routed = 160, .shared = 2, .per_token = 6, .expert_intermediate = 1536},
        .dense_layers = 1,
        // Counted as DeepSeek-V3's card counts it (one embedding row per token).
        .active_counts_embedding = false}},
      // DeepSeek LLM paper, arXiv:2401.02954 Table 2 (67B: 95 layers, d 8192, 64 heads, 8 KV heads).
      {"deepseek-67b", "deepseek-llm-67b",
       {.name = "deepseek-67b",
        .source = "DeepSeek LLM paper (arXiv:2401.02954) Table 2; deepseek-llm-67b-base config.json",
        .layers = 95, .hidden = 8192, .vocab = 102400,
        .attention = {.kind = AttentionKind::gqa, .heads = 64, .kv_heads = 8, .head_dim = 128},
        .ffn = FfnKind::swiglu, .ffn_intermediate = 22016}},
      // The Llama 3 Herd of Models, arXiv:2407.21783 Table 3 (405B: 126 layers, d 16384, FFN 53248, 128/8 heads).
      {"llama-3.1-405b", "llama3-405b",
       {.name = "llama-3.1-405b",
        .source = "Llama 3 Herd of Models (arXiv:2407.21783) Table 3",
        .layers = 126, .hidden = 16384, .vocab = 128256,
        .attention = {.kind = AttentionKind::gqa, .heads = 128, .kv_heads = 8, .head_dim = 128},
        .ffn = FfnKind::swiglu, .ffn_intermediate = 53248}},
      // Language Models are Few-Shot Learners, arXiv:2005.14165 Table 2.1 (96 layers, d 12288, 96 heads of 128,
      // context 2048, learned positions, tied embeddings, biases, LayerNorm, FFN 4d GELU; GPT-2 BPE of 50257).
      {"gpt-3-175b", "gpt3",
       {.name = "gpt-3-175b",
        .source = "GPT-3 paper (arXiv:2005.14165) Table 2.1 and §2.1",
        .layers = 96, .hidden = 12288, .vocab = 50257,
        .attention = {.kind = AttentionKind::mha, .heads = 96, .kv_heads = 96, .head_dim = 128},
        .ffn = FfnKind::gelu, .ffn_intermediate = 49152,
        .norm = NormKind::layernorm, .position = PositionKind::learned, .max_position = 2048,
        .biases = true, .tied_embeddings = true}},
      // Mixtral of Experts, arXiv:2401.04088 Table 1 (32 layers, d 4096, 32/8 heads, 8 experts top-2, FFN 14336).
      {"mixtral-8x7b", "mixtral",
       {.name = "mixtral-8x7b",
        .source = "Mixtral of Experts (arXiv:2401.04088) Table 1",
        .layers = 32, .hidden = 4096, .vocab = 32000,
        .attention = {.kind = AttentionKind::gqa, .heads = 32, .kv_heads = 8, .head_dim = 128},
        .ffn = FfnKind::swiglu,
        .moe = MoeSpec{.routed = 8, .shared = 0, .per_token = 2, .expert_intermediate = 14336}}},
  };
  return table;
}
// clang-format on

}  // namespace

const ModelSpec* find_model_preset(std::string_view name) {
  for (const Row& r : rows()) {
    if (r.key == name || r.alias == name) return &r.spec;
  }
  return nullptr;
}

std::vector<std::string> model_preset_names() {
  std::vector<std::string> names;
  for (const Row& r : rows()) names.emplace_back(r.key);
  return names;
}

}  // namespace tcsim::model
