// Strong unit types. A quantity is a double tagged with its dimension; only
// meaningful combinations compile (Bytes / Seconds is a bandwidth, Bytes +
// Seconds is an error). Units are named at the edge (the scenario loader
// parses "3.35 TB/s") and typed inside.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace tcsim {

template <class Tag>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double value) : value_(value) {}

  constexpr double value() const { return value_; }

  constexpr Quantity& operator+=(Quantity other) {
    value_ += other.value_;
    return *this;
  }
  constexpr Quantity& operator-=(Quantity other) {
    value_ -= other.value_;
    return *this;
  }
  constexpr Quantity& operator*=(double k) {
    value_ *= k;
    return *this;
  }
  friend constexpr Quantity operator+(Quantity a, Quantity b) { return Quantity(a.value_ + b.value_); }
  friend constexpr Quantity operator-(Quantity a, Quantity b) { return Quantity(a.value_ - b.value_); }
  friend constexpr Quantity operator-(Quantity a) { return Quantity(-a.value_); }
  friend constexpr Quantity operator*(Quantity a, double k) { return Quantity(a.value_ * k); }
  friend constexpr Quantity operator*(double k, Quantity a) { return Quantity(a.value_ * k); }
  friend constexpr Quantity operator/(Quantity a, double k) { return Quantity(a.value_ / k); }
  // The ratio of two quantities of one dimension is a plain number.
  friend constexpr double operator/(Quantity a, Quantity b) { return a.value_ / b.value_; }
  friend constexpr auto operator<=>(Quantity a, Quantity b) = default;

 private:
  double value_ = 0.0;
};

struct BytesTag {};
struct FlopsTag {};
struct SecondsTag {};
struct BytesPerSecondTag {};
struct FlopsPerSecondTag {};
struct WattsTag {};
struct JoulesTag {};
struct DollarsTag {};
struct GpuHoursTag {};
struct DollarsPerGpuHourTag {};
struct DollarsPerKwhTag {};

using Bytes = Quantity<BytesTag>;
using Flops = Quantity<FlopsTag>;
using Seconds = Quantity<SecondsTag>;
using BytesPerSecond = Quantity<BytesPerSecondTag>;
using FlopsPerSecond = Quantity<FlopsPerSecondTag>;
using Watts = Quantity<WattsTag>;
using Joules = Quantity<JoulesTag>;
using Dollars = Quantity<DollarsTag>;
using GpuHours = Quantity<GpuHoursTag>;
using DollarsPerGpuHour = Quantity<DollarsPerGpuHourTag>;
using DollarsPerKwh = Quantity<DollarsPerKwhTag>;

// Cross-dimension arithmetic: only the combinations the model needs.
constexpr Seconds operator/(Bytes b, BytesPerSecond r) { return Seconds(b.value() / r.value()); }
constexpr Seconds operator/(Flops f, FlopsPerSecond r) { return Seconds(f.value() / r.value()); }
constexpr BytesPerSecond operator/(Bytes b, Seconds t) { return BytesPerSecond(b.value() / t.value()); }
constexpr FlopsPerSecond operator/(Flops f, Seconds t) { return FlopsPerSecond(f.value() / t.value()); }
constexpr Bytes operator*(BytesPerSecond r, Seconds t) { return Bytes(r.value() * t.value()); }
constexpr Flops operator*(FlopsPerSecond r, Seconds t) { return Flops(r.value() * t.value()); }
constexpr Joules operator*(Watts p, Seconds t) { return Joules(p.value() * t.value()); }
constexpr Dollars operator*(GpuHours h, DollarsPerGpuHour r) { return Dollars(h.value() * r.value()); }

constexpr double kSecondsPerHour = 3600.0;  // definition of the hour
constexpr double kJoulesPerKwh = 3.6e6;     // 1 kWh = 1000 W x 3600 s

constexpr Dollars operator*(Joules e, DollarsPerKwh r) { return Dollars(e.value() / kJoulesPerKwh * r.value()); }
constexpr GpuHours gpu_hours(Seconds wall, double gpus) { return GpuHours(wall.value() * gpus / kSecondsPerHour); }

// A quantity's value in its base unit, or a plain number as it is: for code
// written once over quantities and numbers alike (distributions of either).
constexpr double raw_value(double v) { return v; }
template <class Tag>
constexpr double raw_value(Quantity<Tag> q) {
  return q.value();
}

// Named constructors for literals in code and tests (decimal SI, binary IEC).
constexpr Bytes bytes(double v) { return Bytes(v); }
constexpr Bytes kib(double v) { return Bytes(v * 1024.0); }
constexpr Bytes mib(double v) { return Bytes(v * 1024.0 * 1024.0); }
constexpr Bytes gib(double v) { return Bytes(v * 1024.0 * 1024.0 * 1024.0); }
constexpr Bytes gigabytes(double v) { return Bytes(v * 1e9); }
constexpr BytesPerSecond gigabytes_per_second(double v) { return BytesPerSecond(v * 1e9); }
constexpr BytesPerSecond terabytes_per_second(double v) { return BytesPerSecond(v * 1e12); }
constexpr FlopsPerSecond teraflops_per_second(double v) { return FlopsPerSecond(v * 1e12); }
constexpr Seconds microseconds(double v) { return Seconds(v * 1e-6); }

// Human-readable rendering with a scaled unit ("3.35 TB/s", "80 GiB").
std::string to_string(Bytes v);
std::string to_string(Flops v);
std::string to_string(Seconds v);
std::string to_string(BytesPerSecond v);
std::string to_string(FlopsPerSecond v);
std::string to_string(Watts v);
std::string to_string(Joules v);
std::string to_string(Dollars v);
std::string to_string(GpuHours v);
std::string to_string(DollarsPerGpuHour v);
std::string to_string(DollarsPerKwh v);

// A count with an SI suffix: 14.8T, 671B, 37B.
std::string to_count_string(double count);

}  // namespace tcsim

template <class Tag>
struct fmt::formatter<tcsim::Quantity<Tag>> : fmt::formatter<std::string> {
  template <class FormatContext>
  auto format(tcsim::Quantity<Tag> q, FormatContext& ctx) const {
    return fmt::formatter<std::string>::format(tcsim::to_string(q), ctx);
  }
};
