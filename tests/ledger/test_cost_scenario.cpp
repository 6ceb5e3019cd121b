// The cost and reliability sections of a scenario: the DeepSeek-V3 inputs and
// their sources, and located errors for bad input (file:line:column: key).
#include <doctest/doctest.h>

#include <string>

#include "scenarios/loader.h"
#include "tests/ledger/fixtures.h"

using namespace tcsim;
using namespace tcsim::scenario;
using tcsim::test::load_error;

namespace {

constexpr const char* kCost = R"(model: mixtral-8x7b
parallelism: {tp: 1, pp: 4, ep: 8, dp: 16}
hardware: {gpu: h100, gpus_per_node: 8, nodes: 8}
training:
  seq_len: 1000
  phases:
    - {name: main, tokens: "1B", batch: 2048}
reliability:
  mtbf_per_gpu: "50000 h"
  restart_time: "10 min"
  checkpoint_interval: "1 h"
  checkpoint_bandwidth: "100 GB/s"
cost:
  rental: "$2/GPU-h"
  rental_source: test
  owned:
    capital:
      - {name: server, per_gpu: "$40K", source: list price, tag: exact}
    energy_price: "$0.08/kWh"
    energy_price_source: test
  rnd:
    compute_price: owned
    items:
      - name: experiments
        kind: development_compute_ratio
        ratio: {dist: lognormal, p5: 1.2, median: 2.2, p95: 4.0}
        source: Epoch
        tag: estimate
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the cost and reliability sections resolve with their values") {
  const Scenario s = load_scenario_text(kCost, "s.yaml");
  CHECK(s.reliability.mtbf_per_gpu.value() == 50000 * 3600.0);
  CHECK(s.reliability.restart_time.value() == 600);
  CHECK(s.reliability.checkpoint_interval.value() == 3600);
  CHECK(s.reliability.checkpoint_bandwidth.value() == 100e9);
  REQUIRE(s.cost.owned);
  CHECK(s.cost.owned->capital[0].per_gpu.value() == 40000);
  CHECK(s.cost.owned->depreciation == Depreciation::epoch);
  CHECK(s.cost.owned->depreciation_ooms_per_year == 0.14);  // Epoch AI default
  CHECK(s.cost.owned->pue == 1.25);
  REQUIRE(s.cost.rnd);
  CHECK(s.cost.rnd->compute_price == ComputePrice::owned);
  const RndItem& it = s.cost.rnd->items[0];
  CHECK(it.kind == RndKind::development_compute_ratio);
  CHECK(it.ratio.kind == DistKind::lognormal);
  CHECK(it.ratio.median == 2.2);
  CHECK(it.tag == SourceTag::estimate);
}

TEST_CASE("the DeepSeek-V3 scenario carries every cost input with a source") {
  const Scenario s = load_scenario(std::string(kDefaultScenario));
  CHECK(s.cost.rental.value() == 2.0);  // V3-TR Table 1
  // Llama 3 Table 5: 419 unexpected interruptions in 54 days on 16,384 GPUs:
  // 16,384 x 54 x 24 h / 419 = 50,676 GPU-hours between interruptions per GPU.
  REQUIRE(s.reliability.log);
  double total = 0;
  for (const InterruptionCause& c : s.reliability.log->causes) {
    total += c.interruptions;
    CHECK_MESSAGE(!c.source.empty(), c.name);
  }
  CHECK(total == 419);
  CHECK(s.reliability.mtbf_per_gpu.value() / 3600 == doctest::Approx(16384.0 * 54 * 24 / 419));
  CHECK(s.reliability.mtbf_per_gpu.value() / 3600 == doctest::Approx(50676).epsilon(1e-4));
  CHECK(s.reliability.checkpoint_young_daly);
  REQUIRE(s.cost.owned);
  for (const CapitalItem& c : s.cost.owned->capital) CHECK_MESSAGE(!c.source.empty(), c.name);
  CHECK(!s.cost.owned->energy_price_source.empty());
  REQUIRE(s.cost.rnd);
  int quantified = 0;
  for (const RndItem& it : s.cost.rnd->items) {
    if (!it.quantified) {
      CHECK_MESSAGE(!it.note.empty(), it.name);
      continue;
    }
    ++quantified;
    CHECK_MESSAGE(!it.source.empty(), it.name);
    CHECK_MESSAGE(it.tag != SourceTag::exact, it.name);  // no R&D item beyond the final run is published exactly
  }
  CHECK(quantified >= 5);
}

TEST_CASE("--set mtbf_per_gpu rescales a log's total and keeps its split") {
  const Scenario s =
      load_scenario(std::string(kDefaultScenario), std::vector<std::string>{"reliability.mtbf_per_gpu=\"25000 h\""});
  CHECK(s.reliability.mtbf_per_gpu.value() == 25000 * 3600.0);
  REQUIRE(s.reliability.log);
  CHECK(s.reliability.log->causes[1].interruptions == 72);  // HBM3, Llama 3 Table 5
}

TEST_CASE("bad cost input is rejected with file, line, column and key") {
  SUBCASE("an unknown key, with a hint") {
    const std::string e =
        load_error(replace(kCost, "energy_price_source: test\n", "energy_price_source: test\n    pua: 1.1\n"));
    CHECK(has(e, "s.yaml:21:5"));
    CHECK(has(e, "cost.owned.pua"));
    CHECK(has(e, "did you mean \"pue\""));
  }
  SUBCASE("a triangular whose mode is outside its range") {
    const std::string e = load_error(replace(kCost, "{dist: lognormal, p5: 1.2, median: 2.2, p95: 4.0}",
                                             "{dist: triangular, low: 1, mode: 5, high: 3}"));
    CHECK(has(e, "s.yaml:26:"));
    CHECK(has(e, "cost.rnd.items[0].ratio.mode"));
  }
  SUBCASE("a lognormal with one quantile") {
    const std::string e = load_error(
        replace(kCost, "{dist: lognormal, p5: 1.2, median: 2.2, p95: 4.0}", "{dist: lognormal, median: 2.2}"));
    CHECK(has(e, "cost.rnd.items[0].ratio"));
    CHECK(has(e, "two or three of median, p5 and p95"));
  }
  SUBCASE("an unknown distribution") {
    const std::string e = load_error(replace(kCost, "dist: lognormal", "dist: lognormel"));
    CHECK(has(e, "cost.rnd.items[0].ratio.dist"));
    CHECK(has(e, "did you mean \"lognormal\""));
  }
  SUBCASE("a quantified item without a source") {
    const std::string e = load_error(replace(kCost, "        source: Epoch\n", ""));
    CHECK(has(e, "s.yaml:24:"));
    CHECK(has(e, "cost.rnd.items[0].source: missing"));
  }
  SUBCASE("money where GPU-hours belong") {
    const std::string e =
        load_error(replace(replace(kCost, "kind: development_compute_ratio", "kind: gpu_hours"),
                           "ratio: {dist: lognormal, p5: 1.2, median: 2.2, p95: 4.0}", "amount: \"$5M\""));
    CHECK(has(e, "s.yaml:26:"));
    CHECK(has(e, "cost.rnd.items[0].amount"));
    CHECK(has(e, "GPU-hours like"));
  }
  SUBCASE("owned compute without an owned section") {
    std::string text = kCost;
    const auto from = text.find("  owned:\n");
    const auto to = text.find("  rnd:\n");
    text.erase(from, to - from);
    const std::string e = load_error(text);
    CHECK(has(e, "cost.rnd.compute_price"));
    CHECK(has(e, "needs cost.owned"));
  }
  SUBCASE("a fraction above one") {
    const std::string e = load_error(kCost, {"cost.owned.power_fraction=1.5"});
    CHECK(has(e, "--set:"));
    CHECK(has(e, "cost.owned.power_fraction"));
  }
}

TEST_CASE("bad reliability input is rejected with file, line, column and key") {
  SUBCASE("an interval that is neither a duration nor young-daly") {
    const std::string e = load_error(replace(kCost, "checkpoint_interval: \"1 h\"", "checkpoint_interval: often"));
    CHECK(has(e, "s.yaml:11:"));
    CHECK(has(e, "reliability.checkpoint_interval"));
    CHECK(has(e, "young-daly"));
  }
  SUBCASE("interruptions without checkpoints to resume from") {
    const std::string e = load_error(replace(kCost, "  checkpoint_interval: \"1 h\"\n", ""));
    CHECK(has(e, "reliability.checkpoint_interval"));
    CHECK(has(e, "interruptions need checkpoints"));
  }
  SUBCASE("young-daly without a storage bandwidth") {
    const std::string e =
        load_error(replace(replace(kCost, "checkpoint_interval: \"1 h\"", "checkpoint_interval: young-daly"),
                           "  checkpoint_bandwidth: \"100 GB/s\"\n", ""));
    CHECK(has(e, "s.yaml:11:"));
    CHECK(has(e, "young-daly needs checkpoint_bandwidth"));
  }
  SUBCASE("a log with no interruptions") {
    const std::string e =
        load_error(kCost, {"reliability.interruption_log={gpus: 8, window: \"1 day\", source: t, causes: [{name: a, "
                           "interruptions: 0}]}"});
    CHECK(has(e, "reliability.interruption_log.causes"));
  }
}

TEST_CASE("a scenario without cost or reliability sections loads: no interruptions, nothing priced") {
  const Scenario s = test::load_small();
  CHECK(s.reliability.mtbf_per_gpu.value() == 0);
  CHECK(s.cost.rental.value() == 0);
  CHECK(!s.cost.owned);
  CHECK(!s.cost.rnd);
}
