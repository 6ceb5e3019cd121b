// Fitting raw samples to the op-time model's rates. Each timed shape is
// summarised by the median of its repeats (p10 and p90 kept for the report);
// each rate is a weighted least-squares fit of
//   GEMM:         time = t0 + flops / (R x eff(shape; tile, SMs))
//   attention:    time = t0 + flops / R
//   memory-bound: time = t0 + bytes / B
// in (t0, 1/R), weighted by 1/time so every shape counts by its relative
// error, with t0 >= 0. eff is hw::gemm_wave_efficiency, the one op_time uses,
// so a fitted rate means in the simulator what it meant in the fit. Every fit
// carries its residuals.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calibrate/fit/samples.h"
#include "core/units.h"

namespace tcsim::calibrate {

// One timed shape: the repeats of one (family, variant, dtype, m, n, k,
// groups, flops, bytes), summarised; a fit fills in its prediction and residual.
struct Point {
  Family family = Family::gemm;
  std::string variant;
  Dtype dtype = Dtype::bf16;
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  int groups = 1;
  Flops flops;
  Bytes bytes;
  int repeats = 0;
  Seconds median;
  Seconds p10;
  Seconds p90;
  int line = 0;  // the first row of this shape in the samples file
  Seconds predicted;
  double residual = 0;  // (predicted - median) / median
};

// Groups the rows by shape, in the order shapes first appear.
std::vector<Point> summarise(const SampleSet& samples);

// "gemm cublaslt bf16 m=4096 n=4096 k=4096", for reports.
std::string describe(const Point& p);

struct Tile {
  int m = 0;
  int n = 0;
  friend bool operator==(Tile, Tile) = default;
};

// Output tiles tried for GEMM: {64, 128, 256} x {64, 128, 256}; 128 x 128
// (the public profiles' assumption) first, so it wins ties, as when one
// shape cannot tell tiles apart.
extern const std::array<Tile, 9> kCandidateTiles;

struct TileTrial {
  Tile tile;
  double rms = 0;  // relative residual RMS of the fit with this tile
};

template <class Rate>
struct RateFit {
  Rate rate{};
  Seconds t0{};
  // The free fit gave t0 < 0 (or a rate at or below zero): refit with t0 = 0.
  bool t0_pinned = false;
  // Fewer than two distinct sizes: t0 cannot be told from the rate, so t0 = 0.
  bool degenerate = false;
  Tile tile;                     // GEMM: the output tile of the fit
  std::vector<TileTrial> tiles;  // GEMM: every tile tried, in kCandidateTiles order
  double rms = 0;                // relative residuals: root mean square
  double max = 0;                // and largest magnitude
  std::vector<Point> points;     // with predictions and residuals
  std::string note;              // what was pinned or assumed, in words; empty when nothing was

  int repeats() const {
    int r = 0;
    for (const Point& p : points) r += p.repeats;
    return r;
  }
};
using FlopsFit = RateFit<FlopsPerSecond>;
using BytesFit = RateFit<BytesPerSecond>;

// GEMM (dense and grouped, one dtype) over `sms` SMs: with `tile` fits that
// tile, else every candidate and keeps the one with the smallest relative RMS.
FlopsFit fit_gemm(std::vector<Point> points, int sms, std::optional<Tile> tile = std::nullopt);
// Attention: time = t0 + flops / R.
FlopsFit fit_flops(std::vector<Point> points);
// Memory-bound kernels: time = t0 + bytes / B.
BytesFit fit_bytes(std::vector<Point> points);

// Every rate the samples can give. Absent: no rows of those families.
struct Fits {
  std::optional<FlopsFit> gemm_bf16;  // gemm + grouped_gemm, bf16
  std::optional<FlopsFit> gemm_fp8;   // gemm + grouped_gemm, fp8_e4m3
  std::optional<BytesFit> hbm;        // rmsnorm + swiglu + fp8_cast: the profile's HBM rate
  std::optional<BytesFit> hbm_copy;   // ceilings, reported beside it
  std::optional<BytesFit> hbm_triad;
  std::optional<FlopsFit> attention_forward;  // bf16
  std::optional<FlopsFit> attention_backward;
  // The profile has one GEMM tile: when BF16 and FP8 alone prefer different
  // ones, both are refit at the tile best for both together, and each one's
  // own choice is kept here.
  std::optional<TileTrial> bf16_own_tile;
  std::optional<TileTrial> fp8_own_tile;
  std::vector<std::string> notes;  // rows left out and why, tile choices
};

Fits fit_samples(const SampleSet& samples);

}  // namespace tcsim::calibrate
