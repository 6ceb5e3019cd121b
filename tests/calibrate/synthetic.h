// Synthetic calibration samples from known parameters, for the fit tests and
// the committed fixture (data/synthetic-h100.csv). The times come from hand
// formulas written here, independent of the code under test:
//   GEMM:      time = t0 + flops / (R x e),  e = m n g / (waves x sms x tm x tn),
//              tiles = ceil(m/tm) ceil(n/tn) g, waves = ceil(tiles / sms), m per group
//   others:    time = t0 + work / R
// each repeat multiplied by (1 + noise x z), z a seeded standard normal.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "core/random.h"

namespace tcsim_test {

struct GemmTruth {
  double rate = 0;  // FLOP/s of full waves
  double t0 = 0;    // s
  int tile_m = 0;
  int tile_n = 0;
};

struct LinearTruth {
  double rate = 0;  // FLOP/s or B/s
  double t0 = 0;    // s
};

// Useful over computed tile area, by hand: `m` rows per group.
inline double hand_wave_efficiency(std::int64_t m, std::int64_t n, int groups, int tm, int tn, int sms) {
  const std::int64_t tiles = ((m + tm - 1) / tm) * ((n + tn - 1) / tn) * groups;
  const std::int64_t waves = (tiles + sms - 1) / sms;
  return static_cast<double>(m) * static_cast<double>(n) * groups /
         (static_cast<double>(waves) * sms * tm * static_cast<double>(tn));
}

class SyntheticSamples {
 public:
  SyntheticSamples(std::string gpu, int sms, std::uint64_t seed, double noise, int repeats)
      : sms_(sms), rng_(seed), noise_(noise), repeats_(repeats) {
    text_ += fmt::format("# gpu: {}\n# sms: {}\n", gpu, sms);
  }

  void comment(const std::string& key, const std::string& value) { text_ += fmt::format("# {}: {}\n", key, value); }
  void header() { text_ += "family,variant,dtype,m,n,k,groups,flops,bytes,repeat,seconds\n"; }

  // Dense (groups 1) or grouped GEMM; `m` is the total rows over `groups`.
  void gemm(const std::string& dtype, std::int64_t m, std::int64_t n, std::int64_t k, int groups, const GemmTruth& t) {
    const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    const double e = hand_wave_efficiency(m / groups, n, groups, t.tile_m, t.tile_n, sms_);
    rows(groups > 1 ? "grouped_gemm" : "gemm", "synthetic", dtype, m, n, k, groups, flops, 0,
         t.t0 + flops / (t.rate * e));
  }

  void memory(const std::string& family, std::int64_t m, std::int64_t n, double bytes, const LinearTruth& t) {
    rows(family, "synthetic", "bf16", m, n, 0, 1, 0, bytes, t.t0 + bytes / t.rate);
  }

  void attention(const std::string& family, std::int64_t seq, std::int64_t heads, std::int64_t head_dim, int batch,
                 double flops, const LinearTruth& t) {
    rows(family, "synthetic", "bf16", seq, heads, head_dim, batch, flops, 0, t.t0 + flops / t.rate);
  }

  // A row written as is, for tests of odd input.
  void raw(const std::string& line) { text_ += line + "\n"; }

  const std::string& text() const { return text_; }

 private:
  void rows(const std::string& family, const std::string& variant, const std::string& dtype, std::int64_t m,
            std::int64_t n, std::int64_t k, int groups, double flops, double bytes, double seconds) {
    for (int r = 0; r < repeats_; ++r) {
      const double z = tcsim::normal_quantile(rng_.uniform());
      text_ += fmt::format("{},{},{},{},{},{},{},{:.0f},{:.0f},{},{:.6e}\n", family, variant, dtype, m, n, k, groups,
                           flops, bytes, r, seconds * (1 + noise_ * z));
    }
  }

  int sms_;
  tcsim::Rng rng_;
  double noise_;
  int repeats_;
  std::string text_;
};

// The parameters of the committed fixture, data/synthetic-h100.csv.
struct FixtureTruth {
  GemmTruth bf16{.rate = 700e12, .t0 = 5e-6, .tile_m = 128, .tile_n = 256};
  GemmTruth fp8{.rate = 1200e12, .t0 = 6e-6, .tile_m = 128, .tile_n = 256};
  LinearTruth hbm{.rate = 2.8e12, .t0 = 3e-6};
  LinearTruth copy{.rate = 3.0e12, .t0 = 2e-6};
  LinearTruth triad{.rate = 3.05e12, .t0 = 2e-6};
  LinearTruth attention_fwd{.rate = 550e12, .t0 = 8e-6};
  LinearTruth attention_bwd{.rate = 420e12, .t0 = 12e-6};
};

// GEMM shapes that tell tiles apart: full waves, small M (tile quantisation
// along M), small N (along N), one tile past a wave, tiny ones (t0), and
// grouped GEMMs as DeepSeek-V3's experts run them (7168 hidden, 2048 wide).
struct GemmShapeRow {
  std::int64_t m, n, k;
  int groups;
};
inline constexpr GemmShapeRow kGemmShapes[] = {
    {8192, 8192, 8192, 1}, {4096, 4096, 4096, 1}, {2048, 7168, 2048, 1}, {64, 7168, 2048, 1},    {192, 4096, 7168, 1},
    {320, 4096, 7168, 1},  {640, 2048, 7168, 1},  {4096, 192, 7168, 1},  {4096, 320, 7168, 1},   {1408, 3328, 4096, 1},
    {1024, 1024, 1024, 1}, {512, 512, 512, 1},    {2048, 4096, 7168, 8}, {2048, 4096, 7168, 32}, {8192, 2048, 7168, 16},
};

// Causal attention FLOPs of one forward: 2 matmuls x 2 s^2 h d / 2 (half the
// score matrix); backward 2.5 x forward (FlashAttention's convention).
inline double causal_attention_flops(std::int64_t seq, std::int64_t heads, std::int64_t dim, int batch) {
  return 2.0 * static_cast<double>(seq) * static_cast<double>(seq) * static_cast<double>(heads) *
         static_cast<double>(dim) * batch;
}

// Every family, with the fixture's parameters (or others).
inline void add_all_families(SyntheticSamples& s, const FixtureTruth& t) {
  for (const GemmShapeRow& g : kGemmShapes) s.gemm("bf16", g.m, g.n, g.k, g.groups, t.bf16);
  for (const GemmShapeRow& g : kGemmShapes) s.gemm("fp8_e4m3", g.m, g.n, g.k, g.groups, t.fp8);
  // rmsnorm: rows x 7168, read and write 2 bytes each plus the weight row; swiglu: rows x 2048
  // reads gate and up, writes one (2 bytes each); fp8_cast: reads 2, writes 1 plus a scale per 128.
  for (const std::int64_t rows : {1024, 4096, 16384}) {
    const auto r = static_cast<double>(rows);
    s.memory("rmsnorm", rows, 7168, 4.0 * r * 7168 + 2 * 7168, t.hbm);
    s.memory("swiglu", rows, 2048, 6.0 * r * 2048, t.hbm);
    s.memory("fp8_cast", rows, 7168, 3.0 * r * 7168 + 4.0 * r * 7168 / 128, t.hbm);
  }
  for (const double mib : {64.0, 256.0, 1024.0}) {
    s.memory("hbm_copy", static_cast<std::int64_t>(mib), 0, 2 * mib * 1048576, t.copy);
    s.memory("hbm_triad", static_cast<std::int64_t>(mib), 0, 3 * mib * 1048576, t.triad);
  }
  for (const std::int64_t seq : {1024, 2048, 4096, 8192}) {
    const double f = causal_attention_flops(seq, 128, 128, 1);
    s.attention("attention_fwd", seq, 128, 128, 1, f, t.attention_fwd);
    s.attention("attention_bwd", seq, 128, 128, 1, 2.5 * f, t.attention_bwd);
  }
}

// The committed fixture: 1% noise, 5 repeats, seed 20260101.
inline std::string fixture_text() {
  SyntheticSamples s("NVIDIA H100 80GB HBM3", 132, 20260101, 0.01, 5);
  s.comment("note", "SYNTHETIC samples from known parameters (tests/calibrate/synthetic.h), not a GPU measurement");
  s.comment("date", "2026-01-01");
  s.comment("command", "tcsim_calibrate_fixture (tests/calibrate/make_fixture.cpp)");
  s.comment("host", "none (synthetic)");
  s.header();
  add_all_families(s, FixtureTruth{});
  return s.text();
}

}  // namespace tcsim_test
