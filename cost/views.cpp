#include "cost/views.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "core/named.h"
#include "cost/ledger.h"

namespace tcsim::cost {
namespace {

using scenario::SourceTag;

std::string tag_name(SourceTag t) {
  return std::string(name_of(std::span<const Named<SourceTag>>(scenario::kSourceTagNames), t));
}

// A count as written: 10,000.
std::string whole(double n) {
  if (n != std::floor(n) || n >= 1e15) return fmt::format("{:.4g}", n);
  std::string digits = fmt::format("{:.0f}", n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

Spread<Dollars> exact(Dollars d) { return Spread<Dollars>{d, d, d, d}; }

// A view with its figure to come.
AccountingView given(int number, std::string id, std::string name, std::string counts) {
  AccountingView v;
  v.number = number;
  v.id = std::move(id);
  v.name = std::move(name);
  v.counts = std::move(counts);
  v.given = true;
  return v;
}

AccountingView missing(int number, std::string id, std::string name, std::string why) {
  AccountingView v;
  v.number = number;
  v.id = std::move(id);
  v.name = std::move(name);
  v.missing = std::move(why);
  return v;
}

// The owned rate of a GPU-hour of a fleet: its capital by the ownership
// convention, and its average power x PUE at the energy price.
DollarsPerGpuHour fleet_rate(Dollars per_gpu, Watts power, const scenario::OwnershipSpec& o) {
  const Dollars energy = Watts(power.value() * o.pue) * Seconds(kSecondsPerHour) * o.energy_price;
  return amortised(per_gpu, o) + DollarsPerGpuHour(energy.value());
}

std::string convention(const scenario::OwnershipSpec& o) {
  return o.depreciation == scenario::Depreciation::epoch
             ? fmt::format("Epoch AI amortisation, value x {} x ln(10) per year (arXiv:2405.21015)",
                           o.depreciation_ooms_per_year)
             : fmt::format("straight line over {}", to_string(o.lifetime));
}

AccountingView headline(const scenario::CostSpec& cost) {
  const char* name = "The headline as published";
  if (!cost.headline) return missing(1, "headline", name, "the scenario gives no published figure (cost.headline)");
  const scenario::HeadlineSpec& h = *cost.headline;
  AccountingView v =
      given(1, "headline", name,
            "the GPU-hours the authors published, at the rental rate they assumed: one final run, nothing else");
  v.usd = exact(h.gpu_hours * h.rental);
  v.sources = {h.source};
  v.parts.push_back({"published GPU-hours x assumed rate", v.usd, false, ViewPart::Role::part,
                     fmt::format("{} x {}", to_string(h.gpu_hours), to_string(h.rental)), h.source, "exact"});
  return v;
}

AccountingView final_run_rental(const Ledger& l) {
  AccountingView rental =
      given(2, "final_run_rental", "The final run, simulated, at rental",
            "the final run's GPU-hours as tcsim simulates them (steps, checkpoint stalls, restarts and lost work; "
            "measured phases as published), at the rental rate");
  rental.usd = exact(l.final_run);
  rental.sources = {"tcsim run-level simulation"};
  if (!l.rental_source.empty()) rental.sources.push_back(l.rental_source);
  rental.parts.push_back({"GPU-hours x rental", rental.usd, false, ViewPart::Role::part,
                          fmt::format("{} x {}", to_string(l.gpu_hours), to_string(l.rental)), l.rental_source, ""});
  return rental;
}

std::vector<AccountingView> final_run(const scenario::CostSpec& cost, const Ledger& l) {
  std::vector<AccountingView> out;
  if (!(l.rental.value() > 0)) {
    out.push_back(missing(2, "final_run_rental", "The final run, simulated, at rental",
                          "the scenario gives no rental rate (cost.rental)"));
  } else {
    out.push_back(final_run_rental(l));
  }

  const char* owned_name = "The final run, simulated, on owned hardware";
  if (!l.owned || !cost.owned) {
    out.push_back(missing(2, "final_run_owned", owned_name, "the scenario gives no owned hardware (cost.owned)"));
    return out;
  }
  const scenario::OwnershipSpec& o = *cost.owned;
  AccountingView owned = given(
      2, "final_run_owned", owned_name,
      fmt::format("the same GPU-hours on hardware the trainer owns: amortised capital, energy{}; no staff, no other "
                  "runs",
                  o.facility.value() > 0 ? " and facility" : " (facility not included: no sourced figure)"));
  owned.usd = exact(*l.owned_final_run);
  owned.sources = {"tcsim run-level simulation", convention(o)};
  for (const scenario::CapitalItem& c : o.capital) owned.sources.push_back(c.source);
  owned.sources.push_back(o.energy_price_source);
  owned.parts.push_back({"capital", exact(l.gpu_hours * l.owned->capital), false, ViewPart::Role::part,
                         fmt::format("{} x {} ({} per GPU; {})", to_string(l.gpu_hours), to_string(l.owned->capital),
                                     to_string(l.owned->capital_value), convention(o)),
                         "", ""});
  owned.parts.push_back({"energy", exact(l.gpu_hours * l.owned->energy), false, ViewPart::Role::part,
                         fmt::format("{} x {} ({} per GPU at the facility)", to_string(l.gpu_hours),
                                     to_string(l.owned->energy), to_string(l.owned->power)),
                         o.energy_price_source, ""});
  if (o.facility.value() > 0) {
    owned.parts.push_back({"facility", exact(l.gpu_hours * o.facility), false, ViewPart::Role::part,
                           fmt::format("{} x {}", to_string(l.gpu_hours), to_string(o.facility)), o.facility_source,
                           ""});
  }
  out.push_back(std::move(owned));
  return out;
}

AccountingView development(const Ledger& l) {
  const char* name = "Development cost attributable to the model";
  if (!l.rnd) return missing(3, "development", name, "the scenario gives no R&D items (cost.rnd)");
  const RndResult& r = *l.rnd;
  AccountingView v = given(3, "development", name, "");
  v.counts = fmt::format(
      "the final run plus what the model's development needed beyond it (the scenario's R&D items: experiments and "
      "ablations, earlier models, post-training, staff, idle capacity), compute at the {} rate; Monte Carlo, {} "
      "samples",
      name_of(std::span<const Named<scenario::ComputePrice>>(scenario::kComputePriceNames), r.compute_price),
      r.options.samples);
  v.usd = r.total;
  v.spread = true;
  v.parts.push_back({"final run", exact(r.final_run), false, ViewPart::Role::part,
                     fmt::format("{} x {}", to_string(l.gpu_hours), to_string(r.compute_rate)),
                     "tcsim run-level simulation", ""});
  for (const RndItemResult& it : r.items) {
    if (!it.quantified) {
      v.parts.push_back({it.name, {}, false, ViewPart::Role::reference, "not quantified", it.note, ""});
      continue;
    }
    v.parts.push_back({it.name, it.usd, true, ViewPart::Role::part, "", it.source, tag_name(it.tag)});
    v.sources.push_back(it.source);
  }
  return v;
}

AccountingView company(const scenario::CostSpec& cost, const RndOptions& options) {
  const char* name = "Company AI hardware over the development period";
  if (!cost.company || !cost.owned) {
    return missing(4, "company", name, "the scenario gives no fleet (cost.company)");
  }
  const scenario::CompanySpec& c = *cost.company;
  const scenario::OwnershipSpec& o = *cost.owned;
  // One period per sample; every fleet and bracket over the same period.
  Rng rng(options.seed);
  std::vector<double> years;
  for (int s = 0; s < std::max(options.samples, 1); ++s) {
    years.push_back(quantile_of(c.period, rng.uniform()).value() / kSecondsPerYear);
  }
  const auto over_period = [&](double per_year) {
    std::vector<double> xs;
    xs.reserve(years.size());
    for (const double y : years) xs.push_back(per_year * y);
    return spread_of<Dollars>(std::move(xs));
  };
  AccountingView v = given(4, "company", name, "");
  v.spread = true;
  v.counts = fmt::format(
      "the GPU fleets the company held over the development period ({}), owned and amortised like view 2 whether "
      "busy or idle, with their energy; no staff or data; published spend brackets shown beside it, not added",
      c.period_source);
  double total_per_year = 0;
  for (const scenario::FleetHolding& f : c.fleet) {
    const DollarsPerGpuHour rate = fleet_rate(f.per_gpu, f.power, o);
    const double per_year = rate.value() * f.gpus * kSecondsPerYear / kSecondsPerHour;
    total_per_year += per_year;
    v.parts.push_back({f.name, over_period(per_year), true, ViewPart::Role::part,
                       fmt::format("{} GPUs x {} ({} per GPU{}, {} average power per GPU x PUE {}) x the period",
                                   whole(f.gpus), to_string(rate), to_string(f.per_gpu),
                                   f.per_gpu_owned ? ", as cost.owned" : "", to_string(f.power), o.pue),
                       f.source, tag_name(f.tag)});
    v.sources.push_back(f.source);
  }
  v.usd = over_period(total_per_year);
  for (const scenario::SpendBracket& b : c.brackets) {
    ViewPart p{b.name, {}, false, ViewPart::Role::bracket, "", b.source, tag_name(b.tag)};
    if (b.capital) {
      const double per_year = amortised(*b.capital, o).value() * kSecondsPerYear / kSecondsPerHour;
      p.usd = over_period(per_year);
      p.spread = true;
      p.how = fmt::format("capital {}, amortised over the period as view 2", to_string(*b.capital));
    } else if (b.per_year) {
      p.usd = over_period(b.per_year->value());
      p.spread = true;
      p.how = fmt::format("{} per year x the period", to_string(*b.per_year));
    } else {
      p.usd = exact(*b.usd);
      p.how = "as published, over its own period";
    }
    v.parts.push_back(std::move(p));
  }
  return v;
}

AccountingView peer(const scenario::PeerRun& p, const scenario::CostSpec& cost) {
  AccountingView v = given(5, "peer", fmt::format("Context: {}", p.name), "");
  const DollarsPerGpuHour rental = cost.headline ? cost.headline->rental : cost.rental;
  if (!(rental.value() > 0)) {
    return missing(5, "peer", v.name, "no rental rate to price the peer's GPU-hours (cost.headline or cost.rental)");
  }
  v.counts =
      fmt::format("a peer's published GPU-hours ({}), at the same {} rental as view {}{}", p.gpu, to_string(rental),
                  cost.headline ? 1 : 2, cost.owned ? " and on owned hardware by view 2's conventions" : "");
  v.usd = exact(p.gpu_hours * rental);
  v.sources = {p.source};
  v.parts.push_back({"at rental", v.usd, false, ViewPart::Role::part,
                     fmt::format("{} x {}", to_string(p.gpu_hours), to_string(rental)), p.source, tag_name(p.tag)});
  if (cost.owned && p.server) {
    // View 2's capital items with the peer's own server in place of the
    // catalog server (per_gpu: catalog), and its GPU's power.
    const scenario::OwnershipSpec& o = *cost.owned;
    Dollars value = *p.server;
    bool swapped = false;
    for (const scenario::CapitalItem& c : o.capital) {
      if (c.catalog) {
        swapped = true;
      } else {
        value += c.per_gpu;
      }
    }
    if (swapped) {
      const Watts power = p.tdp * (o.server_power_factor * o.power_fraction);
      const DollarsPerGpuHour rate = fleet_rate(value, power, o);
      v.parts.push_back({"on owned hardware", exact(p.gpu_hours * rate), false, ViewPart::Role::part,
                         fmt::format("{} x {} ({} per GPU: the peer's server and view 2's other capital; {})",
                                     to_string(p.gpu_hours), to_string(rate), to_string(value), convention(o)),
                         p.server_source, ""});
    }
  }
  for (const scenario::PeerEstimate& e : p.estimates) {
    v.parts.push_back(
        {e.name, exact(e.usd), false, ViewPart::Role::reference, "as published", e.source, tag_name(e.tag)});
  }
  return v;
}

}  // namespace

std::vector<AccountingView> accounting_views(const scenario::CostSpec& cost, const Ledger& ledger,
                                             const RndOptions& options) {
  std::vector<AccountingView> views;
  views.push_back(headline(cost));
  for (AccountingView& v : final_run(cost, ledger)) views.push_back(std::move(v));
  views.push_back(development(ledger));
  views.push_back(company(cost, options));
  if (cost.context.empty()) {
    views.push_back(missing(5, "peer", "Context: a peer's published run", "the scenario names no peer (cost.context)"));
  }
  for (const scenario::PeerRun& p : cost.context) views.push_back(peer(p, cost));
  return views;
}

}  // namespace tcsim::cost
