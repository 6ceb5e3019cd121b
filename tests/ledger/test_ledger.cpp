// The ledger's arithmetic against hand calculation: the published final-run
// figure, both amortisation conventions, energy, the owned final run, and the
// contract's cost.* keys.
#include <doctest/doctest.h>

#include <cmath>

#include "cost/ledger.h"
#include "reports/cost_json.h"
#include "scenarios/loader.h"
#include "tests/ledger/fixtures.h"

using namespace tcsim;
using namespace tcsim::reports;
using namespace tcsim::cost;

namespace {

// V3-TR Table 1: the published H800 GPU-hours per stage.
const std::vector<std::pair<std::string, GpuHours>> kPublished{{"pre-training", GpuHours(2'664'000)},
                                                               {"context extension", GpuHours(119'000)},
                                                               {"post-training", GpuHours(5'000)}};

}  // namespace

TEST_CASE("the published final run: 2,788K H800 GPU-hours x $2 = $5.576M") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, kPublished, {.seed = 1, .samples = 100});
  CHECK(l.gpu_hours.value() == 2'788'000);
  CHECK(l.final_run.value() == doctest::Approx(5.576e6).epsilon(1e-12));  // V3-TR Table 1
  REQUIRE(l.phases.size() == 3);
  CHECK(l.phases[0].rental.value() == doctest::Approx(5.328e6).epsilon(1e-12));
  CHECK(l.phases[1].rental.value() == doctest::Approx(0.238e6).epsilon(1e-12));
  CHECK(l.phases[2].rental.value() == doctest::Approx(0.010e6).epsilon(1e-12));
}

TEST_CASE("Epoch's amortisation charges value x r x ln(10) / 8760 per GPU-hour") {
  // $10,000 at r = 0.14 OOM/year: 10,000 x 0.14 x 2.302585 / 8760 = $0.367993 per hour.
  CHECK(epoch_amortisation(Dollars(10000), 0.14).value() == doctest::Approx(10000 * 0.14 * 2.302585093 / 8760));
  CHECK(epoch_amortisation(Dollars(10000), 0.14).value() == doctest::Approx(0.367993).epsilon(1e-5));
}

TEST_CASE("straight-line ownership charges value / lifetime hours") {
  // $35,040 over 4 years of 8760 h: $1 per hour.
  CHECK(straight_line_amortisation(Dollars(35040), Seconds(4 * 365 * 86400.0)).value() == doctest::Approx(1.0));
}

TEST_CASE("energy per GPU-hour is TDP x server factor x power fraction x PUE x price") {
  scenario::OwnershipSpec o;
  o.server_power_factor = 1.82;
  o.power_fraction = 0.75;
  o.pue = 1.25;
  o.energy_price = DollarsPerKwh(0.088);
  o.capital.push_back({"x", Dollars(0), "test", scenario::SourceTag::exact});
  // 700 W x 1.82 x 0.75 x 1.25 = 1194.375 W; one hour is 1.194375 kWh, x $0.088 = $0.105105.
  CHECK(average_power_per_gpu(Watts(700), o).value() == doctest::Approx(1194.375));
  const OwnedRate r = owned_rate(o, Watts(700));
  CHECK(r.energy.value() == doctest::Approx(0.105105).epsilon(1e-9));
  CHECK(r.capital.value() == 0);
}

TEST_CASE("the DeepSeek-V3 run on owned hardware: capital and energy per GPU-hour x GPU-hours") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, kPublished, {.seed = 1, .samples = 100});
  REQUIRE(l.owned);
  // Capital: $44,750 (DGX H800 / 8) + $4,390 (network) = $49,140 per GPU;
  // x 0.14 x ln 10 / 8760 = $1.808319 per GPU-hour (Epoch convention).
  CHECK(l.owned->capital_value.value() == 49140);
  const double capital = 49140 * 0.14 * std::log(10.0) / 8760;
  CHECK(l.owned->capital.value() == doctest::Approx(capital));
  CHECK(capital == doctest::Approx(1.808319).epsilon(1e-6));
  // Energy: 700 W x 1.82 x 0.75 x 1.25 = 1.194375 kW x $0.088/kWh = $0.105105 per GPU-hour.
  CHECK(l.owned->energy.value() == doctest::Approx(0.105105).epsilon(1e-9));
  CHECK(l.owned->facility.value() == 0);
  // Owned final run: 2,788,000 x (1.808319 + 0.105105) = $5.3346M.
  CHECK(l.owned_final_run->value() == doctest::Approx(2'788'000 * (capital + 0.105105)).epsilon(1e-9));
  CHECK(l.owned_final_run->value() == doctest::Approx(5.3346e6).epsilon(1e-4));
  // Energy of the run at the facility: 1.194375 kW x 2,788,000 h = 3,330 MWh.
  CHECK(l.energy->value() / 3.6e9 == doctest::Approx(1.194375 * 2788).epsilon(1e-9));
}

TEST_CASE("straight-line depreciation is selectable in the scenario") {
  const scenario::Scenario s =
      scenario::load_scenario("builtin:deepseek-v3", std::vector<std::string>{"cost.owned.depreciation=straight-line"});
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, kPublished, {.seed = 1, .samples = 10});
  // $49,140 over 4 x 8760 h = $1.402397 per GPU-hour.
  CHECK(l.owned->capital.value() == doctest::Approx(49140.0 / 35040));
}

TEST_CASE("the R&D total prices compute at the chosen basis") {
  const std::vector<std::string> base{
      "cost={rental: \"$2/GPU-h\", owned: {capital: [{name: gpu, per_gpu: \"$8760\", source: t, tag: exact}], "
      "depreciation: straight-line, lifetime: \"1 year\", energy_price: \"$0/kWh\", energy_price_source: t}, "
      "rnd: {compute_price: rental, items: [{name: extra, kind: gpu_hours, amount: \"1000 GPU-h\", source: t, tag: "
      "exact}]}}"};
  const scenario::Scenario rental = test::load_small(base);
  std::vector<std::string> owned_sets = base;
  owned_sets.push_back("cost.rnd.compute_price=owned");
  const scenario::Scenario owned = test::load_small(owned_sets);
  const std::vector<std::pair<std::string, GpuHours>> phases{{"run", GpuHours(500)}};
  // Rental: (500 + 1000) GPU-h x $2 = $3000.
  const Ledger a = price_run(rental.cost, Watts(700), phases, {.seed = 1, .samples = 10});
  CHECK(a.rnd->total.p50.value() == doctest::Approx(3000));
  // Owned: $8760 over 8760 h = $1 per GPU-hour, no energy: (500 + 1000) x $1 = $1500.
  const Ledger b = price_run(owned.cost, Watts(700), phases, {.seed = 1, .samples = 10});
  CHECK(b.owned->total.value() == doctest::Approx(1.0));
  CHECK(b.rnd->total.p50.value() == doctest::Approx(1500));
  CHECK(b.rnd->final_run.value() == doctest::Approx(500));
}

TEST_CASE("a simulated run is priced phase by phase") {
  const scenario::Scenario s = test::load_small({"cost={rental: \"$3/GPU-h\", rental_source: test}"});
  sim::StepTimeCache cache(test::rate_oracle(1e6));
  const sim::RunResult run = sim::simulate_run(s, cache, {.seed = 1, .trials = 5});
  const Ledger l = make_ledger(s, run);
  CHECK(l.gpu_hours.value() == doctest::Approx(run.gpu_hours_total.value()));
  CHECK(l.final_run.value() == doctest::Approx(3 * run.gpu_hours_total.value()));
  CHECK(l.phases[2].rental.value() == doctest::Approx(1500));  // the measured 500 GPU-h x $3
  CHECK(!l.owned_final_run);
  CHECK(!l.rnd);
}

TEST_CASE("the ledger reports the contract's cost keys, nulls where an input is missing") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, kPublished, {.seed = 1, .samples = 100});
  const Json j = cost_json(l, s.cost);
  for (const char* key : {"rental_usd_per_gpu_hour", "final_run_usd", "owned_final_run_usd", "rnd_total_usd"}) {
    CHECK_MESSAGE(j.find(key) != nullptr, key);
  }
  const std::string text = j.dump();
  CHECK(text.find("\"final_run_usd\": 5576000") != std::string::npos);
  for (const char* key : {"\"p10\"", "\"p50\"", "\"p90\""}) CHECK(text.find(key) != std::string::npos);

  const scenario::Scenario bare = test::load_small();
  const Ledger none = price_run(bare.cost, bare.hardware.gpu.tdp, kPublished);
  const std::string t2 = cost_json(none, bare.cost).dump();
  CHECK(t2.find("\"owned_final_run_usd\": null") != std::string::npos);
  CHECK(t2.find("\"rnd_total_usd\": null") != std::string::npos);
}
