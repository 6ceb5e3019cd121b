// Distributions and the R&D Monte Carlo against closed forms.
#include <doctest/doctest.h>

#include <cmath>

#include "core/random.h"
#include "cost/monte_carlo.h"

using namespace tcsim;
using namespace tcsim::cost;
using scenario::DistKind;
using scenario::Distribution;
using scenario::RndItem;
using scenario::RndKind;

namespace {

Distribution<double> fixed(double v) {
  Distribution<double> d;
  d.value = v;
  return d;
}

Distribution<double> uniform(double lo, double hi) {
  Distribution<double> d;
  d.kind = DistKind::uniform;
  d.low = lo;
  d.high = hi;
  return d;
}

Distribution<double> lognormal(double p5, double median, double p95) {
  Distribution<double> d;
  d.kind = DistKind::lognormal;
  d.p5 = p5;
  d.median = median;
  d.p95 = p95;
  d.has_p5 = p5 > 0;
  d.has_median = median > 0;
  d.has_p95 = p95 > 0;
  return d;
}

RndItem item(std::string name, RndKind kind) {
  RndItem it;
  it.name = std::move(name);
  it.kind = kind;
  it.source = "test";
  return it;
}

const RndPrices kPrices{GpuHours(1000), DollarsPerGpuHour(2), DollarsPerGpuHour(1.5)};

}  // namespace

TEST_CASE("the normal quantile matches published values of the standard normal") {
  // Abramowitz and Stegun Table 26.5 / any statistics table.
  CHECK(normal_quantile(0.5) == 0.0);
  CHECK(normal_quantile(0.95) == doctest::Approx(1.6448536269514722).epsilon(1e-15));
  CHECK(normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-15));
  CHECK(normal_quantile(0.9) == doctest::Approx(1.2815515655446004).epsilon(1e-15));
  CHECK(normal_quantile(0.05) == doctest::Approx(-1.6448536269514722).epsilon(1e-15));
  CHECK(normal_quantile(1e-10) == doctest::Approx(-6.361340902404056).epsilon(1e-14));
}

TEST_CASE("sample quantiles interpolate between order statistics (type 7)") {
  const std::vector<double> x{1, 2, 3, 4};
  // h = (n - 1) p: p = 0.5 -> h = 1.5 -> 2.5; p = 0.1 -> h = 0.3 -> 1.3.
  CHECK(quantile_sorted(x, 0.5) == doctest::Approx(2.5));
  CHECK(quantile_sorted(x, 0.1) == doctest::Approx(1.3));
  CHECK(quantile_sorted(x, 1.0) == 4);
}

TEST_CASE("each distribution's quantile function is its closed form") {
  CHECK(quantile_of(fixed(7), 0.3) == 7);
  // Uniform: low + u (high - low).
  CHECK(quantile_of(uniform(10, 20), 0.25) == doctest::Approx(12.5));
  // Triangular (0, 1, 4): split at (1 - 0)/(4 - 0) = 0.25; u = 0.25 gives the mode;
  // u = 0.5 gives 4 - sqrt(0.5 x 4 x 3) = 4 - sqrt(6).
  Distribution<double> t;
  t.kind = DistKind::triangular;
  t.low = 0;
  t.mode = 1;
  t.high = 4;
  CHECK(quantile_of(t, 0.25) == doctest::Approx(1.0));
  CHECK(quantile_of(t, 0.5) == doctest::Approx(4 - std::sqrt(6.0)));
  CHECK(quantile_of(t, 0.0625) == doctest::Approx(std::sqrt(0.0625 * 4 * 1)));
}

TEST_CASE("a lognormal reproduces the quantiles it was given") {
  // Median and p95: the 50% and 95% quantiles come back.
  const Distribution<double> a = lognormal(0, 2.2, 4.0);
  CHECK(quantile_of(a, 0.5) == doctest::Approx(2.2));
  CHECK(quantile_of(a, 0.95) == doctest::Approx(4.0));
  // The 90% interval alone: median sqrt(p5 p95) = sqrt(1.2 x 4) = 2.191.
  const Distribution<double> b = lognormal(1.2, 0, 4.0);
  CHECK(quantile_of(b, 0.5) == doctest::Approx(std::sqrt(4.8)));
  CHECK(quantile_of(b, 0.05) == doctest::Approx(1.2));
  // All three (Epoch's compensation: $210K, $330K, $690K): two-piece, each holds.
  const Distribution<double> c = lognormal(210e3, 330e3, 690e3);
  CHECK(quantile_of(c, 0.05) == doctest::Approx(210e3));
  CHECK(quantile_of(c, 0.5) == doctest::Approx(330e3));
  CHECK(quantile_of(c, 0.95) == doctest::Approx(690e3));
}

TEST_CASE("fixed items add exactly to the final run") {
  scenario::RndSpec spec;
  RndItem gpu = item("extra compute", RndKind::gpu_hours);
  gpu.gpu_hours.value = GpuHours(500);
  RndItem cash = item("data", RndKind::dollars);
  cash.dollars.value = Dollars(10000);
  spec.items = {gpu, cash};
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 1, .samples = 50});
  // 1000 x $2 + 500 x $2 + $10,000 = $13,000 in every sample.
  CHECK(r.final_run.value() == 2000);
  CHECK(r.total.p10.value() == doctest::Approx(13000));
  CHECK(r.total.p90.value() == doctest::Approx(13000));
  CHECK(r.items[0].usd.mean.value() == doctest::Approx(1000));
  CHECK(r.items[0].mean_gpu_hours.value() == doctest::Approx(500));
  // Shares: 2000, 1000, 10000 of 13000.
  CHECK(r.final_run_share + r.items[0].share + r.items[1].share == doctest::Approx(1.0));
  CHECK(r.items[1].share == doctest::Approx(10.0 / 13));
}

TEST_CASE("development compute ratio R adds (R - 1) final runs; a fleet's idle hours are held minus R final runs") {
  scenario::RndSpec spec;
  RndItem dev = item("experiments", RndKind::development_compute_ratio);
  dev.ratio = fixed(2.2);
  RndItem fleet = item("fleet", RndKind::fleet);
  fleet.gpus = fixed(10);
  fleet.duration.value = Seconds(1000 * 3600.0);
  spec.items = {fleet, dev};  // the fleet is listed first and still sees R
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 1, .samples = 20});
  // Experiments: (2.2 - 1) x 1000 GPU-h x $2 = $2,400.
  CHECK(r.items[1].usd.mean.value() == doctest::Approx(2400));
  // Fleet: 10 GPUs x 1000 h - 2.2 x 1000 = 7,800 idle GPU-h x $1.5 capital = $11,700.
  CHECK(r.items[0].usd.mean.value() == doctest::Approx(11700));
  CHECK(r.total.mean.value() == doctest::Approx(2000 + 2400 + 11700));
}

TEST_CASE("staff cost is headcount x compensation x FTE share x overhead x years") {
  scenario::RndSpec spec;
  RndItem staff = item("staff", RndKind::staff);
  staff.headcount = fixed(200);
  staff.compensation.value = Dollars(330e3);
  staff.fte_share = fixed(0.2);
  staff.overhead = fixed(1.3);
  staff.duration.value = Seconds(0.5 * 365 * 86400);
  spec.items = {staff};
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 1, .samples = 5});
  // 200 x $330K x 0.2 x 1.3 x 0.5 = $8.58M.
  CHECK(r.items[0].usd.mean.value() == doctest::Approx(8.58e6));
}

TEST_CASE("sampled spreads reproduce the input distributions") {
  scenario::RndSpec spec;
  RndItem u = item("uniform", RndKind::final_run_multiple);
  u.ratio = uniform(1, 3);
  RndItem dev = item("epoch ratio", RndKind::development_compute_ratio);
  dev.ratio = lognormal(1.2, 2.2, 4.0);  // Epoch AI: 90% CI 1.2x-4x, median 2.2x
  spec.items = {u, dev};
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 11, .samples = 100000});
  // Uniform multiple 1..3 of 1000 GPU-h at $2: p10 = $2,400, p50 = $4,000, p90 = $5,600.
  CHECK(r.items[0].usd.p10.value() == doctest::Approx(2400).epsilon(0.01));
  CHECK(r.items[0].usd.p50.value() == doctest::Approx(4000).epsilon(0.01));
  CHECK(r.items[0].usd.p90.value() == doctest::Approx(5600).epsilon(0.01));
  // (R - 1) x $2000 is monotone in R: its median is (2.2 - 1) x $2000 = $2,400.
  CHECK(r.items[1].usd.p50.value() == doctest::Approx(2400).epsilon(0.02));
}

TEST_CASE("one seed gives one total; unquantified items are listed and add nothing") {
  scenario::RndSpec spec;
  RndItem u = item("uniform", RndKind::final_run_multiple);
  u.ratio = uniform(0, 1);
  RndItem none = item("data", RndKind::dollars);
  none.quantified = false;
  none.note = "no public figure";
  spec.items = {u, none};
  const RndResult a = simulate_rnd(spec, kPrices, {.seed = 5, .samples = 1000});
  const RndResult b = simulate_rnd(spec, kPrices, {.seed = 5, .samples = 1000});
  const RndResult c = simulate_rnd(spec, kPrices, {.seed = 6, .samples = 1000});
  CHECK(a.total.p50.value() == b.total.p50.value());
  CHECK(a.total_samples == b.total_samples);
  CHECK(a.total.p50.value() != c.total.p50.value());
  CHECK(!a.items[1].quantified);
  CHECK(a.items[1].usd.p90.value() == 0);
  CHECK(a.items[1].share == 0);
}

TEST_CASE("sensitivity: the total's median with one item held at its p10 and p90, the widest swing first") {
  scenario::RndSpec spec;
  RndItem narrow = item("narrow", RndKind::dollars);
  narrow.dollars.kind = DistKind::uniform;
  narrow.dollars.low = Dollars(0);
  narrow.dollars.high = Dollars(100);
  RndItem wide = item("wide", RndKind::dollars);
  wide.dollars.kind = DistKind::uniform;
  wide.dollars.low = Dollars(0);
  wide.dollars.high = Dollars(1000);
  RndItem sure = item("sure", RndKind::dollars);
  sure.dollars.value = Dollars(50);
  spec.items = {narrow, wide, sure};
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 3, .samples = 20000});
  // Fixed items have no swing; the wide one comes first.
  REQUIRE(r.sensitivity.size() == 2);
  CHECK(r.sensitivity[0].name == "wide");
  CHECK(r.sensitivity[1].name == "narrow");
  // Held at its p10 (100) and p90 (900): the total's median is 2000 + 50 + that + the narrow item's median (50).
  CHECK(r.sensitivity[0].input_p10 == doctest::Approx(100));  // the uniform's own p10, not a sample's
  CHECK(r.sensitivity[0].total_at_p10.value() == doctest::Approx(2000 + 50 + 100 + 50).epsilon(0.005));
  CHECK(r.sensitivity[0].total_at_p90.value() == doctest::Approx(2000 + 50 + 900 + 50).epsilon(0.005));
  // The narrow one at 10 and 90, the wide one's median 500 beside it.
  CHECK(r.sensitivity[1].total_at_p10.value() == doctest::Approx(2000 + 50 + 10 + 500).epsilon(0.01));
  CHECK(r.sensitivity[1].total_at_p90.value() == doctest::Approx(2000 + 50 + 90 + 500).epsilon(0.01));
}

TEST_CASE("sensitivity of the development ratio moves the fleet's idle hours with it") {
  scenario::RndSpec spec;
  RndItem dev = item("experiments", RndKind::development_compute_ratio);
  dev.ratio = uniform(1.0, 3.0);
  RndItem fleet = item("fleet", RndKind::fleet);
  fleet.gpus = fixed(10);
  fleet.duration.value = Seconds(1000 * 3600.0);
  spec.items = {dev, fleet};
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 1, .samples = 2000});
  // The fleet's inputs are fixed: only R is uncertain.
  REQUIRE(r.sensitivity.size() == 1);
  const Sensitivity& ratio = r.sensitivity[0];
  CHECK(ratio.name == "experiments");
  // R at its p10, 1.2: experiments 0.2 x 1000 x $2 = $400; fleet (10,000 - 1,200) x $1.5 = $13,200.
  CHECK(ratio.total_at_p10.value() == doctest::Approx(2000 + 400 + 13200));
  // R at its p90, 2.8: $3,600 and (10,000 - 2,800) x $1.5 = $10,800: the two items offset each other.
  CHECK(ratio.total_at_p90.value() == doctest::Approx(2000 + 3600 + 10800));
}

TEST_CASE("sensitivity is by input: a staff item's compensation and duration are separate rows") {
  scenario::RndSpec spec;
  RndItem staff = item("staff", RndKind::staff);
  staff.headcount = fixed(10);
  staff.compensation.kind = DistKind::uniform;
  staff.compensation.low = Dollars(100000);
  staff.compensation.high = Dollars(300000);
  staff.fte_share = fixed(1);
  staff.overhead = fixed(1);
  staff.duration.kind = DistKind::uniform;
  staff.duration.low = Seconds(0.5 * 365 * 86400);
  staff.duration.high = Seconds(1.5 * 365 * 86400);
  spec.items = {staff};
  const RndResult r = simulate_rnd(spec, kPrices, {.seed = 2, .samples = 20000});
  REQUIRE(r.sensitivity.size() == 2);
  // Compensation at its p10, $120K, with the duration's median, 1 year: 10 x $120K x 1 = $1.2M.
  const Sensitivity& pay = r.sensitivity[0].input == "compensation" ? r.sensitivity[0] : r.sensitivity[1];
  CHECK(pay.name == "staff: compensation");
  CHECK(pay.input_p10 == doctest::Approx(120000));
  CHECK(pay.total_at_p10.value() == doctest::Approx(2000 + 1.2e6).epsilon(0.01));
  CHECK(pay.total_at_p90.value() == doctest::Approx(2000 + 2.8e6).epsilon(0.01));
  // Duration at its p10, 0.6 years, with the median pay $200K: 10 x $200K x 0.6 = $1.2M.
  const Sensitivity& years = r.sensitivity[0].input == "duration" ? r.sensitivity[0] : r.sensitivity[1];
  CHECK(years.total_at_p10.value() == doctest::Approx(2000 + 1.2e6).epsilon(0.01));
  CHECK(years.total_at_p90.value() == doctest::Approx(2000 + 2.8e6).epsilon(0.01));
}

TEST_CASE("without sensitivity the total is the same and no input is held") {
  scenario::RndSpec spec;
  RndItem wide = item("wide", RndKind::dollars);
  wide.dollars.kind = DistKind::uniform;
  wide.dollars.low = Dollars(0);
  wide.dollars.high = Dollars(1000);
  spec.items = {wide};
  const RndResult with = simulate_rnd(spec, kPrices, {.seed = 5, .samples = 500});
  const RndResult without = simulate_rnd(spec, kPrices, {.seed = 5, .samples = 500, .sensitivity = false});
  CHECK(with.sensitivity.size() == 1);
  CHECK(without.sensitivity.empty());
  CHECK(without.total.p50.value() == with.total.p50.value());
}
