// The simulator's clock, one type for every part that keeps time: the step
// engine, the flow network under it and a collective's run on its own. An
// integer count of nanoseconds behind a strong type: events compare exactly
// (no epsilons), so a run is bit-reproducible. Physical quantities (Seconds,
// core/units.h) convert at the boundary, rounding up, so a converted duration
// never comes out shorter than the modelled one.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

#include "core/units.h"

namespace tcsim {

// Throws ConfigError: a simulated time past the clock's range (about 292
// years) comes from an input out of range (a latency, a bandwidth, a size),
// never from a real training step.
[[noreturn]] void clock_overflow();

// t + d in ticks, checked against the clock's range.
constexpr std::int64_t add_ticks(std::int64_t t, std::int64_t d) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(t, d, &sum)) clock_overflow();
  return sum;
}

class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime ns(std::int64_t count) { return SimTime(count); }
  static constexpr SimTime never() { return SimTime(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t count() const { return ns_; }

  // Sums and multiples are checked: past the clock's range they throw
  // (clock_overflow), never wrap.
  friend constexpr SimTime operator+(SimTime a, SimTime b) { return SimTime(add_ticks(a.ns_, b.ns_)); }
  friend constexpr SimTime operator-(SimTime a, SimTime b) { return SimTime(a.ns_ - b.ns_); }
  friend constexpr SimTime operator*(SimTime a, std::int64_t k) {
    std::int64_t product = 0;
    if (__builtin_mul_overflow(a.ns_, k, &product)) clock_overflow();
    return SimTime(product);
  }
  constexpr SimTime& operator+=(SimTime o) {
    ns_ = add_ticks(ns_, o.ns_);
    return *this;
  }
  friend constexpr auto operator<=>(SimTime a, SimTime b) = default;

 private:
  constexpr explicit SimTime(std::int64_t count) : ns_(count) {}
  std::int64_t ns_ = 0;
};

inline constexpr double kNanosecondsPerSecond = 1e9;  // SI definition

// The earliest tick not before `t`: the smallest n with to_seconds(n) >= t, so
// a time that came from a tick converts back to that tick exactly.
SimTime to_sim_time(Seconds t);
Seconds to_seconds(SimTime t);

}  // namespace tcsim
