#include "core/units.h"

#include <array>
#include <cmath>
#include <string_view>

namespace tcsim {
namespace {

struct Scale {
  double factor;
  std::string_view prefix;
};

// Picks the largest prefix whose factor does not exceed |v| and prints three
// significant digits, the way spec sheets write numbers.
template <std::size_t N>
std::string scaled(double v, const std::array<Scale, N>& scales, std::string_view unit) {
  const Scale* pick = &scales.front();
  for (const Scale& s : scales) {
    if (std::fabs(v) >= s.factor) pick = &s;
  }
  const double x = v / pick->factor;
  return fmt::format("{} {}{}", fmt::format("{:.4g}", x), pick->prefix, unit);
}

// SI prefixes (k for kilo), and the byte family's customary capital K (KB/s).
constexpr std::array<Scale, 6> kSi{{{1.0, ""}, {1e3, "k"}, {1e6, "M"}, {1e9, "G"}, {1e12, "T"}, {1e15, "P"}}};
constexpr std::array<Scale, 6> kDecimal{{{1.0, ""}, {1e3, "K"}, {1e6, "M"}, {1e9, "G"}, {1e12, "T"}, {1e15, "P"}}};
constexpr std::array<Scale, 7> kDecimalE{
    {{1.0, ""}, {1e3, "K"}, {1e6, "M"}, {1e9, "G"}, {1e12, "T"}, {1e15, "P"}, {1e18, "E"}}};
constexpr std::array<Scale, 6> kBinary{{{1.0, ""},
                                        {1024.0, "Ki"},
                                        {1024.0 * 1024.0, "Mi"},
                                        {1024.0 * 1024.0 * 1024.0, "Gi"},
                                        {1024.0 * 1024.0 * 1024.0 * 1024.0, "Ti"},
                                        {1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0, "Pi"}}};

}  // namespace

std::string to_string(Bytes v) { return scaled(v.value(), kBinary, "B"); }
std::string to_string(Flops v) { return scaled(v.value(), kDecimalE, "FLOP"); }
std::string to_string(BytesPerSecond v) { return scaled(v.value(), kDecimal, "B/s"); }
std::string to_string(FlopsPerSecond v) { return scaled(v.value(), kDecimalE, "FLOP/s"); }
std::string to_string(Watts v) { return scaled(v.value(), kSi, "W"); }
std::string to_string(Joules v) { return scaled(v.value(), kSi, "J"); }

std::string to_string(Seconds v) {
  const double s = v.value();
  const double a = std::fabs(s);
  if (a == 0.0) return "0 s";
  if (a < 1e-6) return fmt::format("{:.4g} ns", s * 1e9);
  if (a < 1e-3) return fmt::format("{:.4g} us", s * 1e6);
  if (a < 1.0) return fmt::format("{:.4g} ms", s * 1e3);
  if (a < 3600.0) return fmt::format("{:.4g} s", s);
  if (a < 86400.0) return fmt::format("{:.4g} h", s / 3600.0);
  return fmt::format("{:.4g} days", s / 86400.0);
}

std::string to_count_string(double count) {
  constexpr std::array<Scale, 5> kCount{{{1.0, ""}, {1e3, "K"}, {1e6, "M"}, {1e9, "B"}, {1e12, "T"}}};
  const Scale* pick = &kCount.front();
  for (const Scale& s : kCount) {
    if (std::fabs(count) >= s.factor) pick = &s;
  }
  return fmt::format("{:.4g}{}", count / pick->factor, pick->prefix);
}

std::string to_string(Dollars v) { return "$" + to_count_string(v.value()); }
std::string to_string(GpuHours v) { return to_count_string(v.value()) + " GPU-h"; }
std::string to_string(DollarsPerGpuHour v) { return fmt::format("${:.4g}/GPU-h", v.value()); }
std::string to_string(DollarsPerKwh v) { return fmt::format("${:.4g}/kWh", v.value()); }

}  // namespace tcsim
