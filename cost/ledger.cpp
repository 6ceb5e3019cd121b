#include "cost/ledger.h"

#include <cmath>
#include <span>
#include <type_traits>

#include "core/named.h"

namespace tcsim::cost {

using scenario::CostSpec;
using scenario::OwnershipSpec;

DollarsPerGpuHour epoch_amortisation(Dollars value, double ooms_per_year) {
  return DollarsPerGpuHour(value.value() * ooms_per_year * std::log(10.0) / kHoursPerYear);
}

DollarsPerGpuHour straight_line_amortisation(Dollars value, Seconds lifetime) {
  return DollarsPerGpuHour(value.value() / (lifetime.value() / kSecondsPerHour));
}

DollarsPerGpuHour amortised(Dollars value, const OwnershipSpec& o) {
  switch (o.depreciation) {
    case scenario::Depreciation::epoch: return epoch_amortisation(value, o.depreciation_ooms_per_year);
    case scenario::Depreciation::straight_line: return straight_line_amortisation(value, o.lifetime);
  }
  return DollarsPerGpuHour(0);
}

Watts average_power_per_gpu(Watts tdp, const OwnershipSpec& o) {
  return tdp * (o.server_power_factor * o.power_fraction * o.pue);
}

OwnedRate owned_rate(const OwnershipSpec& o, Watts tdp) {
  OwnedRate r;
  for (const scenario::CapitalItem& c : o.capital) r.capital_value += c.per_gpu;
  r.capital = amortised(r.capital_value, o);
  r.power = average_power_per_gpu(tdp, o);
  // One GPU-hour of energy at the facility: power x 3600 s, priced per kWh.
  r.energy = DollarsPerGpuHour((r.power * Seconds(kSecondsPerHour) * o.energy_price).value());
  r.facility = o.facility;
  r.total = r.capital + r.energy + r.facility;
  return r;
}

Ledger price_run(const CostSpec& cost, Watts tdp, const std::vector<std::pair<std::string, GpuHours>>& phases,
                 const RndOptions& options) {
  Ledger l;
  l.rental = cost.rental;
  l.rental_source = cost.rental_source;
  if (cost.owned) l.owned = owned_rate(*cost.owned, tdp);
  for (const auto& [name, hours] : phases) {
    PhaseCost pc{name, hours, hours * cost.rental, std::nullopt};
    if (l.owned) pc.owned = hours * l.owned->total;
    l.gpu_hours += hours;
    l.phases.push_back(std::move(pc));
  }
  l.final_run = l.gpu_hours * cost.rental;
  if (l.owned) {
    l.owned_final_run = l.gpu_hours * l.owned->total;
    l.energy = l.owned->power * Seconds(l.gpu_hours.value() * kSecondsPerHour);
  }
  if (cost.rnd) {
    RndPrices p;
    p.final_run = l.gpu_hours;
    p.compute = cost.rnd->compute_price == scenario::ComputePrice::owned ? l.owned->total : cost.rental;
    if (l.owned) p.owned_capital = l.owned->capital;
    l.rnd = simulate_rnd(*cost.rnd, p, options);
  }
  l.views = accounting_views(cost, l, options);
  return l;
}

Ledger make_ledger(const scenario::Scenario& s, const sim::RunResult& run, const RndOptions& options) {
  std::vector<std::pair<std::string, GpuHours>> phases;
  for (const sim::PhaseResult& p : run.phases) phases.emplace_back(p.name, p.gpu_hours);
  return price_run(s.cost, s.hardware.gpu.tdp, phases, options);
}

}  // namespace tcsim::cost
