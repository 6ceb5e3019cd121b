// The full research-and-development total as a seeded Monte Carlo over the
// scenario's R&D items (cost.rnd), each a distribution with a source. The
// final run is the first term, priced like every compute item at the R&D
// compute price (rental or owned); the other items add to it.
//
// Contract:
// - Each sample draws every item once, in the order written, from one
//   generator seeded by the caller: the same seed gives the same figures.
// - Items marked quantified: false are listed with their note and add nothing.
// - An item's share is its mean over the mean total (the shares and the final
//   run's share add up to 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/units.h"
#include "scenarios/scenario.h"

namespace tcsim::cost {

// The u-quantile (0 < u < 1) of a distribution, in its own unit:
//   fixed       value
//   uniform     low + u (high - low)
//   triangular  low + sqrt(u (high - low)(mode - low))            for u < (mode - low) / (high - low)
//               high - sqrt((1 - u)(high - low)(high - mode))      otherwise
//   lognormal   median exp(sigma z), z = Phi^-1(u), with z95 = Phi^-1(0.95):
//                 median and p95: sigma = ln(p95 / median) / z95
//                 median and p5:  sigma = ln(median / p5) / z95
//                 p5 and p95:     median = sqrt(p5 p95), sigma = ln(p95 / p5) / (2 z95)
//                 all three: two-piece, sigma_lo = ln(median / p5) / z95 below the median and
//                 sigma_hi = ln(p95 / median) / z95 above, so each published quantile holds.
// Defined for Q = double, Dollars, GpuHours and Seconds.
template <class Q>
Q quantile_of(const scenario::Distribution<Q>& d, double u);

// What the items are priced with.
struct RndPrices {
  GpuHours final_run;               // the run's GPU-hours
  DollarsPerGpuHour compute;        // per GPU-hour of compute items (rental or owned total)
  DollarsPerGpuHour owned_capital;  // capital part of the owned rate, for fleet items
};

struct RndItemResult {
  std::string name;
  scenario::RndKind kind = scenario::RndKind::dollars;
  std::string source;
  scenario::SourceTag tag = scenario::SourceTag::estimate;
  bool quantified = true;
  std::string note;
  Spread<Dollars> usd;
  GpuHours mean_gpu_hours;  // compute items: the GPU-hours behind the dollars
  double share = 0;         // mean / mean total
};

struct RndOptions {
  std::uint64_t seed = 1;
  int samples = 10000;
  // Hold each uncertain input at its p10 and p90 (two more Monte Carlo runs
  // per input): for reports; a sweep's rows keep only the total.
  bool sensitivity = true;
};

// The scenario loader's "year": 365 days.
constexpr double kSecondsPerYear = 365 * 86400.0;

// How much one uncertain input moves the total: the total's median with the
// input held at its own p10 and at its p90, everything else drawn as usual
// (a development-compute ratio moves the fleet item's idle hours with it).
struct Sensitivity {
  std::string name;  // "item" or "item: input" when the item has several uncertain inputs
  std::string item;
  std::string input;                    // amount, ratio, headcount, compensation, FTE share, overhead, duration, GPUs
  double input_p10 = 0, input_p90 = 0;  // in the input's unit (dollars, GPU-hours, seconds, a number)
  Dollars total_at_p10, total_at_p90;
};

struct RndResult {
  scenario::ComputePrice compute_price = scenario::ComputePrice::rental;
  DollarsPerGpuHour compute_rate;
  Dollars final_run;  // the final run at the compute rate: the total's fixed first term
  double final_run_share = 0;
  Spread<Dollars> total;
  std::vector<double> total_samples;  // sorted, for the distribution chart
  std::vector<RndItemResult> items;
  // Uncertain inputs only, the widest swing of the total's median first.
  std::vector<Sensitivity> sensitivity;
  RndOptions options;
};

RndResult simulate_rnd(const scenario::RndSpec& spec, const RndPrices& prices, const RndOptions& options = {});

}  // namespace tcsim::cost
