// Fitted per-launch overheads: a measured profile's `overhead` is read by the
// loader and added once to every op that runs at that rate; public profiles
// have none, and a pass that does no work launches nothing.
#include <doctest/doctest.h>

#include "core/error.h"
#include "hardware/op_time.h"
#include "model/ops.h"
#include "scenarios/loader.h"

using namespace tcsim;

namespace {

constexpr const char* kMeasured = R"(name: measured
gpu: h100
provenance: test
sms: 100
samples: measured.samples.csv
gemm:
  bf16: {rate: "500 TFLOP/s", overhead: "4 us", source: a}
  fp8: {rate: "1000 TFLOP/s", overhead: "5 us", source: b}
  tile: {m: 128, n: 128, source: c}
hbm: {rate: "2 TB/s", overhead: "3 us", source: d}
attention:
  forward: {rate: "400 TFLOP/s", overhead: "8 us", source: e}
  backward: {rate: "300 TFLOP/s", source: f}
fit:
  gemm_bf16: {residual_rms: "1.2%", points: ["free-form text"]}
)";

}  // namespace

TEST_CASE("a measured profile's overheads and samples are read; absent ones are zero") {
  const hw::CalibrationProfile p = scenario::load_profile_text(kMeasured, "m.yaml");
  CHECK(p.samples == "measured.samples.csv");
  CHECK(p.gemm_bf16.overhead.value() == doctest::Approx(4e-6));
  CHECK(p.hbm.overhead.value() == doctest::Approx(3e-6));
  CHECK(p.attention_backward.overhead.value() == 0);
}

TEST_CASE("a negative overhead is rejected at its key") {
  std::string bad = kMeasured;
  bad.replace(bad.find("\"4 us\""), 6, "\"-4 us\"");
  try {
    scenario::load_profile_text(bad, "m.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).starts_with("m.yaml:7:41: gemm.bf16.overhead: expected a value of zero or more"));
  }
}

TEST_CASE("each op takes its work at the rate plus that rate's overhead, once") {
  const hw::CalibrationProfile p = scenario::load_profile_text(kMeasured, "m.yaml");
  model::Op gemm;
  gemm.cls = model::OpClass::gemm;
  gemm.dtype = model::Dtype::bf16;
  gemm.shape = {1280, 1280, 4096, 1};
  const Flops f(2.0 * 1280 * 1280 * 4096);
  gemm.flops = {f, f, Flops(0)};
  // One full wave of 100 tiles on 100 SMs: 2 x 1280^2 x 4096 / 500 TFLOP/s + 4 us.
  CHECK(hw::op_time(gemm, model::Pass::forward, p, 100).time.value() ==
        doctest::Approx(2.0 * 1280 * 1280 * 4096 / 500e12 + 4e-6));
  // No work in a pass: no kernel, no overhead.
  CHECK(hw::op_time(gemm, model::Pass::backward_weight, p, 100).time.value() == 0);

  model::Op mem;
  mem.cls = model::OpClass::memory;
  mem.hbm_bytes = {gigabytes(1), Bytes(0), Bytes(0)};
  // 1 GB at 2 TB/s = 0.5 ms, plus 3 us; the overhead is not scaled by the SMs left to compute.
  CHECK(hw::op_time(mem, model::Pass::forward, p, 80).time.value() == doctest::Approx(0.5e-3 + 3e-6));
  CHECK(hw::op_time(mem, model::Pass::backward_input, p, 100).time.value() == 0);

  model::Op attn;
  attn.cls = model::OpClass::attention;
  attn.flops = {Flops(4e12), Flops(8e12), Flops(0)};
  // Forward 4 TFLOP at 400 TFLOP/s x 80/100 SMs = 12.5 ms, plus 8 us; backward has no overhead.
  CHECK(hw::op_time(attn, model::Pass::forward, p, 80).time.value() == doctest::Approx(4.0 / 320.0 + 8e-6));
  CHECK(hw::op_time(attn, model::Pass::backward_input, p, 100).time.value() == doctest::Approx(8.0 / 300.0));
  CHECK(hw::op_time(attn, model::Pass::backward_weight, p, 100).time.value() == 0);
}
