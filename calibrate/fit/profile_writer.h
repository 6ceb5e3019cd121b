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

// Writes `text` to `path` whole or not at all: a temporary file beside it,
// then a rename. Throws ConfigError when the file cannot be written.
void write_file_atomically(const std::string& path, std::string_view text);

}  // namespace tcsim::calibrate
