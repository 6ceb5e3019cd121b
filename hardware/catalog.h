// GPU presets: spec-sheet figures, one row each with its source. Scenarios
// name them (`gpu: h800`) and may override any field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hardware/spec.h"

namespace tcsim::hw {

// The preset with this name or alias ("h100", "h100-sxm"), or nullptr.
const GpuSpec* find_gpu_preset(std::string_view name);

// Canonical preset names, for help text and did-you-mean hints.
std::vector<std::string> gpu_preset_names();

}  // namespace tcsim::hw
