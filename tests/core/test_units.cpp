#include <doctest/doctest.h>

#include <type_traits>

#include "core/units.h"

using namespace tcsim;

// A concept that is true when `a + b` compiles.
template <class A, class B>
concept Addable = requires(A a, B b) {
  a + b;
};

TEST_CASE("quantities of different dimensions do not add") {
  static_assert(Addable<Bytes, Bytes>);
  static_assert(!Addable<Bytes, Seconds>);
  static_assert(!Addable<Flops, FlopsPerSecond>);
  static_assert(!Addable<Dollars, GpuHours>);
  static_assert(!std::is_convertible_v<double, Bytes>);
}

TEST_CASE("bytes over bandwidth is a time, flops over throughput is a time") {
  // 1 GB at 100 GB/s = 10 ms.
  const Seconds t = gigabytes(1) / gigabytes_per_second(100);
  CHECK(t.value() == doctest::Approx(0.01));
  // 989.4 TFLOP at 989.4 TFLOP/s = 1 s.
  CHECK((Flops(989.4e12) / teraflops_per_second(989.4)).value() == doctest::Approx(1.0));
}

TEST_CASE("GPU-hours times a rental rate is dollars") {
  // DeepSeek-V3 Table 1: 2,788K GPU-hours at $2 = $5.576M.
  const Dollars d = GpuHours(2.788e6) * DollarsPerGpuHour(2.0);
  CHECK(d.value() == doctest::Approx(5.576e6));
  // 2048 GPUs for one day = 49,152 GPU-hours.
  CHECK(gpu_hours(Seconds(86400), 2048).value() == doctest::Approx(49152));
}

TEST_CASE("energy at a price per kWh is dollars") {
  // 700 W for 1000 h = 700 kWh; at $0.10/kWh = $70.
  const Joules e = Watts(700) * Seconds(1000 * 3600.0);
  CHECK((e * DollarsPerKwh(0.10)).value() == doctest::Approx(70.0));
}

TEST_CASE("units format with a scaled unit") {
  CHECK(to_string(gib(80)) == "80 GiB");
  CHECK(to_string(terabytes_per_second(3.35)) == "3.35 TB/s");
  CHECK(to_string(teraflops_per_second(989.4)) == "989.4 TFLOP/s");
  CHECK(to_string(microseconds(2.8)) == "2.8 us");
  CHECK(to_string(Dollars(5.576e6)) == "$5.576M");
  CHECK(to_count_string(671e9) == "671B");
  CHECK(fmt::format("{}", Watts(700)) == "700 W");
  CHECK(to_string(Watts(10200)) == "10.2 kW");
  CHECK(to_string(Joules(3.6e6)) == "3.6 MJ");
}
