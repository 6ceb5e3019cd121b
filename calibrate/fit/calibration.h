// From raw samples to a calibration profile: fit every rate (fit.h), map the
// samples' GPU to a preset, and say where each number came from. A rate the
// samples do not cover is taken from the public profile of the same GPU and
// says so; with no such profile it is an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calibrate/fit/fit.h"
#include "hardware/profile.h"

namespace tcsim::calibrate {

struct CalibrateOptions {
  std::string gpu;      // the GPU preset the profile describes; empty: the preset of the samples' GPU
  std::string name;     // the profile's name; empty: "measured-" and the preset
  std::string samples;  // the samples as the profile names them: a path relative to the profile
};

struct Calibration {
  hw::CalibrationProfile profile;  // ready to write (profile.file is left empty)
  Fits fits;
  std::string measured_on;  // the preset the samples' GPU maps to; empty when none does
  // The built-in profile of the same GPU preset (public ceilings), when there is one.
  std::optional<hw::CalibrationProfile> reference;
  std::vector<std::string> notes;  // rates not measured, one GPU standing for another, the fits' own notes
};

// The GPU preset a device name maps to ("NVIDIA H100 80GB HBM3" -> "h100",
// "NVIDIA H800" -> "h800", "NVIDIA A100-SXM4-80GB" -> "a100"); empty when
// none does.
std::string gpu_preset_of(std::string_view device_name);

// Throws ConfigError when the samples cannot describe the GPU: an unknown
// preset, an SM count other than the preset's, samples of another GPU that
// is not the same die with the same memory (an H100 may stand for an H800:
// V3-TR §3.5.1), or a rate neither measured nor in a public profile.
Calibration calibrate(const SampleSet& samples, const CalibrateOptions& options);

}  // namespace tcsim::calibrate
