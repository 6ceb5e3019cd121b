// Model presets: published architectures, one row each with its source.
// Scenarios name them (`model: deepseek-v3`) and may override any field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/spec.h"

namespace tcsim::model {

// The preset with this name or alias, or nullptr.
const ModelSpec* find_model_preset(std::string_view name);

// Canonical preset names, for help text and did-you-mean hints.
std::vector<std::string> model_preset_names();

}  // namespace tcsim::model
