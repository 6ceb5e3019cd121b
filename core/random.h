// Deterministic randomness for Monte Carlo estimates. A seeded 64-bit
// Mersenne Twister (its output sequence is fixed by the C++ standard) is
// turned into uniforms, exponentials and normal quantiles by our own
// arithmetic rather than by std::*_distribution, whose algorithms differ
// between standard libraries: one seed gives the same numbers everywhere.
// No global state: every estimate owns its generator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace tcsim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform on the open interval (0, 1): the top 53 bits of one draw,
  // centred in their cell, so neither 0 nor 1 can occur.
  double uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }

  // Exponentially distributed with the given mean, by inversion: -mean ln U.
  double exponential(double mean) { return -mean * std::log(uniform()); }

 private:
  std::mt19937_64 engine_;
};

// Inverse of the standard normal distribution function: the z with
// Phi(z) = p, for 0 < p < 1. Wichura, "Algorithm AS 241: The percentage
// points of the normal distribution", Applied Statistics 37(3), 1988,
// PPND16 (relative accuracy about 1e-16).
inline double normal_quantile(double p) {
  const auto poly = [](const double(&k)[8], double x) {
    return ((((((k[7] * x + k[6]) * x + k[5]) * x + k[4]) * x + k[3]) * x + k[2]) * x + k[1]) * x + k[0];
  };
  static constexpr double a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2, 1.9715909503065514427e+3,
                                  1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                  3.3430575583588128105e+4, 2.5090809287301226727e+3};
  static constexpr double b[8] = {1.0,
                                  4.2313330701600911252e+1,
                                  6.8718700749205790830e+2,
                                  5.3941960214247511077e+3,
                                  2.1213794301586595867e+4,
                                  3.9307895800092710610e+4,
                                  2.8729085735721942674e+4,
                                  5.2264952788528545610e+3};
  static constexpr double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0, 5.76949722146069140550e0,
                                  3.64784832476320460504e0,  1.27045825245236838258e0, 2.41780725177450611770e-1,
                                  2.27238449892691845833e-2, 7.74545014278341407640e-4};
  static constexpr double d[8] = {1.0,
                                  2.05319162663775882187e0,
                                  1.67638483018380384940e0,
                                  6.89767334985100004550e-1,
                                  1.48103976427480074590e-1,
                                  1.51986665636164571966e-2,
                                  5.47593808499534494600e-4,
                                  1.05075007164441684324e-9};
  static constexpr double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,  1.78482653991729133580e0,
                                  2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                  2.71155556874348757815e-5, 2.01033439929228813265e-7};
  static constexpr double f[8] = {1.0,
                                  5.99832206555887937690e-1,
                                  1.36929880922735805310e-1,
                                  1.48753612908506148525e-2,
                                  7.86869131145613259100e-4,
                                  1.84631831751005468180e-5,
                                  1.42151175831644588870e-7,
                                  2.04426310338993978564e-15};
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * poly(a, r) / poly(b, r);
  }
  double r = std::sqrt(-std::log(q < 0 ? p : 1.0 - p));
  double z = 0;
  if (r <= 5.0) {
    r -= 1.6;
    z = poly(c, r) / poly(d, r);
  } else {
    r -= 5.0;
    z = poly(e, r) / poly(f, r);
  }
  return q < 0 ? -z : z;
}

// The p-quantile of sorted samples, interpolating linearly between order
// statistics: h = (n - 1) p, x[floor h] + (h - floor h)(x[floor h + 1] -
// x[floor h]) (Hyndman and Fan's type 7, the default of R and NumPy).
inline double quantile_sorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const double h = static_cast<double>(sorted.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// The summary a Monte Carlo estimate reports: its mean and its 10th, 50th
// and 90th percentiles, in the unit of the estimated quantity.
template <class Q = double>
struct Spread {
  Q mean{};
  Q p10{};
  Q p50{};
  Q p90{};
};

// Summarises samples given in Q's base unit (seconds, dollars, GPU-hours).
template <class Q = double>
Spread<Q> spread_of(std::vector<double> samples) {
  Spread<Q> s;
  if (samples.empty()) return s;
  double sum = 0;
  for (const double x : samples) sum += x;
  s.mean = Q(sum / static_cast<double>(samples.size()));
  std::sort(samples.begin(), samples.end());
  s.p10 = Q(quantile_sorted(samples, 0.10));
  s.p50 = Q(quantile_sorted(samples, 0.50));
  s.p90 = Q(quantile_sorted(samples, 0.90));
  return s;
}

}  // namespace tcsim
