#include <doctest/doctest.h>

#include "scenarios/quantity.h"

using namespace tcsim::scenario;

namespace {
double value(std::string_view text, QuantityKind kind) {
  const Parsed p = parse_quantity(text, kind);
  REQUIRE_MESSAGE(p.value.has_value(), p.problem);
  return *p.value;
}
bool rejected(std::string_view text, QuantityKind kind) { return !parse_quantity(text, kind).value.has_value(); }
}  // namespace

TEST_CASE("sizes: decimal and binary prefixes") {
  CHECK(value("80 GiB", QuantityKind::bytes) == 80.0 * 1024 * 1024 * 1024);
  CHECK(value("80 GB", QuantityKind::bytes) == 80e9);
  CHECK(value("96GB", QuantityKind::bytes) == 96e9);
  CHECK(value("1.5 TiB", QuantityKind::bytes) == 1.5 * 1099511627776.0);
}

TEST_CASE("bandwidths: bytes and bits per second") {
  CHECK(value("3.35 TB/s", QuantityKind::bandwidth) == doctest::Approx(3.35e12));
  // 400 Gb/s is 50 GB/s (InfiniBand NDR, 8 bits per byte).
  CHECK(value("400 Gb/s", QuantityKind::bandwidth) == doctest::Approx(50e9));
  CHECK(value("400 Gbps", QuantityKind::bandwidth) == doctest::Approx(50e9));
  CHECK(rejected("400 GB", QuantityKind::bandwidth));
}

TEST_CASE("counts take thousand, million, billion and trillion suffixes") {
  CHECK(value("14.8T", QuantityKind::count) == doctest::Approx(14.8e12));
  CHECK(value("469B", QuantityKind::count) == doctest::Approx(469e9));
  CHECK(value("5K", QuantityKind::count) == 5000.0);
  CHECK(value("15360", QuantityKind::count) == 15360.0);
  CHECK(value("1,000", QuantityKind::count) == 1000.0);
  CHECK(rejected("14.8 tokens", QuantityKind::count));
}

TEST_CASE("money and rates") {
  CHECK(value("$2/GPU-h", QuantityKind::usd_per_gpu_hour) == 2.0);
  CHECK(value("$2.00/GPU-hour", QuantityKind::usd_per_gpu_hour) == 2.0);
  CHECK(value("$5.576M", QuantityKind::dollars) == doctest::Approx(5.576e6));
  CHECK(value("$44,750", QuantityKind::dollars) == 44750.0);
  CHECK(value("2664K GPU-h", QuantityKind::gpu_hours) == 2664000.0);
  CHECK(value("$0.08/kWh", QuantityKind::usd_per_kwh) == doctest::Approx(0.08));
  CHECK(rejected("2/GPU-h", QuantityKind::usd_per_gpu_hour));
}

TEST_CASE("durations, power and throughput") {
  CHECK(value("2.8 us", QuantityKind::duration) == doctest::Approx(2.8e-6));
  CHECK(value("10 min", QuantityKind::duration) == 600.0);
  CHECK(value("54 days", QuantityKind::duration) == 54.0 * 86400);
  CHECK(value("700 W", QuantityKind::power) == 700.0);
  CHECK(value("989.4 TFLOP/s", QuantityKind::flops_rate) == doctest::Approx(989.4e12));
}

TEST_CASE("a value that needs a unit is rejected without one, with the reason") {
  const Parsed p = parse_quantity("3.35", QuantityKind::bandwidth);
  CHECK_FALSE(p.value.has_value());
  CHECK(p.problem.find("missing unit") != std::string::npos);
  CHECK(parse_quantity("fast", QuantityKind::bandwidth).problem == "no number");
  CHECK(parse_quantity("3.35 TB/sec", QuantityKind::bandwidth).problem.find("unknown unit") != std::string::npos);
}
