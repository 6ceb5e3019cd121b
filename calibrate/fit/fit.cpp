#include "calibrate/fit/fit.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "core/error.h"
#include "core/random.h"
#include "hardware/op_time.h"
#include "model/ops.h"

namespace tcsim::calibrate {

const std::array<Tile, 9> kCandidateTiles{
    {{128, 128}, {64, 64}, {64, 128}, {64, 256}, {128, 64}, {128, 256}, {256, 64}, {256, 128}, {256, 256}}};

namespace {

// Relative spread below which sizes count as one size.
constexpr double kSameSize = 1e-9;

enum class Pin { none, negative_t0, nonpositive_rate, one_size };

// time = t0 + c x, minimising sum(((t0 + c x_i - y_i) / y_i)^2) with t0 >= 0.
struct Line {
  double t0 = 0;  // seconds
  double c = 0;   // seconds per unit of x
  Pin pin = Pin::none;
};

Line solve(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  // Columns scaled to x / max(x) so both unknowns are in seconds.
  const double scale = *hi;
  if (n >= 2 && *hi > *lo * (1 + kSameSize)) {
    // Each row divided by y_i: (t0 + c' x'_i) / y_i = 1.
    Eigen::MatrixXd a(static_cast<Eigen::Index>(n), 2);
    const Eigen::VectorXd b = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
      const auto r = static_cast<Eigen::Index>(i);
      a(r, 0) = 1.0 / y[i];
      a(r, 1) = x[i] / scale / y[i];
    }
    const Eigen::Vector2d s = a.colPivHouseholderQr().solve(b);
    if (s(0) >= 0 && s(1) > 0) return {s(0), s(1) / scale, Pin::none};
    const Pin why = s(1) <= 0 ? Pin::nonpositive_rate : Pin::negative_t0;
    // Through zero: the same least squares with t0 = 0 gives c = sum(u) / sum(u^2), u_i = x_i / y_i.
    Eigen::VectorXd u = a.col(1);
    return {0, u.sum() / u.squaredNorm() / scale, why};
  }
  Eigen::VectorXd u(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) u(static_cast<Eigen::Index>(i)) = x[i] / scale / y[i];
  return {0, u.sum() / u.squaredNorm() / scale, Pin::one_size};
}

// Fills predictions and residuals, and the fit's summary of them.
template <class Rate>
void score(RateFit<Rate>& f, const Line& line, const std::vector<double>& x) {
  f.rate = Rate(1.0 / line.c);
  f.t0 = Seconds(line.t0);
  f.t0_pinned = line.pin == Pin::negative_t0 || line.pin == Pin::nonpositive_rate;
  f.degenerate = line.pin == Pin::one_size;
  double sum2 = 0;
  f.max = 0;
  for (std::size_t i = 0; i < f.points.size(); ++i) {
    Point& p = f.points[i];
    p.predicted = Seconds(line.t0 + line.c * x[i]);
    p.residual = (p.predicted - p.median) / p.median;
    sum2 += p.residual * p.residual;
    f.max = std::max(f.max, std::fabs(p.residual));
  }
  f.rms = std::sqrt(sum2 / static_cast<double>(f.points.size()));
  switch (line.pin) {
    case Pin::none: f.note.clear(); break;
    case Pin::negative_t0: f.note = "the free fit gave a negative t0: refit with t0 = 0"; break;
    case Pin::nonpositive_rate:
      f.note = "times do not grow with work (the free fit gave a rate at or below zero): refit with t0 = 0";
      break;
    case Pin::one_size:
      f.note = fmt::format("{} of one size only: t0 cannot be told from the rate, so t0 = 0",
                           f.points.size() == 1 ? "one shape" : fmt::format("{} shapes", f.points.size()));
      break;
  }
}

std::vector<double> medians(const std::vector<Point>& points) {
  std::vector<double> y;
  for (const Point& p : points) y.push_back(p.median.value());
  return y;
}

// The shape op_time quantises: a grouped GEMM's M is per group.
model::GemmShape gemm_shape(const Point& p) { return {p.m / p.groups, p.n, p.k, p.groups}; }

FlopsFit fit_gemm_tile(const std::vector<Point>& points, int sms, Tile tile) {
  FlopsFit f;
  f.points = points;
  f.tile = tile;
  std::vector<double> x;
  for (const Point& p : points) {
    x.push_back(p.flops.value() / hw::gemm_wave_efficiency(gemm_shape(p), tile.m, tile.n, sms));
  }
  score(f, solve(x, medians(points)), x);
  return f;
}

// A shape is everything but the repeat and the time: memory kernels may
// leave m, n and k at zero and differ only in bytes.
using Key = std::tuple<Family, std::string, Dtype, std::int64_t, std::int64_t, std::int64_t, int, double, double>;

Key key_of(const Sample& s) {
  return {s.family, s.variant, s.dtype, s.m, s.n, s.k, s.groups, s.flops.value(), s.bytes.value()};
}

std::vector<Point> select(const std::vector<Point>& all, const std::function<bool(const Point&)>& keep) {
  std::vector<Point> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), keep);
  return out;
}

double pooled_rms(const FlopsFit& a, const FlopsFit& b) {
  const double na = static_cast<double>(a.points.size());
  const double nb = static_cast<double>(b.points.size());
  return std::sqrt((a.rms * a.rms * na + b.rms * b.rms * nb) / (na + nb));
}

std::string tile_text(Tile t) { return fmt::format("{} x {}", t.m, t.n); }

}  // namespace

std::vector<Point> summarise(const SampleSet& samples) {
  std::map<Key, std::size_t> index;
  std::vector<Point> points;
  std::vector<std::vector<double>> times;
  for (const Sample& s : samples.samples) {
    const auto [it, added] = index.try_emplace(key_of(s), points.size());
    if (added) {
      points.push_back({.family = s.family,
                        .variant = s.variant,
                        .dtype = s.dtype,
                        .m = s.m,
                        .n = s.n,
                        .k = s.k,
                        .groups = s.groups,
                        .flops = s.flops,
                        .bytes = s.bytes,
                        .line = s.line});
      times.emplace_back();
    }
    times[it->second].push_back(s.seconds.value());
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::vector<double>& t = times[i];
    std::sort(t.begin(), t.end());
    points[i].repeats = static_cast<int>(t.size());
    points[i].median = Seconds(quantile_sorted(t, 0.5));
    points[i].p10 = Seconds(quantile_sorted(t, 0.1));
    points[i].p90 = Seconds(quantile_sorted(t, 0.9));
  }
  return points;
}

std::string describe(const Point& p) {
  std::string shape;
  switch (p.family) {
    case Family::gemm: shape = fmt::format("m={} n={} k={}", p.m, p.n, p.k); break;
    case Family::grouped_gemm: shape = fmt::format("m={} n={} k={} groups={}", p.m, p.n, p.k, p.groups); break;
    case Family::attention_fwd:
    case Family::attention_bwd:
      shape = fmt::format("seq={} heads={} head_dim={} batch={}", p.m, p.n, p.k, p.groups);
      break;
    default: shape = to_string(p.bytes); break;
  }
  return fmt::format("{} {} {} {}", name_of(p.family), p.variant, name_of(p.dtype), shape);
}

FlopsFit fit_gemm(std::vector<Point> points, int sms, std::optional<Tile> tile) {
  if (points.empty()) throw ConfigError("no GEMM samples to fit");
  if (tile) return fit_gemm_tile(points, sms, *tile);
  std::optional<FlopsFit> best;
  std::vector<TileTrial> trials;
  for (const Tile t : kCandidateTiles) {
    FlopsFit f = fit_gemm_tile(points, sms, t);
    trials.push_back({t, f.rms});
    // A later tile must be better by more than rounding to displace an earlier one.
    if (!best || f.rms < best->rms * (1 - 1e-9) - 1e-15) best = std::move(f);
  }
  best->tiles = std::move(trials);
  if (best->degenerate) {
    best->note += fmt::format("; the tile cannot be told from one shape: kept {}", tile_text(best->tile));
  }
  return *best;
}

FlopsFit fit_flops(std::vector<Point> points) {
  if (points.empty()) throw ConfigError("no samples to fit a FLOP rate to");
  FlopsFit f;
  f.points = std::move(points);
  std::vector<double> x;
  for (const Point& p : f.points) x.push_back(p.flops.value());
  score(f, solve(x, medians(f.points)), x);
  return f;
}

BytesFit fit_bytes(std::vector<Point> points) {
  if (points.empty()) throw ConfigError("no samples to fit a bandwidth to");
  BytesFit f;
  f.points = std::move(points);
  std::vector<double> x;
  for (const Point& p : f.points) x.push_back(p.bytes.value());
  score(f, solve(x, medians(f.points)), x);
  return f;
}

Fits fit_samples(const SampleSet& samples) {
  const std::vector<Point> all = summarise(samples);
  const int sms = samples.header.sms;
  const auto of = [&](std::initializer_list<Family> families, std::optional<Dtype> dtype = std::nullopt) {
    return select(all, [&](const Point& p) {
      return std::find(families.begin(), families.end(), p.family) != families.end() && (!dtype || p.dtype == *dtype);
    });
  };
  Fits fits;
  if (auto p = of({Family::gemm, Family::grouped_gemm}, Dtype::bf16); !p.empty()) fits.gemm_bf16 = fit_gemm(p, sms);
  if (auto p = of({Family::gemm, Family::grouped_gemm}, Dtype::fp8_e4m3); !p.empty()) {
    fits.gemm_fp8 = fit_gemm(p, sms);
  }
  if (auto p = of({Family::rmsnorm, Family::swiglu, Family::fp8_cast}); !p.empty()) fits.hbm = fit_bytes(p);
  if (auto p = of({Family::hbm_copy}); !p.empty()) fits.hbm_copy = fit_bytes(p);
  if (auto p = of({Family::hbm_triad}); !p.empty()) fits.hbm_triad = fit_bytes(p);
  if (auto p = of({Family::attention_fwd}, Dtype::bf16); !p.empty()) fits.attention_forward = fit_flops(p);
  if (auto p = of({Family::attention_bwd}, Dtype::bf16); !p.empty()) fits.attention_backward = fit_flops(p);
  if (const auto left = of({Family::attention_fwd, Family::attention_bwd}, Dtype::fp8_e4m3); !left.empty()) {
    fits.notes.push_back(
        fmt::format("left out {} fp8_e4m3 attention shape(s): the profile's attention rates are BF16", left.size()));
  }

  // One tile for the profile: if the dtypes disagree, the tile best for both together.
  if (fits.gemm_bf16 && fits.gemm_fp8 && !(fits.gemm_bf16->tile == fits.gemm_fp8->tile)) {
    fits.bf16_own_tile = TileTrial{fits.gemm_bf16->tile, fits.gemm_bf16->rms};
    fits.fp8_own_tile = TileTrial{fits.gemm_fp8->tile, fits.gemm_fp8->rms};
    std::optional<Tile> best;
    double best_rms = 0;
    for (const Tile t : kCandidateTiles) {
      const double rms =
          pooled_rms(fit_gemm_tile(fits.gemm_bf16->points, sms, t), fit_gemm_tile(fits.gemm_fp8->points, sms, t));
      if (!best || rms < best_rms * (1 - 1e-9) - 1e-15) {
        best = t;
        best_rms = rms;
      }
    }
    std::vector<TileTrial> bf16_trials = std::move(fits.gemm_bf16->tiles);
    std::vector<TileTrial> fp8_trials = std::move(fits.gemm_fp8->tiles);
    fits.gemm_bf16 = fit_gemm_tile(fits.gemm_bf16->points, sms, *best);
    fits.gemm_fp8 = fit_gemm_tile(fits.gemm_fp8->points, sms, *best);
    fits.gemm_bf16->tiles = std::move(bf16_trials);
    fits.gemm_fp8->tiles = std::move(fp8_trials);
    fits.notes.push_back(fmt::format(
        "BF16 GEMMs alone fit best with a {} tile (rms {:.2f}%), FP8 alone with {} ({:.2f}%); the profile has one "
        "tile, so both use {}, the best for both together (rms {:.2f}%)",
        tile_text(fits.bf16_own_tile->tile), 100 * fits.bf16_own_tile->rms, tile_text(fits.fp8_own_tile->tile),
        100 * fits.fp8_own_tile->rms, tile_text(*best), 100 * best_rms));
  }
  return fits;
}

}  // namespace tcsim::calibrate
