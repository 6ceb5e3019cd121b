#include "scenarios/quantity.h"
#include "core/text.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <span>

#include <fmt/format.h>

namespace tcsim::scenario {
namespace {

struct Unit {
  std::string_view name;
  double factor;  // to SI base units
};

// Unit spellings. Case matters where it carries meaning (b = bit, B = byte).
constexpr std::array<Unit, 11> kBytes{{{"B", 1.0},
                                       {"KB", 1e3},
                                       {"MB", 1e6},
                                       {"GB", 1e9},
                                       {"TB", 1e12},
                                       {"PB", 1e15},
                                       {"KiB", 1024.0},
                                       {"MiB", 1048576.0},
                                       {"GiB", 1073741824.0},
                                       {"TiB", 1099511627776.0},
                                       {"PiB", 1125899906842624.0}}};
constexpr std::array<Unit, 16> kBandwidth{{{"B/s", 1.0},
                                           {"KB/s", 1e3},
                                           {"MB/s", 1e6},
                                           {"GB/s", 1e9},
                                           {"TB/s", 1e12},
                                           {"GiB/s", 1073741824.0},
                                           {"TiB/s", 1099511627776.0},
                                           {"b/s", 1.0 / 8},
                                           {"Kb/s", 1e3 / 8},
                                           {"Mb/s", 1e6 / 8},
                                           {"Gb/s", 1e9 / 8},
                                           {"Tb/s", 1e12 / 8},
                                           {"bps", 1.0 / 8},
                                           {"Mbps", 1e6 / 8},
                                           {"Gbps", 1e9 / 8},
                                           {"Tbps", 1e12 / 8}}};
constexpr std::array<Unit, 6> kFlops{
    {{"FLOP", 1.0}, {"GFLOP", 1e9}, {"TFLOP", 1e12}, {"PFLOP", 1e15}, {"EFLOP", 1e18}, {"ZFLOP", 1e21}}};
constexpr std::array<Unit, 8> kFlopsRate{{{"FLOP/s", 1.0},
                                          {"GFLOP/s", 1e9},
                                          {"TFLOP/s", 1e12},
                                          {"PFLOP/s", 1e15},
                                          {"GFLOPS", 1e9},
                                          {"TFLOPS", 1e12},
                                          {"PFLOPS", 1e15},
                                          {"EFLOP/s", 1e18}}};
// Calendar units by definition: 1 h = 3600 s, 1 d = 24 h, 1 y = 365 d.
constexpr std::array<Unit, 17> kDuration{{{"ns", 1e-9},
                                          {"us", 1e-6},
                                          {"\u00b5s", 1e-6},
                                          {"ms", 1e-3},
                                          {"s", 1.0},
                                          {"sec", 1.0},
                                          {"min", 60.0},
                                          {"h", 3600.0},
                                          {"hour", 3600.0},
                                          {"hours", 3600.0},
                                          {"d", 86400.0},
                                          {"day", 86400.0},
                                          {"days", 86400.0},
                                          {"week", 604800.0},
                                          {"weeks", 604800.0},
                                          {"year", 31536000.0},
                                          {"years", 31536000.0}}};
constexpr std::array<Unit, 4> kPower{{{"W", 1.0}, {"kW", 1e3}, {"MW", 1e6}, {"GW", 1e9}}};
constexpr std::array<Unit, 3> kGpuHours{{{"GPU-h", 1.0}, {"GPU-hour", 1.0}, {"GPU-hours", 1.0}}};
constexpr std::array<Unit, 3> kPerGpuHour{{{"/GPU-h", 1.0}, {"/GPU-hour", 1.0}, {"/GPU-hours", 1.0}}};
constexpr std::array<Unit, 1> kPerKwh{{{"/kWh", 1.0}}};
constexpr std::array<Unit, 1> kNone{{{"", 1.0}}};

// Count multipliers: thousand, million, billion, trillion (short scale).
std::optional<double> count_multiplier(char c) {
  switch (c) {
    case 'k':
    case 'K': return 1e3;
    case 'M': return 1e6;
    case 'B': return 1e9;
    case 'T': return 1e12;
    default: return std::nullopt;
  }
}

struct Spec {
  std::span<const Unit> units;
  bool dollar_prefix;  // written "$2..."
  bool count_suffix;   // "14.8T", "$5.6M", "2664K GPU-h"
  bool unit_required;  // a bare number is rejected (the unit carries meaning)
};

Spec spec_of(QuantityKind kind) {
  switch (kind) {
    case QuantityKind::count: return {kNone, false, true, false};
    case QuantityKind::bytes: return {kBytes, false, false, true};
    case QuantityKind::bandwidth: return {kBandwidth, false, false, true};
    case QuantityKind::flops: return {kFlops, false, false, true};
    case QuantityKind::flops_rate: return {kFlopsRate, false, false, true};
    case QuantityKind::duration: return {kDuration, false, false, true};
    case QuantityKind::power: return {kPower, false, false, true};
    case QuantityKind::dollars: return {kNone, true, true, false};
    case QuantityKind::gpu_hours: return {kGpuHours, false, true, true};
    case QuantityKind::usd_per_gpu_hour: return {kPerGpuHour, true, false, true};
    case QuantityKind::usd_per_kwh: return {kPerKwh, true, false, true};
  }
  return {kNone, false, false, false};
}

std::string unit_list(std::span<const Unit> units) {
  std::string out;
  for (const Unit& u : units) {
    if (!out.empty()) out += ", ";
    out += u.name;
  }
  return out;
}

}  // namespace

std::string_view describe(QuantityKind kind) {
  switch (kind) {
    case QuantityKind::count: return "a count like \"14.8T\", \"469B\" or \"15360\"";
    case QuantityKind::bytes: return "a size like \"80 GiB\" or \"96 GB\"";
    case QuantityKind::bandwidth: return "a bandwidth like \"3.35 TB/s\" or \"400 Gb/s\"";
    case QuantityKind::flops: return "an amount of work like \"3.2 EFLOP\"";
    case QuantityKind::flops_rate: return "a throughput like \"989.4 TFLOP/s\"";
    case QuantityKind::duration: return "a duration like \"2.8 us\", \"10 min\" or \"54 days\"";
    case QuantityKind::power: return "a power like \"700 W\"";
    case QuantityKind::dollars: return "an amount like \"$5.576M\"";
    case QuantityKind::gpu_hours: return "GPU-hours like \"2664K GPU-h\"";
    case QuantityKind::usd_per_gpu_hour: return "a rate like \"$2/GPU-h\"";
    case QuantityKind::usd_per_kwh: return "a price like \"$0.08/kWh\"";
  }
  return "a value";
}

Parsed parse_quantity(std::string_view text, QuantityKind kind) {
  const Spec spec = spec_of(kind);
  std::string_view s = trim(text);
  if (spec.dollar_prefix) {
    if (s.empty() || s.front() != '$') return {std::nullopt, "missing the leading '$'"};
    s.remove_prefix(1);
  }
  // The number: digits with optional thousands commas, a fraction, an exponent.
  std::string number;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) number += s[i++];
  bool digits = false;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      number += c;
      digits = true;
    } else if (c == ',' && digits && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      // thousands separator: dropped
    } else if (c == '.') {
      number += c;
    } else if ((c == 'e' || c == 'E') && digits && i + 1 < s.size() &&
               (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '-' || s[i + 1] == '+')) {
      number += c;
      ++i;
      number += s[i];
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return {std::nullopt, "no number"};
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) {
    return {std::nullopt, fmt::format("\"{}\" is not a number", number)};
  }
  std::string_view rest = trim(s.substr(i));
  if (spec.count_suffix && !rest.empty()) {
    if (auto m = count_multiplier(rest.front())) {
      // "2664K GPU-h": a multiplier letter followed by the end or a space.
      const bool alone = rest.size() == 1 || std::isspace(static_cast<unsigned char>(rest[1]));
      if (alone || spec.units.front().name.empty()) {
        value *= *m;
        if (!std::isfinite(value)) return {std::nullopt, fmt::format("\"{}\" is out of range", s)};
        rest = trim(rest.substr(1));
      }
    }
  }
  if (rest.empty()) {
    if (spec.unit_required) {
      return {std::nullopt, fmt::format("missing unit (one of {})", unit_list(spec.units))};
    }
    return {value, ""};
  }
  for (const Unit& u : spec.units) {
    if (u.name.empty() || u.name != rest) continue;
    // Finite before and after the unit: "1e300 PB" is out of range, not infinite.
    if (!std::isfinite(value * u.factor)) return {std::nullopt, fmt::format("\"{}\" is out of range", s)};
    return {value * u.factor, ""};
  }
  if (spec.units.front().name.empty()) {
    return {std::nullopt, fmt::format("unexpected \"{}\" after the number", rest)};
  }
  return {std::nullopt, fmt::format("unknown unit \"{}\"; units: {}", rest, unit_list(spec.units))};
}

}  // namespace tcsim::scenario
