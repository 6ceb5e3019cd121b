// The accounting views (cost/views.h) against hand arithmetic: the headline
// as published, the company fleet amortised over its period, brackets, and a
// peer priced with its own server.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cost/ledger.h"
#include "cost/views.h"
#include "tests/ledger/fixtures.h"

using namespace tcsim;
using namespace tcsim::cost;

namespace {

// A cost section with every view, on the small scenario (64 H100).
constexpr const char* kCost = R"(
cost:
  rental: "$2/GPU-h"
  rental_source: "test rate"
  owned:
    capital:
      - per_gpu: catalog
      - {name: network, per_gpu: "$1,000", source: "test", tag: estimate}
    depreciation: epoch
    depreciation_ooms_per_year: 0.14
    energy_price: "$0.10/kWh"
    energy_price_source: "test"
    power_fraction: 0.75
    pue: 1.25
    server_power_factor: 1.0
  headline: {gpu_hours: "1M GPU-h", rental: "$2/GPU-h", usd: "$2M", source: "published"}
  company:
    period: "0.5 years"
    period_source: "test"
    fleet:
      - {name: cards, gpus: 1000, per_gpu: "$10,000", power_per_gpu: "500 W", source: "test", tag: derived}
    brackets:
      - {name: capex, capital: "$1B", source: "analyst", tag: estimate}
      - {name: opex, per_year: "$100M", source: "analyst", tag: estimate}
      - {name: total, usd: "$7M", source: "analyst", tag: estimate}
  context:
    - {name: peer, gpu_hours: "1M GPU-h", gpu: a100, source: "card", tag: exact}
)";

std::string scenario_text() {
  std::string s = test::kSmall;
  return s + kCost;
}

const AccountingView& view(const std::vector<AccountingView>& views, const std::string& id) {
  for (const AccountingView& v : views) {
    if (v.id == id) return v;
  }
  FAIL("no view " << id);
  return views.front();
}

const double kLn10 = std::log(10.0);

}  // namespace

TEST_CASE("five views: the headline as published, the company fleet over its period, brackets beside it, a peer") {
  const scenario::Scenario s = scenario::load_scenario_text(scenario_text(), "s.yaml");
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, {{"main", GpuHours(1000)}}, RndOptions{1, 200});

  // 1: 1M GPU-h x $2.
  const AccountingView& h = view(l.views, "headline");
  CHECK(h.given);
  CHECK(h.usd.p50.value() == doctest::Approx(2e6));

  // 2: the ledger's own figures.
  CHECK(view(l.views, "final_run_rental").usd.p50.value() == doctest::Approx(2000));
  CHECK(view(l.views, "final_run_owned").usd.p50.value() == doctest::Approx(l.owned_final_run->value()));

  // 3: no R&D items.
  CHECK_FALSE(view(l.views, "development").given);
  CHECK(view(l.views, "development").missing.find("cost.rnd") != std::string::npos);

  // 4: 1000 GPUs for half a year; a GPU-year is $10,000 x 0.14 x ln 10 of capital and
  // 0.5 kW x 1.25 PUE x 8760 h x $0.10/kWh of energy.
  const AccountingView& c = view(l.views, "company");
  const double per_gpu_year = 10000 * 0.14 * kLn10 + 0.5 * 1.25 * 8760 * 0.10;
  CHECK(c.usd.p50.value() == doctest::Approx(1000 * per_gpu_year * 0.5));
  CHECK(c.usd.p10.value() == doctest::Approx(c.usd.p90.value()));  // a fixed period
  REQUIRE(c.parts.size() == 4);
  CHECK(c.parts[1].role == ViewPart::Role::bracket);
  CHECK(c.parts[1].usd.p50.value() == doctest::Approx(1e9 * 0.14 * kLn10 * 0.5));
  CHECK(c.parts[2].usd.p50.value() == doctest::Approx(100e6 * 0.5));
  CHECK(c.parts[3].usd.p50.value() == doctest::Approx(7e6));  // as published, not scaled

  // 5: 1M GPU-h of A100 at the headline's $2, and on owned hardware: the A100's
  // server ($199,000 / 8) in place of the catalog server, the $1,000 network kept,
  // 400 W x 1.0 x 0.75 x 1.25 PUE of power.
  const AccountingView& p = view(l.views, "peer");
  CHECK(p.usd.p50.value() == doctest::Approx(2e6));
  REQUIRE(p.parts.size() == 2);
  const double a100_rate = (199000.0 / 8 + 1000) * 0.14 * kLn10 / 8760 + 0.4 * 0.75 * 1.25 * 0.10;
  CHECK(p.parts[1].usd.p50.value() == doctest::Approx(1e6 * a100_rate));
}

TEST_CASE("a view without inputs is listed with the reason, never left out silently") {
  const scenario::Scenario s = test::load_small({"cost.rental=$2/GPU-h"});
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, {{"main", GpuHours(10)}}, RndOptions{1, 10});
  std::vector<int> numbers;
  for (const AccountingView& v : l.views) numbers.push_back(v.number);
  CHECK(numbers == std::vector<int>{1, 2, 2, 3, 4, 5});
  CHECK(view(l.views, "headline").missing.find("cost.headline") != std::string::npos);
  CHECK(view(l.views, "final_run_owned").missing.find("cost.owned") != std::string::npos);
  CHECK(view(l.views, "company").missing.find("cost.company") != std::string::npos);
  CHECK(view(l.views, "peer").missing.find("cost.context") != std::string::npos);
}

TEST_CASE("without a rental rate the rented views are not given, never $0") {
  const scenario::Scenario s = test::load_small();
  const Ledger l = price_run(s.cost, s.hardware.gpu.tdp, {{"main", GpuHours(10)}}, RndOptions{1, 10});
  const AccountingView& rental = view(l.views, "final_run_rental");
  CHECK_FALSE(rental.given);
  CHECK(rental.missing.find("cost.rental") != std::string::npos);
}

TEST_CASE("a published headline whose total is not its GPU-hours x rate is refused") {
  std::string text = scenario_text();
  text.replace(text.find("usd: \"$2M\""), 10, "usd: \"$3M\"");
  CHECK(test::load_error(text).find("cost.headline.usd: $3M is not gpu_hours x rental") != std::string::npos);
}

TEST_CASE("the built-in DeepSeek-V3 headline is V3-TR Table 1: 2.788M H800 GPU-hours x $2 = $5.576M") {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3");
  REQUIRE(s.cost.headline.has_value());
  CHECK((s.cost.headline->gpu_hours * s.cost.headline->rental).value() == doctest::Approx(5.576e6));
  REQUIRE(s.cost.company.has_value());
  // Fire-Flyer 2 per GPU: 60% of a DGX A100 ($199,000 / 8) plus its network, 350 of 11,250 server units.
  const double ff2 = 0.6 * 199000 / 8 * (1 + 350.0 / 11250);
  CHECK(s.cost.company->fleet.at(0).per_gpu.value() == doctest::Approx(ff2).epsilon(0.001));
  // The inference fleet: 226.75 nodes x 8 H800.
  CHECK(s.cost.company->fleet.at(2).gpus == doctest::Approx(226.75 * 8).epsilon(0.001));
  REQUIRE(s.cost.context.size() == 1);
  CHECK(s.cost.context[0].gpu_hours.value() == doctest::Approx(30.84e6));
}
