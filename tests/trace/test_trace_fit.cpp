// Fitting kernel families to a trace: synthetic kernels whose durations come
// from known rates and per-launch times, fitted back; the cells, the rules
// and the written profile.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "calibrate/trace/op_families.h"
#include "calibrate/trace/trace_fit.h"
#include "hardware/op_time.h"
#include "scenarios/loader.h"

namespace tcsim::trace {
namespace {

hw::CalibrationProfile profile(double fp8, double hbm) {
  hw::CalibrationProfile p;
  p.name = "base";
  p.gpu = "h800";
  p.provenance = "test";
  p.sms = 1;
  p.tile_m = 1024;  // one tile per 1024 x 1024 output: one full wave on one SM, no quantisation loss
  p.tile_n = 1024;
  p.tile_source = "test";
  p.gemm_fp8 = {FlopsPerSecond(fp8), "base fp8", Seconds(0)};
  p.gemm_bf16 = {FlopsPerSecond(fp8 / 2), "base bf16", Seconds(0)};
  p.hbm = {BytesPerSecond(hbm), "base hbm", Seconds(0)};
  p.attention_forward = {FlopsPerSecond(fp8 / 2), "base attention", Seconds(0)};
  p.attention_backward = {FlopsPerSecond(fp8 / 2), "base attention", Seconds(0)};
  return p;
}

model::Op gemm(std::int64_t k) {
  model::Op op;
  op.name = "gemm";
  op.cls = model::OpClass::gemm;
  op.dtype = model::Dtype::fp8;
  op.shape = {1024, 1024, k, 1};
  const Flops f(2.0 * 1024 * 1024 * static_cast<double>(k));
  op.flops = {f, f, f};
  return op;
}

model::Op memory(model::MemoryKind kind, double f, double b, double w) {
  model::Op op;
  op.name = "mem";
  op.cls = model::OpClass::memory;
  op.memory = kind;
  op.hbm_bytes = {Bytes(f), Bytes(b), Bytes(w)};
  return op;
}

constexpr const char* kRegions[] = {"layer(F)", "layer(B)", "layer(W)"};

// One kernel per op and pass with work, timed by `truth`, in the pass's region.
KernelTable kernels_of(const model::Block& b, const hw::CalibrationProfile& truth) {
  KernelTable t;
  for (const model::Op& op : b.ops) {
    for (int pass = 0; pass < model::kPasses; ++pass) {
      const hw::OpTime time = hw::op_time(op, static_cast<model::Pass>(pass), truth, 1);
      if (time.time.value() <= 0) continue;
      KernelRow r;
      r.name = op.name;
      r.family = family_of(op, static_cast<model::Pass>(pass));
      r.duration_us = time.time.value() * 1e6;
      r.region = kRegions[pass];
      t.rows.push_back(r);
    }
  }
  return t;
}

const FamilyFit& fit_of(const TraceFit& f, KernelFamily family) {
  for (const FamilyFit& x : f.families) {
    if (x.family == family) return x;
  }
  FAIL("no fit for " << family_name(family));
  return f.families.front();
}

}  // namespace

TEST_CASE("a region's pass: the user's rules first, then the (F), (B), (W) suffix") {
  const std::vector<RegionRule> rules{
      {"warm-up", std::nullopt}, {"step0", model::Pass::forward}, {"odd(F)", model::Pass::backward_weight}};
  CHECK(region_cell("attn(F)", {}) == 0);
  CHECK(region_cell("combine(B)", {}) == 1);
  CHECK(region_cell("mlp(W)", {}) == 2);
  CHECK(region_cell("1F1B", {}) == kWholeTrace);
  CHECK(region_cell("", {}) == kWholeTrace);
  CHECK(region_cell("warm-up", rules) == -1);
  CHECK(region_cell("step0", rules) == 0);
  CHECK(region_cell("odd(F)", rules) == 2);
}

TEST_CASE("every memory family of the op-time model is a trace family of the same name, and back") {
  for (const Named<hw::MemoryFamily>& m : hw::kMemoryFamilyNames) {
    CAPTURE(m.name);
    const KernelFamily k = kernel_family(m.value);
    CHECK(k != KernelFamily::unknown);
    CHECK(family_name(k) == m.name);
    CHECK(memory_family_of(k) == m.value);
  }
  CHECK_FALSE(memory_family_of(KernelFamily::gemm_fp8).has_value());
}

TEST_CASE("rates and per-launch times come back from kernels timed by known ones") {
  // Truth: FP8 GEMMs at 1 PFLOP/s, their weight gradients at 0.5 PFLOP/s; FP8 casts at 1 TB/s plus 2 us a
  // launch. The base profile is wrong on purpose (2 PFLOP/s, 3 TB/s, no launch time).
  hw::CalibrationProfile truth = profile(1e15, 1e12);
  truth.gemm_fp8_wgrad = hw::Sourced<FlopsPerSecond>{FlopsPerSecond(5e14), "truth", Seconds(0)};
  truth.memory[static_cast<std::size_t>(hw::MemoryFamily::quantize)] =
      hw::Sourced<BytesPerSecond>{BytesPerSecond(1e12), "truth", Seconds(2e-6)};
  model::Block b;
  b.ops = {gemm(1024), gemm(2048), memory(model::MemoryKind::quantize, 1e6, 2e6, 3e6),
           memory(model::MemoryKind::quantize, 4e6, 1e6, 5e6)};
  const KernelTable measured = kernels_of(b, truth);
  const TraceFit fit = fit_trace({b}, profile(2e15, 3e12), 1, measured, {.trace_name = "synthetic.json"});

  // GEMMs: two cells (forward, input gradient), the rate alone.
  const FamilyFit& g = fit_of(fit, KernelFamily::gemm_fp8);
  CHECK(g.outcome == FitOutcome::rate_only);
  CHECK(g.rate == doctest::Approx(1e15));
  CHECK(fit.profile.gemm_fp8.value.value() == doctest::Approx(1e15));
  CHECK(fit.profile.gemm_fp8.source.find("fitted to 4 gemm-fp8 kernels") != std::string::npos);
  // Weight gradients: one cell, their own rate.
  REQUIRE(fit.profile.gemm_fp8_wgrad.has_value());
  CHECK(fit.profile.gemm_fp8_wgrad->value.value() == doctest::Approx(5e14));
  // Casts in three cells: forward 2 launches, 5 MB: 4 + 5 = 9 us; input gradient 2, 3 MB: 7 us; weight
  // gradient 2, 8 MB: 12 us. Three equations, two unknowns, consistent: t0 = 2 us, 1 TB/s exactly.
  const FamilyFit& q = fit_of(fit, KernelFamily::quantize);
  CHECK(q.outcome == FitOutcome::fitted);
  REQUIRE(q.cells.size() == 3);
  CHECK(q.cells[0].measured_us == doctest::Approx(9));
  CHECK(q.cells[1].measured_us == doctest::Approx(7));
  CHECK(q.cells[2].measured_us == doctest::Approx(12));
  CHECK(q.t0_us == doctest::Approx(2));
  CHECK(q.rate == doctest::Approx(1e12));
  CHECK(q.rms < 1e-9);
  const auto& quant = fit.profile.memory[static_cast<std::size_t>(hw::MemoryFamily::quantize)];
  REQUIRE(quant.has_value());
  CHECK(quant->overhead.value() == doctest::Approx(2e-6));
  // What the trace does not rate stays the base's.
  CHECK(fit.profile.hbm.value.value() == doctest::Approx(3e12));
  CHECK(fit.profile.hbm.source == "base hbm");
  // Base prediction beside: casts at 3 TB/s, no launch time: 16 MB / 3 TB/s.
  CHECK(q.base_us == doctest::Approx(16e6 / 3e12 * 1e6));
}

TEST_CASE("the written profile loads back with every fitted rate") {
  hw::CalibrationProfile truth = profile(1e15, 1e12);
  truth.memory[static_cast<std::size_t>(hw::MemoryFamily::norm)] =
      hw::Sourced<BytesPerSecond>{BytesPerSecond(8e11), "truth", Seconds(0)};
  model::Block b;
  b.ops = {gemm(1024), memory(model::MemoryKind::norm, 2e6, 3e6, 0)};
  const TraceFitOptions options{.trace_name = "synthetic.json", .source = "tests", .command = "tcsim calibrate"};
  TraceFit fit = fit_trace({b}, profile(2e15, 3e12), 1, kernels_of(b, truth), options);
  fit.profile.name = "fitted";
  const std::string yaml = trace_profile_yaml(fit, options);
  const hw::CalibrationProfile back = scenario::load_profile_text(yaml, "fitted.yaml");
  CHECK(back.gemm_fp8.value.value() == doctest::Approx(1e15).epsilon(1e-5));
  CHECK(back.gemm_fp8.source == fit.profile.gemm_fp8.source);
  const auto& norm = back.memory[static_cast<std::size_t>(hw::MemoryFamily::norm)];
  REQUIRE(norm.has_value());
  CHECK(norm->value.value() == doctest::Approx(8e11).epsilon(1e-5));
  CHECK(yaml.find("command: \"tcsim calibrate\"") != std::string::npos);
  CHECK(yaml.find("outcome: \"rate only\"") != std::string::npos);
}

TEST_CASE("too little time keeps the base rate; rules skip regions; kernels of no known pass fit the whole trace") {
  const hw::CalibrationProfile truth = profile(1e15, 1e12);
  model::Block b;
  // A big GEMM (about 6.4 us of 21 us in all) and a norm of 1 kB per pass (1 ns: under 1%).
  b.ops = {gemm(1024), memory(model::MemoryKind::norm, 1e3, 1e3, 0), memory(model::MemoryKind::residual, 4e6, 4e6, 0)};
  KernelTable measured = kernels_of(b, truth);
  // Warm-up kernels the user leaves out, a copy nothing models, and a residual add outside any pass.
  measured.rows.push_back({.name = "warm", .family = KernelFamily::gemm_fp8, .duration_us = 1000, .region = "warm"});
  measured.rows.push_back({.name = "copy", .family = KernelFamily::memcpy, .duration_us = 3, .region = "x(F)"});
  measured.rows.push_back({.name = "add", .family = KernelFamily::elementwise, .duration_us = 4, .region = "misc"});
  measured.rows.push_back({.name = "nccl", .family = KernelFamily::communication, .duration_us = 500});
  const TraceFit fit =
      fit_trace({b}, profile(2e15, 3e12), 1, measured, {.rules = {{"warm", std::nullopt}}, .trace_name = "t"});
  CHECK(fit_of(fit, KernelFamily::gemm_fp8).rate == doctest::Approx(1e15));  // the warm-up left out
  CHECK(fit_of(fit, KernelFamily::norm).outcome == FitOutcome::kept);
  CHECK_FALSE(fit.profile.memory[static_cast<std::size_t>(hw::MemoryFamily::norm)].has_value());
  CHECK(fit_of(fit, KernelFamily::memcpy).outcome == FitOutcome::not_modelled);
  // Elementwise: one kernel in "misc" puts the family in one cell: 8 MB in 8 + 4 = 12 us.
  const FamilyFit& e = fit_of(fit, KernelFamily::elementwise);
  REQUIRE(e.cells.size() == 1);
  CHECK(e.cells[0].cell == kWholeTrace);
  CHECK(e.rate == doctest::Approx(8e6 / 12e-6));
  CHECK(fit.unaligned == 1);
  for (const FamilyFit& f : fit.families) CHECK(f.family != KernelFamily::communication);
}

}  // namespace tcsim::trace
