// Writing a fitted calibration profile: the YAML the scenario loader reads
// (docs/calibration.md), each rate with its source and fitted overhead, and a
// `fit:` map reporting every fit with its residuals, for people.
#pragma once

#include <string>
#include <string_view>

namespace tcsim::calibrate {

struct Calibration;

// The profile as YAML text. load_profile_text reads it back to the same rates
// (to the six significant digits written).
std::string profile_yaml(const Calibration& calibration);

}  // namespace tcsim::calibrate
