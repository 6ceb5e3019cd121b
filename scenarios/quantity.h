// Parsing of values written with units ("3.35 TB/s", "80 GiB", "400 Gb/s",
// "14.8T", "$2/GPU-h"). Only the scenario loader uses this: units are named at
// the edge and typed inside.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tcsim::scenario {

enum class QuantityKind {
  count,             // 14.8T, 469B, 15360, 1,000
  bytes,             // 80 GiB, 96 GB
  bandwidth,         // 3.35 TB/s, 400 Gb/s
  flops,             // 3.2 EFLOP
  flops_rate,        // 989.4 TFLOP/s
  duration,          // 2.8 us, 10 min, 54 days
  power,             // 700 W
  dollars,           // $5.576M
  gpu_hours,         // 2664K GPU-h
  usd_per_gpu_hour,  // $2/GPU-h
  usd_per_kwh,       // $0.08/kWh
};

// What a user should write, for error messages: `a bandwidth like "3.35 TB/s"`.
std::string_view describe(QuantityKind kind);

struct Parsed {
  std::optional<double> value;  // in SI base units (bytes, B/s, s, W, $, GPU-h)
  std::string problem;          // why not, when value is empty
};

Parsed parse_quantity(std::string_view text, QuantityKind kind);

}  // namespace tcsim::scenario
