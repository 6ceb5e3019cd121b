// The clock: conversions round up to the tick, and arithmetic past its range
// throws instead of wrapping.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "core/error.h"
#include "core/sim_time.h"

namespace tcsim {

TEST_CASE("a time converts to the first tick not before it, and back exactly") {
  CHECK(to_sim_time(Seconds(1e-9)).count() == 1);
  CHECK(to_sim_time(Seconds(1.5e-9)).count() == 2);
  CHECK(to_seconds(SimTime::ns(123)).value() == doctest::Approx(123e-9));
  CHECK(to_sim_time(to_seconds(SimTime::ns(987654321))).count() == 987654321);
  // Past about 292 years, or not a number: never.
  CHECK(to_sim_time(Seconds(300.0 * 365 * 86400)) == SimTime::never());
  CHECK(to_sim_time(Seconds(std::numeric_limits<double>::quiet_NaN())) == SimTime::never());
}

TEST_CASE("sums and multiples past the clock's range throw a ConfigError, never wrap") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  CHECK((SimTime::ns(kMax - 5) + SimTime::ns(5)).count() == kMax);
  CHECK_THROWS_AS(SimTime::ns(kMax - 5) + SimTime::ns(6), ConfigError);
  SimTime t = SimTime::ns(kMax);
  CHECK_THROWS_AS(t += SimTime::ns(1), ConfigError);
  CHECK((SimTime::ns(1'000'000'000) * 9'000'000'000).count() == 9'000'000'000'000'000'000);
  CHECK_THROWS_AS(SimTime::ns(1'000'000'000) * 10'000'000'000, ConfigError);
  CHECK_THROWS_AS(add_ticks(kMax, 1), ConfigError);
  CHECK(add_ticks(40, 2) == 42);
}

}  // namespace tcsim
