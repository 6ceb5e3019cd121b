// Typed figures as tables print them: GiB, plain seconds, days, dollars.
#pragma once

#include <optional>

#include "core/units.h"
#include "sim/run_level.h"

namespace tcsim::reports {

inline constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

inline double in_gib(Bytes b) { return b.value() / kBytesPerGib; }

// The number in the quantity's own unit (seconds, GPU-hours, dollars), or none.
template <class Q>
std::optional<double> raw(const std::optional<Q>& q) {
  return q ? std::optional<double>(q->value()) : std::nullopt;
}

inline double or_zero(const std::optional<Seconds>& t) { return t ? t->value() : 0.0; }

inline std::optional<double> days(const std::optional<Seconds>& t) {
  return t ? std::optional<double>(t->value() / sim::kSecondsPerDay) : std::nullopt;
}

}  // namespace tcsim::reports
