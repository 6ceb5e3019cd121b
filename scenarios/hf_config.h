// A model's architecture from a Hugging Face `config.json`: the scenario key
// `model: {hf_config: PATH}` reads one. JSON is YAML, so the file goes
// through the scenario reader (read_yaml) and every error names the JSON
// file's line and column. The families read and every mapping decision are in
// docs/scenarios.md, "A model from a Hugging Face config".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/spec.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {

// The `model_type` values read: deepseek_v2, deepseek_v3, llama, mixtral,
// qwen2_moe.
std::vector<std::string> hf_model_types();

// The ModelSpec a parsed config.json describes. `file` names it in messages
// and in ModelSpec::source; the model's name is the file's stem (its folder's
// name for a file called config.json). Throws ConfigError at the offending
// value (file:line:column: key: ...) for a model_type it does not read (naming
// those it does), a missing or malformed field, or an architecture tcsim does
// not represent (a non-SwiGLU activation, biases, MoE layers that are not all
// the layers after the first dense ones).
model::ModelSpec hf_model_spec(const Node& config, const std::string& file);

// Reads `path`: a regular file of at most 1 MiB holding one JSON object.
// Throws ConfigError for a file it cannot read (missing, a FIFO, too large),
// text that is not a JSON object, and everything hf_model_spec refuses.
model::ModelSpec load_hf_config(const std::string& path);

// The same from text already read; `file` names it.
model::ModelSpec hf_config_from_text(std::string_view text, const std::string& file);

}  // namespace tcsim::scenario
