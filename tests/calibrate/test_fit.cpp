// The fits recover the parameters synthetic samples were made from
// (synthetic.h: hand formulas, seeded noise), choose the right GEMM tile, and
// handle degenerate input as documented.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "calibrate/fit/fit.h"
#include "calibrate/fit/samples.h"
#include "tests/calibrate/synthetic.h"

using namespace tcsim;
using namespace tcsim::calibrate;
using tcsim_test::FixtureTruth;
using tcsim_test::SyntheticSamples;

namespace {

// 2% noise per repeat, 9 repeats: the median's noise is about 2% x 1.25 / 3 = 0.8%.
Fits fit_synthetic(const FixtureTruth& t, std::uint64_t seed) {
  SyntheticSamples s("NVIDIA H100 80GB HBM3", 132, seed, 0.02, 9);
  s.header();
  tcsim_test::add_all_families(s, t);
  return fit_samples(parse_samples(s.text(), "synthetic.csv"));
}

}  // namespace

TEST_CASE("GEMM fits recover the rate, the launch time and the output tile") {
  const FixtureTruth t;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    const Fits f = fit_synthetic(t, seed);
    REQUIRE(f.gemm_bf16.has_value());
    REQUIRE(f.gemm_fp8.has_value());
    MESSAGE(
        fmt::format("seed {}: BF16 {:.1f} TFLOP/s t0 {:.2f} us tile {}x{} rms {:.2f}%; FP8 {:.1f} TFLOP/s t0 "
                    "{:.2f} us tile {}x{} rms {:.2f}%",
                    seed, f.gemm_bf16->rate.value() / 1e12, f.gemm_bf16->t0.value() * 1e6, f.gemm_bf16->tile.m,
                    f.gemm_bf16->tile.n, 100 * f.gemm_bf16->rms, f.gemm_fp8->rate.value() / 1e12,
                    f.gemm_fp8->t0.value() * 1e6, f.gemm_fp8->tile.m, f.gemm_fp8->tile.n, 100 * f.gemm_fp8->rms));
    // Made with R = 700 TFLOP/s, t0 = 5 us, tile 128 x 256 (BF16); 1200 TFLOP/s, 6 us (FP8).
    CHECK(f.gemm_bf16->tile == Tile{128, 256});
    CHECK(f.gemm_fp8->tile == Tile{128, 256});
    CHECK(f.gemm_bf16->rate.value() == doctest::Approx(700e12).epsilon(0.01));
    CHECK(f.gemm_fp8->rate.value() == doctest::Approx(1200e12).epsilon(0.01));
    CHECK(f.gemm_bf16->t0.value() == doctest::Approx(5e-6).epsilon(0.1));
    CHECK(f.gemm_fp8->t0.value() == doctest::Approx(6e-6).epsilon(0.1));
    // Residuals are the noise of a median: a few percent at most.
    CHECK(f.gemm_bf16->rms < 0.02);
    CHECK(f.gemm_bf16->max < 0.05);
    CHECK(f.gemm_bf16->points.size() == std::size(tcsim_test::kGemmShapes));
    CHECK(f.gemm_bf16->repeats() == 9 * static_cast<int>(std::size(tcsim_test::kGemmShapes)));
    // Every candidate tile was tried; the public profiles' 128 x 128 fits clearly worse.
    REQUIRE(f.gemm_bf16->tiles.size() == kCandidateTiles.size());
    CHECK(f.gemm_bf16->tiles.front().tile == Tile{128, 128});
    CHECK(f.gemm_bf16->tiles.front().rms > 3 * f.gemm_bf16->rms);
    CHECK_FALSE(f.bf16_own_tile.has_value());
  }
}

TEST_CASE("memory-bound and attention fits recover their rates and launch times") {
  const FixtureTruth t;
  const Fits f = fit_synthetic(t, 7);
  REQUIRE(f.hbm.has_value());
  REQUIRE(f.hbm_copy.has_value());
  REQUIRE(f.hbm_triad.has_value());
  REQUIRE(f.attention_forward.has_value());
  REQUIRE(f.attention_backward.has_value());
  MESSAGE(fmt::format(
      "hbm {:.3f} TB/s t0 {:.2f} us; copy {:.3f} TB/s; triad {:.3f} TB/s; attention fwd {:.1f} "
      "TFLOP/s t0 {:.2f} us, bwd {:.1f} TFLOP/s t0 {:.2f} us",
      f.hbm->rate.value() / 1e12, f.hbm->t0.value() * 1e6, f.hbm_copy->rate.value() / 1e12,
      f.hbm_triad->rate.value() / 1e12, f.attention_forward->rate.value() / 1e12, f.attention_forward->t0.value() * 1e6,
      f.attention_backward->rate.value() / 1e12, f.attention_backward->t0.value() * 1e6));
  // Made with HBM 2.8 TB/s + 3 us (rmsnorm, swiglu, fp8_cast), copy 3.0 and triad 3.05 TB/s.
  CHECK(f.hbm->rate.value() == doctest::Approx(2.8e12).epsilon(0.015));
  CHECK(f.hbm->t0.value() == doctest::Approx(3e-6).epsilon(0.2));
  CHECK(f.hbm->points.size() == 9);
  CHECK(f.hbm_copy->rate.value() == doctest::Approx(3.0e12).epsilon(0.015));
  CHECK(f.hbm_triad->rate.value() == doctest::Approx(3.05e12).epsilon(0.015));
  // Attention 550 TFLOP/s + 8 us forward, 420 TFLOP/s + 12 us backward.
  CHECK(f.attention_forward->rate.value() == doctest::Approx(550e12).epsilon(0.015));
  CHECK(f.attention_backward->rate.value() == doctest::Approx(420e12).epsilon(0.015));
  CHECK(f.attention_forward->t0.value() >= 0);
  CHECK(f.attention_backward->rms < 0.02);
}

TEST_CASE("with exact data the fits are exact") {
  // No noise: R and t0 come back to rounding (times written to 7 significant digits).
  SyntheticSamples s("NVIDIA H100 80GB HBM3", 132, 1, 0.0, 1);
  s.header();
  tcsim_test::add_all_families(s, FixtureTruth{});
  const Fits f = fit_samples(parse_samples(s.text(), "exact.csv"));
  CHECK(f.gemm_bf16->rate.value() == doctest::Approx(700e12).epsilon(1e-5));
  CHECK(f.gemm_bf16->t0.value() == doctest::Approx(5e-6).epsilon(1e-3));
  CHECK(f.gemm_bf16->rms < 1e-6);
  CHECK(f.hbm->rate.value() == doctest::Approx(2.8e12).epsilon(1e-5));
  CHECK(f.attention_backward->t0.value() == doctest::Approx(12e-6).epsilon(1e-3));
}

TEST_CASE("a negative launch time is refit through zero") {
  // Times proportional to work less a constant: the free fit's t0 would be -1 us.
  SyntheticSamples s("NVIDIA H100 80GB HBM3", 132, 1, 0.0, 1);
  s.header();
  for (const double mib : {64.0, 128.0, 256.0}) {
    s.memory("hbm_copy", 0, 0, mib * 1048576, {.rate = 3e12, .t0 = -1e-6});
  }
  const Fits f = fit_samples(parse_samples(s.text(), "neg.csv"));
  REQUIRE(f.hbm_copy.has_value());
  CHECK(f.hbm_copy->t0.value() == 0);
  CHECK(f.hbm_copy->t0_pinned);
  CHECK(f.hbm_copy->note.find("negative t0") != std::string::npos);
  // Through zero the rate must absorb the missing microsecond: a little above 3 TB/s.
  CHECK(f.hbm_copy->rate.value() > 3e12);
}

TEST_CASE("one point, or points of one size, give a rate with t0 = 0 and say so") {
  SyntheticSamples one("NVIDIA H100 80GB HBM3", 132, 1, 0.0, 3);
  one.header();
  // 8192^3 x 2 FLOP in full waves of 128 x 128 tiles? 64 x 64 = 4096 tiles over 132 SMs: not whole waves.
  one.gemm("bf16", 8192, 8192, 8192, 1, {.rate = 700e12, .t0 = 0, .tile_m = 128, .tile_n = 128});
  const Fits f = fit_samples(parse_samples(one.text(), "one.csv"));
  REQUIRE(f.gemm_bf16.has_value());
  CHECK(f.gemm_bf16->degenerate);
  CHECK(f.gemm_bf16->t0.value() == 0);
  // The tile cannot be told from one shape: 128 x 128 is kept, and then the rate is exact.
  CHECK(f.gemm_bf16->tile == Tile{128, 128});
  CHECK(f.gemm_bf16->rate.value() == doctest::Approx(700e12).epsilon(1e-6));
  CHECK(f.gemm_bf16->note.find("one shape") != std::string::npos);
  CHECK(f.gemm_bf16->note.find("kept 128 x 128") != std::string::npos);

  // Two variants of one size: still one size.
  SyntheticSamples same("NVIDIA H100 80GB HBM3", 132, 1, 0.0, 1);
  same.header();
  same.memory("rmsnorm", 1024, 7168, 3e7, {.rate = 2e12, .t0 = 0});
  same.memory("swiglu", 1024, 2048, 3e7, {.rate = 2e12, .t0 = 0});
  const Fits g = fit_samples(parse_samples(same.text(), "same.csv"));
  CHECK(g.hbm->degenerate);
  CHECK(g.hbm->rate.value() == doctest::Approx(2e12));
  CHECK(g.hbm->note.find("2 shapes of one size") != std::string::npos);
}

TEST_CASE("when BF16 and FP8 prefer different tiles, both are refit at the tile best for both") {
  FixtureTruth t;
  t.fp8.tile_m = 128;
  t.fp8.tile_n = 128;
  SyntheticSamples s("NVIDIA H100 80GB HBM3", 132, 5, 0.0, 1);
  s.header();
  tcsim_test::add_all_families(s, t);
  const Fits f = fit_samples(parse_samples(s.text(), "two-tiles.csv"));
  REQUIRE(f.bf16_own_tile.has_value());
  REQUIRE(f.fp8_own_tile.has_value());
  CHECK(f.bf16_own_tile->tile == Tile{128, 256});
  CHECK(f.fp8_own_tile->tile == Tile{128, 128});
  // One tile in the profile: both fits now use the same one.
  CHECK(f.gemm_bf16->tile == f.gemm_fp8->tile);
  CHECK_FALSE(f.notes.empty());
}

TEST_CASE("FP8 attention rows are left out of the BF16 attention rates, with a note") {
  SyntheticSamples s("NVIDIA H100 80GB HBM3", 132, 1, 0.0, 1);
  s.header();
  s.raw("attention_fwd,fa3,fp8_e4m3,4096,128,128,1,549755813888,0,0,6e-4");
  const Fits f = fit_samples(parse_samples(s.text(), "fp8-attn.csv"));
  CHECK_FALSE(f.attention_forward.has_value());
  REQUIRE(f.notes.size() == 1);
  CHECK(f.notes[0].find("left out 1 fp8_e4m3 attention") != std::string::npos);
}
