#include "cost/monte_carlo.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include <fmt/format.h>

namespace tcsim::cost {

using scenario::DistKind;
using scenario::Distribution;
using scenario::RndItem;
using scenario::RndKind;

namespace {

// Phi^-1(0.95): the 95th percentile of the standard normal, which the 90%
// intervals of the published estimates (p5, p95) sit on.
const double kZ95 = normal_quantile(0.95);

double lognormal_quantile(double median, double p5, double p95, bool has_median, bool has_p5, bool has_p95, double u) {
  const double z = normal_quantile(u);
  if (!has_median) {
    const double m = std::sqrt(p5 * p95);
    return m * std::exp(z * std::log(p95 / p5) / (2 * kZ95));
  }
  const double sigma_lo = has_p5 ? std::log(median / p5) / kZ95 : std::log(p95 / median) / kZ95;
  const double sigma_hi = has_p95 ? std::log(p95 / median) / kZ95 : sigma_lo;
  return median * std::exp(z * (z < 0 ? sigma_lo : sigma_hi));
}

}  // namespace

template <class Q>
Q quantile_of(const Distribution<Q>& d, double u) {
  double x = 0;
  switch (d.kind) {
    case DistKind::fixed: x = raw_value(d.value); break;
    case DistKind::uniform: x = raw_value(d.low) + u * (raw_value(d.high) - raw_value(d.low)); break;
    case DistKind::triangular: {
      const double a = raw_value(d.low), c = raw_value(d.mode), b = raw_value(d.high);
      const double split = (c - a) / (b - a);
      x = u < split ? a + std::sqrt(u * (b - a) * (c - a)) : b - std::sqrt((1 - u) * (b - a) * (b - c));
      break;
    }
    case DistKind::lognormal:
      x = lognormal_quantile(raw_value(d.median), raw_value(d.p5), raw_value(d.p95), d.has_median, d.has_p5, d.has_p95,
                             u);
      break;
  }
  return Q(x);
}

template double quantile_of(const Distribution<double>&, double);
template Dollars quantile_of(const Distribution<Dollars>&, double);
template GpuHours quantile_of(const Distribution<GpuHours>&, double);
template Seconds quantile_of(const Distribution<Seconds>&, double);

namespace {

// One input of an item held at a quantile in every sample (the sensitivity
// runs). Inputs are numbered in the order an item draws them.
struct Held {
  std::size_t item = 0;
  int input = 0;
  double u = 0.5;
};

// Draws an item's inputs: each takes one uniform from the generator, whether
// held or not, so holding one input leaves every other draw as it was.
struct Drawer {
  Rng& rng;
  const Held* held;
  std::size_t item;
  template <class Q>
  Q operator()(int input, const scenario::Distribution<Q>& d) const {
    const double u = rng.uniform();
    return quantile_of(d, held != nullptr && held->item == item && held->input == input ? held->u : u);
  }
};

// One draw of an item other than a fleet: dollars, and the GPU-hours behind
// them for compute items. `ratio` receives the development-compute ratio R.
struct Draw {
  Dollars usd;
  GpuHours gpu_hours;
};

Draw draw_item(const RndItem& it, const RndPrices& p, const Drawer& q, double& ratio) {
  switch (it.kind) {
    case RndKind::dollars: return {q(0, it.dollars), GpuHours(0)};
    case RndKind::gpu_hours: {
      const GpuHours h = q(0, it.gpu_hours);
      return {h * p.compute, h};
    }
    case RndKind::final_run_multiple: {
      const GpuHours h = p.final_run * q(0, it.ratio);
      return {h * p.compute, h};
    }
    case RndKind::development_compute_ratio: {
      ratio = q(0, it.ratio);
      // The compute beyond the final run; a draw below 1 adds nothing.
      const GpuHours h = p.final_run * std::max(ratio - 1.0, 0.0);
      return {h * p.compute, h};
    }
    case RndKind::staff: {
      const double heads = q(0, it.headcount);
      const Dollars pay = q(1, it.compensation);
      const double fte = q(2, it.fte_share);
      const double overhead = q(3, it.overhead);
      const double years = q(4, it.duration).value() / kSecondsPerYear;
      return {pay * (heads * fte * overhead * years), GpuHours(0)};
    }
    case RndKind::fleet: break;  // drawn after the others (needs R)
  }
  return {};
}

// Held GPU-hours minus the development compute (final run x R), never below 0.
Draw draw_fleet(const RndItem& it, const RndPrices& p, const Drawer& q, double ratio) {
  const double gpus = q(0, it.gpus);
  const Seconds held = q(1, it.duration);
  const GpuHours idle(std::max(gpu_hours(held, gpus).value() - p.final_run.value() * ratio, 0.0));
  return {idle * p.owned_capital, idle};
}

// An item's uncertain inputs (not fixed), numbered as the draws number them,
// with their names and their p10 and p90 in their own unit.
struct Input {
  int index;
  std::string name;
  double p10, p90;
};

template <class Q>
void add_input(std::vector<Input>& out, int index, std::string name, const scenario::Distribution<Q>& d) {
  if (d.kind == scenario::DistKind::fixed) return;
  // Low and high at the input's own P10 and P90, the quantiles the R&D total reports.
  out.push_back({index, std::move(name), raw_value(quantile_of(d, 0.1)), raw_value(quantile_of(d, 0.9))});
}

std::vector<Input> inputs_of(const RndItem& it) {
  std::vector<Input> in;
  switch (it.kind) {
    case RndKind::dollars: add_input(in, 0, "amount", it.dollars); break;
    case RndKind::gpu_hours: add_input(in, 0, "amount", it.gpu_hours); break;
    case RndKind::final_run_multiple:
    case RndKind::development_compute_ratio: add_input(in, 0, "ratio", it.ratio); break;
    case RndKind::staff:
      add_input(in, 0, "headcount", it.headcount);
      add_input(in, 1, "compensation", it.compensation);
      add_input(in, 2, "FTE share", it.fte_share);
      add_input(in, 3, "overhead", it.overhead);
      add_input(in, 4, "duration", it.duration);
      break;
    case RndKind::fleet:
      add_input(in, 0, "GPUs", it.gpus);
      add_input(in, 1, "duration", it.duration);
      break;
  }
  return in;
}

// Every sample's total and, per item, every sample's dollars.
std::vector<double> sample(const scenario::RndSpec& spec, const RndPrices& prices, const RndOptions& options,
                           const Held* held, std::vector<std::vector<double>>* usd, std::vector<double>* hours) {
  const std::size_t n_items = spec.items.size();
  const double final_run = (prices.final_run * prices.compute).value();
  std::vector<double> totals;
  totals.reserve(static_cast<std::size_t>(std::max(options.samples, 0)));
  Rng rng(options.seed);
  std::vector<Draw> draws(n_items);
  for (int s = 0; s < options.samples; ++s) {
    double ratio = 1.0;  // no development_compute_ratio item: the final run is all the compute
    double total = final_run;
    for (std::size_t i = 0; i < n_items; ++i) {
      const RndItem& it = spec.items[i];
      draws[i] = {};
      if (it.quantified && it.kind != RndKind::fleet) draws[i] = draw_item(it, prices, Drawer{rng, held, i}, ratio);
    }
    for (std::size_t i = 0; i < n_items; ++i) {
      const RndItem& it = spec.items[i];
      if (it.quantified && it.kind == RndKind::fleet) draws[i] = draw_fleet(it, prices, Drawer{rng, held, i}, ratio);
    }
    for (std::size_t i = 0; i < n_items; ++i) {
      if (usd != nullptr) (*usd)[i].push_back(draws[i].usd.value());
      if (hours != nullptr) (*hours)[i] += draws[i].gpu_hours.value();
      total += draws[i].usd.value();
    }
    totals.push_back(total);
  }
  return totals;
}

}  // namespace

RndResult simulate_rnd(const scenario::RndSpec& spec, const RndPrices& prices, const RndOptions& options) {
  RndResult res;
  res.compute_price = spec.compute_price;
  res.compute_rate = prices.compute;
  res.final_run = prices.final_run * prices.compute;
  res.options = options;

  const std::size_t n_items = spec.items.size();
  std::vector<std::vector<double>> usd(n_items);
  std::vector<double> hours(n_items, 0.0);
  std::vector<double> totals = sample(spec, prices, options, nullptr, &usd, &hours);
  res.total = spread_of<Dollars>(totals);
  std::sort(totals.begin(), totals.end());
  res.total_samples = std::move(totals);
  const double mean_total = res.total.mean.value();
  res.final_run_share = mean_total > 0 ? res.final_run.value() / mean_total : 0;
  for (std::size_t i = 0; i < n_items; ++i) {
    const RndItem& it = spec.items[i];
    RndItemResult r;
    r.name = it.name;
    r.kind = it.kind;
    r.source = it.source;
    r.tag = it.tag;
    r.quantified = it.quantified;
    r.note = it.note;
    r.usd = spread_of<Dollars>(usd[i]);
    if (options.samples > 0) r.mean_gpu_hours = GpuHours(hours[i] / options.samples);
    r.share = mean_total > 0 ? r.usd.mean.value() / mean_total : 0;
    res.items.push_back(std::move(r));
  }

  // Sensitivity: the total's median with each uncertain input held at its
  // own p10, then at its p90, everything else drawn as before.
  for (std::size_t i = 0; i < n_items && options.sensitivity; ++i) {
    const RndItem& it = spec.items[i];
    if (!it.quantified) continue;
    const std::vector<Input> inputs = inputs_of(it);
    for (const Input& in : inputs) {
      Sensitivity sens;
      sens.name = inputs.size() == 1 ? it.name : fmt::format("{}: {}", it.name, in.name);
      sens.item = it.name;
      sens.input = in.name;
      sens.input_p10 = in.p10;
      sens.input_p90 = in.p90;
      for (const double u : {0.1, 0.9}) {
        const Held h{i, in.index, u};
        const Dollars p50 = spread_of<Dollars>(sample(spec, prices, options, &h, nullptr, nullptr)).p50;
        (u < 0.5 ? sens.total_at_p10 : sens.total_at_p90) = p50;
      }
      res.sensitivity.push_back(std::move(sens));
    }
  }
  std::stable_sort(res.sensitivity.begin(), res.sensitivity.end(), [](const Sensitivity& a, const Sensitivity& b) {
    return std::abs((a.total_at_p90 - a.total_at_p10).value()) > std::abs((b.total_at_p90 - b.total_at_p10).value());
  });
  return res;
}

}  // namespace tcsim::cost
