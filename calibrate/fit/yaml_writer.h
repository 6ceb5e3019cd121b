// YAML text as the calibration profiles are written: keys, quoted values,
// list items and comments at two spaces a level, and the rate and time
// formats the profile loader reads back (six significant digits).
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/quoted.h"
#include "core/units.h"
#include "hardware/profile.h"

namespace tcsim::calibrate {

// Six significant digits: the loader parses these back within 5e-6.
inline std::string rate_text(FlopsPerSecond r) { return fmt::format("{:.6g} TFLOP/s", r.value() / 1e12); }
inline std::string rate_text(BytesPerSecond r) {
  return r.value() >= 1e12 ? fmt::format("{:.6g} TB/s", r.value() / 1e12) : fmt::format("{:.6g} GB/s", r.value() / 1e9);
}
inline std::string time_text(Seconds t) { return fmt::format("{:.6g} us", t.value() * 1e6); }
inline std::string percent(double x) { return fmt::format("{:.2f}%", 100 * x); }

class Yaml {
 public:
  void key(int depth, std::string_view k) { out_ += fmt::format("{:{}}{}:\n", "", 2 * depth, k); }
  void value(int depth, std::string_view k, std::string_view v) {
    out_ += fmt::format("{:{}}{}: {}\n", "", 2 * depth, k, v);
  }
  void text(int depth, std::string_view k, std::string_view v) { value(depth, k, json_quoted(v)); }
  void item(int depth, std::string_view v) { out_ += fmt::format("{:{}}- {}\n", "", 2 * depth, json_quoted(v)); }
  void comment(std::string_view line) { out_ += fmt::format("# {}\n", line); }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

template <class Q>
void write_rate(Yaml& y, int depth, std::string_view k, const hw::Sourced<Q>& r) {
  y.key(depth, k);
  y.text(depth + 1, "rate", rate_text(r.value));
  y.text(depth + 1, "overhead", time_text(r.overhead));
  y.text(depth + 1, "source", r.source);
}

// Everything of `p` the profile loader reads (name to attention, and the
// optional rates where present); the caller adds its `fit:` report.
void write_profile_rates(Yaml& y, const hw::CalibrationProfile& p);

}  // namespace tcsim::calibrate
