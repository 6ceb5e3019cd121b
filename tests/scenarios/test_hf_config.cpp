// Models from Hugging Face config.json files (scenarios/hf_config.h): the
// published configs in tests/data/hf (SOURCES.md says where each came from)
// give the published parameter counts, match the presets built from the
// papers, and bad files are refused with the JSON file's line and column.
// Published figures are rounded; each check states the figure, where it is
// printed, and the interval its rounding allows.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "model/catalog.h"
#include "model/params.h"
#include "scenarios/hf_config.h"
#include "scenarios/loader.h"

using namespace tcsim;
using namespace tcsim::scenario;
namespace fs = std::filesystem;

namespace {

std::string data(const std::string& name) { return std::string(TCSIM_HF_DATA_DIR) + "/" + name; }

model::ModelSpec load(const std::string& name) { return load_hf_config(data(name)); }

double rel_err(std::int64_t got, double want) { return std::fabs(static_cast<double>(got) - want) / want; }

// `imported` with the preset's name and source: the two differ only there
// when the config describes the preset's architecture.
model::ModelSpec named_as(model::ModelSpec imported, const char* preset) {
  const model::ModelSpec* p = model::find_model_preset(preset);
  REQUIRE(p != nullptr);
  imported.name = p->name;
  imported.source = p->source;
  return imported;
}

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("tcsim-hf-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

// The message of the ConfigError loading `text` as a config.json raises ("" if none).
std::string error_of(const std::string& text) {
  try {
    hf_config_from_text(text, "cfg.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string without_line(std::string text, const std::string& key) {
  const auto at = text.find("\"" + key + "\"");
  REQUIRE(at != std::string::npos);
  const auto start = text.rfind('\n', at);
  const auto end = text.find('\n', at);
  return text.erase(start, end - start);
}

// The rest of test_loader.cpp's small valid scenario: 64 H100, TP1 PP4 EP8 DP16.
constexpr const char* kTraining = R"(parallelism: {tp: 1, pp: 4, ep: 8, dp: 16}
hardware: {gpu: h100, gpus_per_node: 8, nodes: 8}
training:
  seq_len: 4096
  phases:
    - {name: main, tokens: "1T", batch: 1024}
)";

}  // namespace

TEST_CASE("DeepSeek-V3's config.json gives 671B weights, 37B activated and a 14B MTP module") {
  const model::ParamCounts c = model::count_params(load("deepseek-v3.json"));
  // V3-TR §4.2: "671B total parameters"
  CHECK(rel_err(c.total, 671e9) <= 0.005);
  // V3-TR §4.2: "37B activated", rounded to the billion: [36.5B, 37.5B); model card: 36.7B.
  CHECK(c.active >= 36.5e9);
  CHECK(c.active < 37.5e9);
  CHECK(rel_err(c.active, 36.7e9) <= 0.005);
  // Model card: 685B on Hugging Face = 671B main model + 14B MTP module weights. The MTP module's
  // checkpoint (model.layers.61) stores its own copies of the embedding and head, so 14B counts them:
  // c.mtp + embedding + head. Both totals are rounded to the billion: 685 - 671 lies in (13B, 15B).
  const std::int64_t mtp_stored = c.mtp + c.embedding + c.head;
  MESSAGE("DeepSeek-V3 MTP weights as stored: ", mtp_stored);
  CHECK(mtp_stored > 13e9);
  CHECK(mtp_stored < 15e9);
}

TEST_CASE("DeepSeek-V3's config.json is the deepseek-v3 preset, field by field") {
  const model::ModelSpec hf = load("deepseek-v3.json");
  const model::ModelSpec& preset = *model::find_model_preset("deepseek-v3");
  CHECK(hf.layers == preset.layers);
  CHECK(hf.hidden == preset.hidden);
  CHECK(hf.vocab == preset.vocab);
  CHECK(hf.attention == preset.attention);
  CHECK(hf.ffn == preset.ffn);
  CHECK(hf.ffn_intermediate == preset.ffn_intermediate);
  REQUIRE(hf.moe.has_value());
  CHECK(hf.moe->routed == preset.moe->routed);
  CHECK(hf.moe->shared == preset.moe->shared);
  CHECK(hf.moe->per_token == preset.moe->per_token);
  CHECK(hf.moe->expert_intermediate == preset.moe->expert_intermediate);
  // topk_group 4 of n_group 8: V3-TR §2.1.2's "at most M = 4 nodes".
  CHECK(hf.moe->max_nodes_per_token == preset.moe->max_nodes_per_token);
  CHECK(hf.dense_layers == preset.dense_layers);
  CHECK(hf.tied_embeddings == preset.tied_embeddings);
  CHECK(hf.mtp_depth == preset.mtp_depth);
  CHECK(hf.active_counts_embedding == preset.active_counts_embedding);
  // Everything else (norm, position, biases, ...) too: the whole spec but its name and source.
  CHECK(named_as(hf, "deepseek-v3") == preset);
  CHECK(hf.name == "deepseek-v3");
}

TEST_CASE("DeepSeek-V2's config.json gives 236B weights and 21B activated (arXiv:2405.04434 abstract)") {
  const model::ModelSpec hf = load("deepseek-v2.json");
  const model::ParamCounts c = model::count_params(hf);
  // abstract: "236B total parameters, of which 21B are activated for each token"
  CHECK(rel_err(c.total, 236e9) <= 0.005);
  // 21B rounded to the billion: [20.5B, 21.5B)
  CHECK(c.active >= 20.5e9);
  CHECK(c.active < 21.5e9);
  // The preset was written from the paper; the config agrees on every field.
  CHECK(named_as(hf, "deepseek-v2") == *model::find_model_preset("deepseek-v2"));
}

TEST_CASE("Llama 3.1 405B's config.json gives 405B weights (arXiv:2407.21783 Table 3)") {
  const model::ModelSpec hf = load("llama-3.1-405b.json");
  // Llama 3 Herd of Models, Table 3: 405B
  CHECK(rel_err(model::count_params(hf).total, 405e9) <= 0.005);
  CHECK(hf.attention.kind == model::AttentionKind::gqa);
  CHECK(named_as(hf, "llama-3.1-405b") == *model::find_model_preset("llama-3.1-405b"));
}

TEST_CASE("Mixtral 8x7B's config.json gives 46.7B weights and 12.9B active (Mistral AI, Mixtral of Experts)") {
  const model::ModelSpec hf = load("mixtral-8x7b.json");
  const model::ParamCounts c = model::count_params(hf);
  // Mistral AI's announcement: "46.7B total parameters but only uses 12.9B parameters per token"
  CHECK(rel_err(c.total, 46.7e9) <= 0.005);
  CHECK(rel_err(c.active, 12.9e9) <= 0.005);
  CHECK(named_as(hf, "mixtral-8x7b") == *model::find_model_preset("mixtral-8x7b"));
}

TEST_CASE("Qwen2-57B-A14B's config.json gives 57B weights and 14B activated (its model card)") {
  const model::ModelSpec hf = load("qwen2-57b-a14b.json");
  // shared_expert_intermediate_size 20480 = 8 experts of moe_intermediate_size 2560
  REQUIRE(hf.moe.has_value());
  CHECK(hf.moe->shared == 8);
  CHECK(hf.moe->routed == 64);
  CHECK(hf.moe->per_token == 8);
  CHECK(hf.dense_layers == 0);
  const model::ParamCounts c = model::count_params(hf);
  // The model card (huggingface.co/Qwen/Qwen2-57B-A14B): "the 57B-A14B Mixture-of-Experts Qwen2 base language
  // model", 57B in all and 14B activated, each rounded to the billion: [56.5B, 57.5B) and [13.5B, 14.5B).
  CHECK(c.total >= 56.5e9);
  CHECK(c.total < 57.5e9);
  CHECK(c.active >= 13.5e9);
  CHECK(c.active < 14.5e9);
}

TEST_CASE("a scenario names a config.json relative to itself, with field overrides beside it") {
  TempDir dir;
  dir.write("models/mixtral.json", read(data("mixtral-8x7b.json")));
  const std::string base =
      dir.write("runs/base.yaml", std::string("model: {hf_config: ../models/mixtral.json}\n") + kTraining);
  CHECK(load_scenario(base).model.moe->per_token == 2);
  // Overrides act on the imported spec exactly as on a preset.
  const std::string over = dir.write("runs/over.yaml", std::string("model:\n  hf_config: ../models/mixtral.json\n"
                                                                   "  name: mixtral-top1\n  layers: 16\n"
                                                                   "  moe: {per_token: 1}\n") +
                                                           kTraining);
  const model::ModelSpec m = load_scenario(over).model;
  CHECK(m.name == "mixtral-top1");
  CHECK(m.layers == 16);
  CHECK(m.moe->per_token == 1);
  CHECK(m.moe->routed == 8);  // kept from the config
  // The resolved scenario names the config by an absolute path, so it loads from anywhere.
  CHECK(resolved_yaml(base).find((dir.path / "models" / "mixtral.json").string()) != std::string::npos);
}

TEST_CASE("a preset and an hf_config together are refused") {
  TempDir dir;
  dir.write("m.json", read(data("mixtral-8x7b.json")));
  const std::string s =
      dir.write("s.yaml", std::string("model: {preset: mixtral-8x7b, hf_config: m.json}\n") + kTraining);
  CHECK_THROWS_WITH_AS(load_scenario(s), doctest::Contains("model.hf_config: give a preset or an hf_config"),
                       ConfigError);
}

TEST_CASE("a bad config.json is a ConfigError at the JSON file's line and column, through the scenario too") {
  const std::string v3 = read(data("deepseek-v3.json"));
  SUBCASE("a missing field names the key") {
    // The map starts at 1:1, where a missing key is reported.
    CHECK(error_of(without_line(v3, "num_hidden_layers")).starts_with("cfg.json:1:1: num_hidden_layers: missing"));
    CHECK(error_of(without_line(v3, "kv_lora_rank")).starts_with("cfg.json:1:1: kv_lora_rank: missing"));
  }
  SUBCASE("an unknown model_type names the supported ones") {
    const std::string e = error_of("{\n  \"model_type\": \"gpt2\",\n  \"n_layer\": 12\n}\n");
    CHECK(e.starts_with("cfg.json:2:17: model_type: unknown model_type \"gpt2\"; tcsim reads deepseek_v2"));
    CHECK(e.find("qwen2_moe (Qwen2MoeForCausalLM)") != std::string::npos);
  }
  SUBCASE("without model_type, architectures identify the family") {
    std::string text = without_line(read(data("llama-3.1-405b.json")), "model_type");
    CHECK(hf_config_from_text(text, "cfg.json").layers == 126);
  }
  SUBCASE("text that is not JSON") {
    CHECK(error_of("model_type: llama\n").starts_with("cfg.json:1:1: expected a JSON object"));
    CHECK(error_of("\n\n  [1, 2]").starts_with("cfg.json:3:3: expected a JSON object"));
    // Malformed JSON: the parser's own line and column.
    CHECK(error_of("{\"model_type\": \"llama\",\n \"hidden_size\": [1, 2}\n").starts_with("cfg.json:2:"));
  }
  SUBCASE("a field of the wrong kind") {
    const std::string e =
        error_of("{\"model_type\": \"llama\", \"num_hidden_layers\": 2.5, \"hidden_size\": 8, \"vocab_size\": 16}");
    CHECK(e.starts_with("cfg.json:1:46: num_hidden_layers: expected a positive whole number, got \"2.5\""));
  }
  SUBCASE("an architecture tcsim does not represent is refused, not approximated") {
    std::string gelu = v3;
    gelu.replace(gelu.find("\"silu\""), 6, "\"gelu\"");
    CHECK(error_of(gelu).find("hidden_act: expected \"silu\"") != std::string::npos);
    const std::string qwen = read(data("qwen2-57b-a14b.json"));
    std::string odd_shared = qwen;
    odd_shared.replace(odd_shared.find("20480"), 5, "20000");
    CHECK(error_of(odd_shared).find("shared_expert_intermediate_size: expected a multiple of") != std::string::npos);
    std::string every_other = qwen;
    every_other.replace(every_other.find("\"decoder_sparse_step\": 1"), 24, "\"decoder_sparse_step\": 2");
    CHECK(error_of(every_other).find("decoder_sparse_step: expected 1") != std::string::npos);
  }
  SUBCASE("through a scenario, the error names the scenario key, then the JSON file's place") {
    TempDir dir;
    const std::string cfg = dir.write("bad.json", "{\n  \"model_type\": \"gpt2\"\n}\n");
    const std::string s = dir.write("s.yaml", std::string("model: {hf_config: bad.json}\n") + kTraining);
    const std::string expected = s + ":1:20: model.hf_config: bad Hugging Face config: " + cfg + ":2:17: model_type";
    CHECK_THROWS_WITH_AS(load_scenario(s), doctest::Contains(expected.c_str()), ConfigError);
  }
  SUBCASE("a missing file and a FIFO are refused without reading") {
    TempDir dir;
    CHECK_THROWS_AS(load_hf_config((dir.path / "none.json").string()), ConfigError);
    const std::string fifo = (dir.path / "fifo.json").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(load_hf_config(fifo), doctest::Contains("cannot read the Hugging Face config"), ConfigError);
    const std::string s = dir.write("s.yaml", std::string("model: {hf_config: fifo.json}\n") + kTraining);
    CHECK_THROWS_WITH_AS(load_scenario(s), doctest::Contains("s.yaml:1:20: model.hf_config: bad Hugging Face config"),
                         ConfigError);
  }
}
