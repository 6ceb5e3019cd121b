// Mapping a Hugging Face config.json onto model::ModelSpec, family by family.
// Every decision where the config and tcsim's spec do not line up one to one
// is written beside the code that makes it, and in docs/scenarios.md ("A
// model from a Hugging Face config"). Keys a family's config carries that
// change no weight, FLOP or byte tcsim counts (token ids, norm epsilons,
// rope_theta, rope_scaling, dropout, initializer range, quantization of the
// released checkpoint) are not read.
#include "scenarios/hf_config.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include <fmt/format.h>

#include "core/text_file.h"
#include "scenarios/reader.h"

namespace tcsim::scenario {
namespace {

// A config.json is a few KiB (DeepSeek-V3's: 1.7 KiB); 1 MiB bounds a wrong path.
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

enum class Family { deepseek_v2, deepseek_v3, llama, mixtral, qwen2_moe };

struct FamilyRow {
  std::string_view model_type;
  std::string_view architecture;  // transformers' class name in `architectures`
  Family family;
};

constexpr std::array<FamilyRow, 5> kFamilies{{
    {"deepseek_v2", "DeepseekV2ForCausalLM", Family::deepseek_v2},
    {"deepseek_v3", "DeepseekV3ForCausalLM", Family::deepseek_v3},
    {"llama", "LlamaForCausalLM", Family::llama},
    {"mixtral", "MixtralForCausalLM", Family::mixtral},
    {"qwen2_moe", "Qwen2MoeForCausalLM", Family::qwen2_moe},
}};

std::string supported() {
  std::vector<std::string> names;
  for (const FamilyRow& f : kFamilies) names.push_back(fmt::format("{} ({})", f.model_type, f.architecture));
  return fmt::format("{}", fmt::join(names, ", "));
}

// The family by `model_type`; a config without one by its `architectures`.
const FamilyRow& family_of(const Node& config) {
  if (const Node* t = config.find("model_type"); t != nullptr && t->kind != Node::Kind::null) {
    if (t->kind == Node::Kind::scalar) {
      for (const FamilyRow& f : kFamilies) {
        if (f.model_type == t->scalar) return f;
      }
    }
    fail(*t, "model_type", fmt::format("unknown model_type {}; tcsim reads {}", shown(*t), supported()));
  }
  if (const Node* a = config.find("architectures"); a != nullptr && a->kind == Node::Kind::sequence) {
    for (const Node& item : a->items) {
      for (const FamilyRow& f : kFamilies) {
        if (item.kind == Node::Kind::scalar && f.architecture == item.scalar) return f;
      }
    }
    fail(*a, "architectures", fmt::format("no model_type, and no architecture tcsim reads; it reads {}", supported()));
  }
  fail(config, "model_type", fmt::format("missing, and no architectures either; tcsim reads {}", supported()));
}

// The model's published name as the file names it: DeepSeek-V3/config.json
// is "DeepSeek-V3", deepseek-v3.json is "deepseek-v3".
std::string name_of_file(const std::string& file) {
  const std::filesystem::path p(file);
  const std::string stem = p.stem().string();
  const std::string folder = p.parent_path().filename().string();
  return stem == "config" && !folder.empty() ? folder : stem;
}

class ConfigReader {
 public:
  ConfigReader(const Node& config, std::string_view model_type) : r_(config, ""), model_type_(model_type) {}

  // A field the family's config always names.
  int need(std::string_view key, int min = 1) {
    const Node* n = r_.node().find(key);
    if (n == nullptr || n->kind == Node::Kind::null) {
      fail(n != nullptr ? *n : r_.node(), std::string(key),
           fmt::format("missing; a {} config.json names it, and tcsim needs it", model_type_));
    }
    int v = 0;
    r_.integer(key, v, min, true);
    return v;
  }
  // A field with the value transformers' config class gives it when absent.
  int optional(std::string_view key, int absent, int min = 0) {
    int v = absent;
    r_.integer(key, v, min);
    return v;
  }
  bool flag(std::string_view key, bool absent) {
    bool v = absent;
    r_.flag(key, v);
    return v;
  }
  const Node* find(std::string_view key) const {
    const Node* n = r_.node().find(key);
    return n != nullptr && n->kind != Node::Kind::null ? n : nullptr;
  }
  const Node& at(std::string_view key) const { return r_.at(key); }
  MapReader& reader() { return r_; }

 private:
  MapReader r_;
  std::string_view model_type_;
};

// What all five families share: a pre-norm decoder with RMSNorm, rotary
// positions (no position weights: max_position_embeddings and rope_scaling
// change no count, so they are not read) and a gated SiLU FFN (SwiGLU).
void read_common(ConfigReader& c, model::ModelSpec& m) {
  m.layers = c.need("num_hidden_layers");
  m.hidden = c.need("hidden_size");
  m.vocab = c.need("vocab_size");
  // Absent: false, the default of every supported family's transformers
  // config class (LlamaConfig, MixtralConfig, Qwen2MoeConfig, DeepseekV2/V3Config).
  m.tied_embeddings = c.flag("tie_word_embeddings", false);
  m.norm = model::NormKind::rmsnorm;
  m.position = model::PositionKind::rope;
  m.ffn = model::FfnKind::swiglu;
  if (const Node* act = c.find("hidden_act"); act != nullptr && act->scalar != "silu") {
    fail(*act, "hidden_act",
         fmt::format("expected \"silu\": tcsim models this family's gated FFN as SwiGLU; got {}", shown(*act)));
  }
  // tcsim counts biases on every linear layer or on none (model.biases,
  // GPT-3's convention); a config with biases on some is not represented.
  for (std::string_view key : {"attention_bias", "mlp_bias"}) {
    if (c.flag(key, false)) {
      fail(c.at(key), std::string(key),
           "biases on only some linear layers are not represented; tcsim counts them on all or none "
           "(set model.biases in the scenario to count them on all)");
    }
  }
}

// Grouped-query attention (multi-head when every head has its own key and value).
void read_gqa(ConfigReader& c, model::ModelSpec& m) {
  model::AttentionSpec& a = m.attention;
  a.heads = c.need("num_attention_heads");
  // Absent: one key/value head per query head (LlamaConfig's default).
  a.kv_heads = c.optional("num_key_value_heads", a.heads, 1);
  if (a.heads % a.kv_heads != 0) {
    fail(c.at("num_key_value_heads"), "num_key_value_heads",
         fmt::format("expected a divisor of num_attention_heads ({}), got {}", a.heads, a.kv_heads));
  }
  // Absent: hidden_size / num_attention_heads (the transformers default).
  if (c.find("head_dim") != nullptr) {
    a.head_dim = c.need("head_dim");
  } else if (m.hidden % a.heads != 0) {
    fail(c.at("num_attention_heads"), "num_attention_heads",
         fmt::format("no head_dim, and hidden_size {} is not a multiple of {} heads", m.hidden, a.heads));
  } else {
    a.head_dim = m.hidden / a.heads;
  }
  a.kind = a.kv_heads == a.heads ? model::AttentionKind::mha : model::AttentionKind::gqa;
}

// Full causal attention is what tcsim counts; a window would cut the score FLOPs.
void refuse_sliding_window(ConfigReader& c, bool used) {
  if (used && c.find("sliding_window") != nullptr) {
    fail(c.at("sliding_window"), "sliding_window",
         "sliding-window attention is not represented: tcsim counts full causal attention");
  }
}

model::MoeSpec read_experts(ConfigReader& c, std::string_view routed_key, std::string_view width_key) {
  model::MoeSpec e;
  e.routed = c.need(routed_key);
  e.per_token = c.need("num_experts_per_tok");
  e.expert_intermediate = c.need(width_key);
  if (e.per_token > e.routed) {
    fail(c.at("num_experts_per_tok"), "num_experts_per_tok",
         fmt::format("expected at most the {} routed experts, got {}", e.routed, e.per_token));
  }
  return e;
}

// DeepSeek-V2 and V3 (modeling_deepseek.py): MLA attention; the first
// first_k_dense_replace layers dense (intermediate_size), every later one
// MoE; MTP modules; "activated" counted as DeepSeek's cards count it, with
// one embedding row per token (as the deepseek-v2/v3 presets).
void read_deepseek(ConfigReader& c, model::ModelSpec& m, bool v3) {
  model::AttentionSpec& a = m.attention;
  a.kind = model::AttentionKind::mla;
  a.heads = c.need("num_attention_heads");
  // null (DeepSeek-V2-Lite): queries projected directly, tcsim's 0.
  a.q_lora_rank = c.optional("q_lora_rank", 0);
  a.kv_lora_rank = c.need("kv_lora_rank");
  a.qk_nope_head_dim = c.need("qk_nope_head_dim");
  a.qk_rope_head_dim = c.need("qk_rope_head_dim");
  a.v_head_dim = c.need("v_head_dim");
  // num_key_value_heads is MLA's head count again (128 in both); not read.
  m.ffn_intermediate = c.need("intermediate_size");
  m.mtp_depth = c.optional("num_nextn_predict_layers", 0);
  m.active_counts_embedding = false;
  if (c.find("n_routed_experts") == nullptr) return;  // null: every layer dense
  if (c.optional("moe_layer_freq", 1, 1) != 1) {
    fail(c.at("moe_layer_freq"), "moe_layer_freq",
         "expected 1: tcsim models MoE on every layer after the first dense ones");
  }
  model::MoeSpec e = read_experts(c, "n_routed_experts", "moe_intermediate_size");
  e.shared = c.optional("n_shared_experts", 0);
  // Node-limited routing: V3 routes each token to at most topk_group of
  // n_group expert groups, and its groups are the training cluster's nodes
  // (V3-TR §2.1.2: 256 experts on 8 nodes, each token sent to at most M = 4
  // nodes; config: n_group 8, topk_group 4). V2's groups are devices, not
  // nodes (V2 §2.1.3, device-limited routing, M = 3), which tcsim does not
  // model: 0, unlimited, as the deepseek-v2 preset.
  const int groups = c.optional("n_group", 1, 1);
  const int topk_groups = c.optional("topk_group", groups, 1);
  if (v3 && groups > 1 && topk_groups < groups) e.max_nodes_per_token = topk_groups;
  m.moe = e;
  m.dense_layers = c.optional("first_k_dense_replace", 0);
  if (m.dense_layers > m.layers) {
    fail(c.at("first_k_dense_replace"), "first_k_dense_replace",
         fmt::format("expected at most num_hidden_layers ({}), got {}", m.layers, m.dense_layers));
  }
}

// Mixtral (modeling_mixtral.py): every layer MoE, intermediate_size is one
// expert's width, no shared expert.
void read_mixtral(ConfigReader& c, model::ModelSpec& m) {
  read_gqa(c, m);
  refuse_sliding_window(c, true);
  m.moe = read_experts(c, "num_local_experts", "intermediate_size");
}

// Qwen1.5-MoE and Qwen2-MoE (modeling_qwen2_moe.py). Layer i is sparse when
// it is not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0; tcsim
// represents dense layers only as a leading block, so mlp_only_layers must
// be 0..k-1 and decoder_sparse_step 1. Mapping decisions:
// - The shared expert is one SwiGLU FFN of shared_expert_intermediate_size;
//   it is counted as shared_expert_intermediate_size / moe_intermediate_size
//   shared experts of the routed width (the same weights and FLOPs:
//   Qwen2-57B-A14B 20480 = 8 x 2560, Qwen1.5-MoE-A2.7B 5632 = 4 x 1408). A
//   width that is not a whole multiple is refused.
// - Not counted: the shared expert's sigmoid gate (hidden_size weights a
//   layer, 100K in all for Qwen2-57B-A14B) and the q/k/v projection biases
//   (q_dim + 2 kv_dim a layer, 129K in all): tcsim's biases are all or none.
// - "Activated" counts the whole embedding table, tcsim's default (Qwen
//   publishes its figure rounded to the billion: 14B either way).
void read_qwen2_moe(ConfigReader& c, model::ModelSpec& m) {
  read_gqa(c, m);
  refuse_sliding_window(c, c.flag("use_sliding_window", false));
  model::MoeSpec e = read_experts(c, "num_experts", "moe_intermediate_size");
  const int shared_width = c.optional("shared_expert_intermediate_size", 0);
  if (shared_width % e.expert_intermediate != 0) {
    fail(c.at("shared_expert_intermediate_size"), "shared_expert_intermediate_size",
         fmt::format("expected a multiple of moe_intermediate_size ({}): tcsim counts the shared expert as "
                     "whole experts of the routed width; got {}",
                     e.expert_intermediate, shared_width));
  }
  e.shared = shared_width / e.expert_intermediate;
  m.moe = e;
  if (c.optional("decoder_sparse_step", 1, 1) != 1) {
    fail(c.at("decoder_sparse_step"), "decoder_sparse_step",
         "expected 1: tcsim represents dense layers only as the first ones (mlp_only_layers 0..k-1)");
  }
  std::vector<int> dense;
  c.reader().int_list("mlp_only_layers", dense, 0);
  for (std::size_t i = 0; i < dense.size(); ++i) {
    if (dense[i] != static_cast<int>(i) || dense[i] >= m.layers) {
      fail(c.at("mlp_only_layers"), "mlp_only_layers",
           fmt::format("expected the first layers in order (0, 1, ..., k-1): tcsim represents dense layers "
                       "only as a leading block; got {} at [{}]",
                       dense[i], i));
    }
  }
  m.dense_layers = static_cast<int>(dense.size());
  if (m.dense_layers > 0) m.ffn_intermediate = c.need("intermediate_size");
}

}  // namespace

std::vector<std::string> hf_model_types() {
  std::vector<std::string> types;
  for (const FamilyRow& f : kFamilies) types.emplace_back(f.model_type);
  return types;
}

model::ModelSpec hf_model_spec(const Node& config, const std::string& file) {
  if (config.kind != Node::Kind::map) {
    fail(config, "", fmt::format("expected a JSON object (a config.json), got {}", shown(config)));
  }
  const FamilyRow& family = family_of(config);
  ConfigReader c(config, family.model_type);
  model::ModelSpec m;
  m.name = name_of_file(file);
  m.source = fmt::format("Hugging Face config {} (model_type {})", file, family.model_type);
  read_common(c, m);
  switch (family.family) {
    case Family::deepseek_v2: read_deepseek(c, m, false); break;
    case Family::deepseek_v3: read_deepseek(c, m, true); break;
    case Family::llama:
      read_gqa(c, m);
      refuse_sliding_window(c, true);
      m.ffn_intermediate = c.need("intermediate_size");
      break;
    case Family::mixtral: read_mixtral(c, m); break;
    case Family::qwen2_moe: read_qwen2_moe(c, m); break;
  }
  // Per-layer loops and tables: the loader's own cap on model.layers.
  if (m.layers > 100'000) {
    fail(c.at("num_hidden_layers"), "num_hidden_layers", fmt::format("expected at most 100000, got {}", m.layers));
  }
  return m;
}

model::ModelSpec hf_config_from_text(std::string_view text, const std::string& file) {
  // JSON is YAML, but not every YAML is JSON: a config.json is one object.
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') {
    SourceLoc at{file, 1, 1};
    for (std::size_t i = 0; i < std::min(first, text.size()); ++i) {
      at.column = text[i] == '\n' ? 1 : at.column + 1;
      at.line += text[i] == '\n' ? 1 : 0;
    }
    throw ConfigError(at, "", "expected a JSON object starting with '{' (a Hugging Face config.json)");
  }
  return hf_model_spec(read_yaml(text, file), file);
}

model::ModelSpec load_hf_config(const std::string& path) {
  return hf_config_from_text(read_text_file(path, kMaxConfigBytes, "the Hugging Face config"), path);
}

}  // namespace tcsim::scenario
