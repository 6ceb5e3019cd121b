// The cost ledger: an observer that prices what the run-level simulation (or
// a published measurement) says a run used. It never reaches into the engine:
// its inputs are GPU-hours per phase and the scenario's cost section.
//
//   final run at a rental rate   gpu_hours x rental                  (cost.final_run_usd)
//   the same run on owned GPUs   gpu_hours x (capital + energy + facility) per GPU-hour
//                                                                   (cost.owned_final_run_usd)
//   full R&D total               final run + R&D items, Monte Carlo (cost.rnd_total_usd)
//
// Owning conventions (Epoch AI, "The rising costs of training frontier AI
// models", arXiv:2405.21015; shared reference costs.md):
//   capital, Epoch       value x hours / 8760 x r x ln(10)   r in orders of magnitude per year
//   capital, straight    value x hours / (lifetime in hours)
//   energy               price x TDP x server factor x power fraction x PUE x hours
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/units.h"
#include "cost/monte_carlo.h"
#include "cost/views.h"
#include "scenarios/scenario.h"
#include "sim/run_level.h"

namespace tcsim::cost {

constexpr double kHoursPerYear = 8760.0;  // 365 days x 24 h, Epoch's convention

// value x r x ln(10) / 8760 per GPU-hour.
DollarsPerGpuHour epoch_amortisation(Dollars value, double ooms_per_year);
// value / (lifetime in hours) per GPU-hour.
DollarsPerGpuHour straight_line_amortisation(Dollars value, Seconds lifetime);
// Capital per GPU-hour of a purchase value by the ownership's convention
// (Epoch's or straight-line).
DollarsPerGpuHour amortised(Dollars value, const scenario::OwnershipSpec& o);
// Facility-level power drawn per GPU on average: TDP x server factor x power fraction x PUE.
Watts average_power_per_gpu(Watts tdp, const scenario::OwnershipSpec& o);

// The owned cost of one GPU-hour, by part.
struct OwnedRate {
  Dollars capital_value;  // purchase value per GPU, all capital items
  DollarsPerGpuHour capital;
  DollarsPerGpuHour energy;
  DollarsPerGpuHour facility;
  DollarsPerGpuHour total;
  Watts power;  // average_power_per_gpu
};

OwnedRate owned_rate(const scenario::OwnershipSpec& o, Watts tdp);

struct PhaseCost {
  std::string name;
  GpuHours gpu_hours;
  Dollars rental;
  std::optional<Dollars> owned;
};

struct Ledger {
  GpuHours gpu_hours;
  DollarsPerGpuHour rental;
  std::string rental_source;
  Dollars final_run;  // gpu_hours x rental
  std::vector<PhaseCost> phases;
  std::optional<OwnedRate> owned;
  std::optional<Dollars> owned_final_run;
  std::optional<Joules> energy;  // facility-level energy of the run (owned case)
  std::optional<RndResult> rnd;
  std::vector<AccountingView> views;  // cost/views.h
};

// Prices GPU-hours per phase (name, GPU-hours) with the scenario's cost
// section and the GPU's TDP.
Ledger price_run(const scenario::CostSpec& cost, Watts tdp, const std::vector<std::pair<std::string, GpuHours>>& phases,
                 const RndOptions& options = {});

// Prices a simulated run.
Ledger make_ledger(const scenario::Scenario& s, const sim::RunResult& run, const RndOptions& options = {});

}  // namespace tcsim::cost
