// Calibration profiles: the built-in ones load with a source for every rate,
// bad ones are rejected with located errors, and a different profile moves a
// prediction the way it should.
#include <doctest/doctest.h>

#include "core/error.h"
#include "hardware/op_time.h"
#include "model/ops.h"
#include "scenarios/loader.h"

using namespace tcsim;

namespace {
std::string error_of(const std::string& text) {
  try {
    scenario::load_profile_text(text, "p.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kProfile = R"(name: test
gpu: h100
provenance: test
sms: 132
gemm:
  bf16: {rate: "800 TFLOP/s", source: a}
  fp8: {rate: "1600 TFLOP/s", source: b}
  tile: {m: 128, n: 128, source: c}
hbm: {rate: "3 TB/s", source: d}
attention:
  forward: {rate: "600 TFLOP/s", source: e}
  backward: {rate: "500 TFLOP/s", source: f}
)";
}  // namespace

TEST_CASE("built-in profiles load and name a source for every rate") {
  for (const std::string& name : scenario::builtin_profile_names()) {
    const hw::CalibrationProfile p = scenario::load_profile("builtin:" + name);
    CHECK(p.name == name);
    CHECK(p.sms > 0);
    for (const std::string* s : {&p.gemm_bf16.source, &p.gemm_fp8.source, &p.hbm.source, &p.attention_forward.source,
                                 &p.attention_backward.source, &p.tile_source}) {
      CHECK_FALSE(s->empty());
    }
  }
}

TEST_CASE("the H800 and H100 presets point at the rates measured in DeepSeek's H800 profile") {
  const scenario::Scenario s = scenario::load_scenario(std::string(scenario::kDefaultScenario));
  REQUIRE(s.hardware.profile.has_value());
  CHECK(s.hardware.profile->name == "deepseek-h800");
  CHECK(s.hardware.profile->gemm_fp8.source.find("deepseek-ai/profile-data") != std::string::npos);
  REQUIRE(s.hardware.profile->gemm_fp8_wgrad.has_value());
  const std::vector<std::string> on_h100{"hardware.gpu=h100"};
  const scenario::Scenario h100 = scenario::load_scenario(std::string(scenario::kDefaultScenario), on_h100);
  CHECK(h100.hardware.profile->name == "deepseek-h100");
  CHECK(h100.hardware.profile->provenance.find("the profile describes h100") != std::string::npos);
  // The public ceilings stay selectable. DeepGEMM README: 1358 TFLOP/s FP8 block-scaled on H800.
  CHECK(scenario::load_profile("builtin:public-h800").gemm_fp8.value.value() == doctest::Approx(1358e12));
}

TEST_CASE("a profile with a missing rate or a wrong unit is rejected at its key") {
  std::string no_hbm = kProfile;
  no_hbm.replace(no_hbm.find("hbm:"), std::string("hbm: {rate: \"3 TB/s\", source: d}\n").size(), "");
  CHECK(error_of(no_hbm).find("hbm: missing") != std::string::npos);
  std::string bad_unit = kProfile;
  bad_unit.replace(bad_unit.find("\"3 TB/s\""), 8, "\"3 TB\"");
  CHECK(error_of(bad_unit).starts_with("p.yaml:9:13: hbm.rate: expected a bandwidth"));
  CHECK(error_of(kProfile).empty());
}

TEST_CASE("a faster FP8 rate in the profile shortens FP8 GEMMs in proportion") {
  hw::CalibrationProfile slow = scenario::load_profile_text(kProfile, "p.yaml");
  hw::CalibrationProfile fast = slow;
  fast.gemm_fp8.value = slow.gemm_fp8.value * 2.0;
  const scenario::Scenario s = scenario::load_scenario(std::string(scenario::kDefaultScenario));
  const model::Block b =
      model::build_block(s.model, s.parallelism, s.precision, model::BlockKind::moe_layer, 3, {1, 4096});
  int gemms = 0;
  for (const model::Op& op : b.ops) {
    if (op.cls != model::OpClass::grouped_gemm || op.dtype != model::Dtype::fp8) continue;
    ++gemms;
    const double t_slow = hw::op_time(op, model::Pass::forward, slow, 112).time.value();
    const double t_fast = hw::op_time(op, model::Pass::forward, fast, 112).time.value();
    // Same waves, twice the rate: half the time.
    CHECK(t_fast == doctest::Approx(t_slow / 2));
  }
  CHECK(gemms > 0);
}
