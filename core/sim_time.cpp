#include "core/sim_time.h"

#include <cmath>

#include "core/error.h"

namespace tcsim {

void clock_overflow() {
  throw ConfigError(
      "a simulated time passes the clock's range (about 292 years): some input makes a transfer or a task last "
      "that long; check the latencies, bandwidths, sizes and batch of the scenario");
}

SimTime to_sim_time(Seconds t) {
  // The nearest tick, then one up if it falls before t: the product can be off
  // by an ulp either way, and rounding it up would move an exact tick by one.
  const double x = t.value() * kNanosecondsPerSecond;
  // Past the clock's range (about 292 years) or not a number: never.
  if (!(x < static_cast<double>(SimTime::never().count()))) return SimTime::never();
  auto n = static_cast<std::int64_t>(std::llround(x));
  if (to_seconds(SimTime::ns(n)) < t) ++n;
  return SimTime::ns(n);
}

Seconds to_seconds(SimTime t) { return Seconds(static_cast<double>(t.count()) / kNanosecondsPerSecond); }

}  // namespace tcsim
