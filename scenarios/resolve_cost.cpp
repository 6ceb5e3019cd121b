// The `cost` section (docs/scenarios.md "Cost"): the rental assumption,
// owned hardware, the R&D items, and what the accounting views add.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hardware/catalog.h"
#include "hardware/server_prices.h"
#include "scenarios/read_values.h"
#include "scenarios/reader.h"
#include "scenarios/resolve.h"

namespace tcsim::scenario {
namespace {

// `per_gpu: catalog`: the server price of the scenario's GPU, with its
// source (hardware/server_prices.h), so another GPU prices its own server.
// A GPU with no sourced price (one described from scratch) leaves the item
// unpriced: `unpriced` is set and the caller drops what needs the price.
bool catalog_price(MapReader& c, const std::string& gpu, CapitalItem& item, bool& unpriced) {
  const Node* n = c.has("per_gpu") ? &c.at("per_gpu") : nullptr;
  if (n == nullptr || n->kind != Node::Kind::scalar || n->quoted || n->scalar != "catalog") return false;
  const hw::ServerPrice* p = hw::find_server_price(gpu);
  c.take("per_gpu");
  if (p == nullptr) {
    unpriced = true;
    return true;
  }
  for (const std::string_view key : {"source", "tag"}) {
    if (c.has(key)) {
      fail(c.at(key), join_path(c.path(), key),
           "comes from the catalog with per_gpu: catalog; give a price of your own to give its source");
    }
  }
  item.per_gpu = p->per_gpu;
  item.catalog = true;
  item.name = fmt::format("{}, per GPU", p->server);
  item.source = std::string(p->source);
  item.tag = p->tag == "exact" ? SourceTag::exact : p->tag == "derived" ? SourceTag::derived : SourceTag::estimate;
  return true;
}

OwnershipSpec read_ownership(MapReader r, const std::string& gpu, bool& unpriced) {
  OwnershipSpec o;
  const auto& capital = list_items(r, "capital", "purchase values per GPU ({name, per_gpu, source, tag})", true);
  for (std::size_t i = 0; i < capital.size(); ++i) {
    MapReader c(capital[i], fmt::format("cost.owned.capital[{}]", i));
    CapitalItem item;
    if (catalog_price(c, gpu, item, unpriced)) {
      c.text("name", item.name);
    } else {
      c.text("name", item.name, /*required=*/true);
      c.quantity("per_gpu", item.per_gpu, QuantityKind::dollars, /*positive=*/false, /*required=*/true);
      c.text("source", item.source, /*required=*/true);
      c.choice("tag", item.tag, kSourceTagNames, /*required=*/true);
    }
    c.finish();
    o.capital.push_back(std::move(item));
  }
  r.choice("depreciation", o.depreciation, kDepreciationNames);
  bounded(r, "depreciation_ooms_per_year", o.depreciation_ooms_per_year, 0.0, 10.0);
  r.quantity("lifetime", o.lifetime, QuantityKind::duration);
  r.quantity("energy_price", o.energy_price, QuantityKind::usd_per_kwh, /*positive=*/false, /*required=*/true);
  r.text("energy_price_source", o.energy_price_source, /*required=*/true);
  bounded(r, "power_fraction", o.power_fraction, 0.0, 1.0);
  bounded(r, "pue", o.pue, 1.0, 10.0);
  bounded(r, "server_power_factor", o.server_power_factor, 1.0, 10.0);
  r.text("power_source", o.power_source);
  r.quantity("facility", o.facility, QuantityKind::usd_per_gpu_hour, /*positive=*/false);
  r.text("facility_source", o.facility_source, /*required=*/r.has("facility"));
  r.finish();
  return o;
}

RndItem read_rnd_item(const Node& node, const std::string& path, bool owned) {
  MapReader r(node, path);
  RndItem it;
  r.text("name", it.name, /*required=*/true);
  r.choice("kind", it.kind, kRndKindNames, /*required=*/true);
  r.flag("quantified", it.quantified);
  r.text("note", it.note, /*required=*/!it.quantified);
  r.text("source", it.source, /*required=*/it.quantified);
  r.choice("tag", it.tag, kSourceTagNames, /*required=*/it.quantified);
  const bool q = it.quantified;
  using K = QuantityKind;
  switch (it.kind) {
    case RndKind::dollars: it.dollars = read_distribution<Dollars>(r, "amount", K::dollars, 0, q); break;
    case RndKind::gpu_hours: it.gpu_hours = read_distribution<GpuHours>(r, "amount", K::gpu_hours, 0, q); break;
    case RndKind::final_run_multiple:
    case RndKind::development_compute_ratio: it.ratio = read_distribution<double>(r, "ratio", K::count, 0, q); break;
    case RndKind::staff:
      it.headcount = read_distribution<double>(r, "headcount", K::count, 0, q);
      it.compensation = read_distribution<Dollars>(r, "compensation", K::dollars, 0, q);
      it.fte_share = read_distribution<double>(r, "fte_share", K::count, 0, q);
      it.overhead = read_distribution<double>(r, "overhead", K::count, 0, false);
      if (!r.has("overhead")) it.overhead.value = 1.0;  // compensation alone unless a multiplier is given
      it.duration = read_distribution<Seconds>(r, "duration", K::duration, 0, q);
      break;
    case RndKind::fleet:
      if (!owned) {
        fail(r.at("kind"), join_path(path, "kind"),
             "a fleet item is priced at the owned capital rate: give cost.owned (capital per GPU)");
      }
      it.gpus = read_distribution<double>(r, "gpus", K::count, 0, q);
      it.duration = read_distribution<Seconds>(r, "duration", K::duration, 0, q);
      break;
  }
  r.finish();
  return it;
}

RndSpec read_rnd(MapReader r, bool owned) {
  RndSpec rnd;
  r.choice("compute_price", rnd.compute_price, kComputePriceNames);
  if (rnd.compute_price == ComputePrice::owned && !owned) {
    fail(r.at("compute_price"), "cost.rnd.compute_price",
         "owned compute needs cost.owned (capital per GPU, energy price)");
  }
  const auto& items = list_items(r, "items", "R&D items ({name, kind, ...})", /*required=*/true);
  int ratios = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = fmt::format("cost.rnd.items[{}]", i);
    rnd.items.push_back(read_rnd_item(items[i], path, owned));
    if (rnd.items.back().kind == RndKind::development_compute_ratio && ++ratios > 1) {
      fail(items[i], path, "only one development_compute_ratio item: it is the whole development compute");
    }
  }
  r.finish();
  return rnd;
}

// `cost.headline`: the figure as published (view 1).
HeadlineSpec read_headline(MapReader r, const CostSpec& c) {
  HeadlineSpec h;
  r.quantity("gpu_hours", h.gpu_hours, QuantityKind::gpu_hours, /*positive=*/true, /*required=*/true);
  h.rental = c.rental;
  r.quantity("rental", h.rental, QuantityKind::usd_per_gpu_hour, /*positive=*/true, /*required=*/c.rental.value() <= 0);
  if (r.has("usd")) {
    Dollars usd;
    const Node& at = r.at("usd");
    r.quantity("usd", usd, QuantityKind::dollars);
    // A published total that is not its own GPU-hours x rate is a typo, not a view; 1% leaves room for totals
    // published to three or four significant figures ($5.576M).
    const double expected = (h.gpu_hours * h.rental).value();
    if (std::abs(usd.value() - expected) > 0.01 * expected) {
      fail(at, "cost.headline.usd",
           fmt::format("{} is not gpu_hours x rental = {}: check the figures", to_string(usd),
                       to_string(Dollars(expected))));
    }
    h.usd = usd;
  }
  r.text("source", h.source, /*required=*/true);
  r.finish();
  return h;
}

FleetHolding read_fleet_item(const Node& node, const std::string& path, const OwnershipSpec& owned) {
  MapReader r(node, path);
  FleetHolding f;
  r.text("name", f.name, /*required=*/true);
  r.number("gpus", f.gpus, 1, /*required=*/true);
  const Node* price = r.has("per_gpu") ? &r.at("per_gpu") : nullptr;
  if (price != nullptr && price->kind == Node::Kind::scalar && !price->quoted && price->scalar == "owned") {
    r.take("per_gpu");
    f.per_gpu_owned = true;
    for (const CapitalItem& c : owned.capital) f.per_gpu += c.per_gpu;
  } else {
    r.quantity("per_gpu", f.per_gpu, QuantityKind::dollars, /*positive=*/true, /*required=*/true);
  }
  // Average power per GPU before PUE: measured for the fleet, or from a GPU
  // preset's TDP by the owned-hardware conventions.
  if (r.has("power_per_gpu") == r.has("gpu")) {
    fail(node, path,
         "give one of power_per_gpu (average server power per GPU, measured) or gpu (a preset whose TDP "
         "is scaled by cost.owned's server_power_factor and power_fraction)");
  }
  if (r.has("gpu")) {
    std::string gpu;
    const Node& at = r.at("gpu");
    r.text("gpu", gpu);
    const hw::GpuSpec* spec = hw::find_gpu_preset(gpu);
    if (spec == nullptr) fail(at, join_path(path, "gpu"), fmt::format("unknown GPU preset {}", shown(at)));
    f.power = spec->tdp * (owned.server_power_factor * owned.power_fraction);
  } else {
    r.quantity("power_per_gpu", f.power, QuantityKind::power);
  }
  r.text("source", f.source, /*required=*/true);
  r.choice("tag", f.tag, kSourceTagNames, /*required=*/true);
  r.finish();
  return f;
}

SpendBracket read_bracket(const Node& node, const std::string& path) {
  MapReader r(node, path);
  SpendBracket b;
  r.text("name", b.name, /*required=*/true);
  const int given = int(r.has("capital")) + int(r.has("per_year")) + int(r.has("usd"));
  if (given != 1) {
    fail(node, path,
         "give exactly one of capital (amortised over the period), per_year (scaled to it) or usd (a "
         "total as published)");
  }
  for (auto [key, out] :
       {std::pair{"capital", &b.capital}, std::pair{"per_year", &b.per_year}, std::pair{"usd", &b.usd}}) {
    if (!r.has(key)) continue;
    Dollars d;
    r.quantity(key, d, QuantityKind::dollars);
    *out = d;
  }
  r.text("source", b.source, /*required=*/true);
  r.choice("tag", b.tag, kSourceTagNames, /*required=*/true);
  r.finish();
  return b;
}

// `cost.company`: the owned fleet and published spend over the development
// period (view 4), priced by cost.owned's conventions.
CompanySpec read_company(MapReader r, const std::optional<OwnershipSpec>& owned) {
  if (!owned) {
    fail(r.node(), "cost.company", "a company's fleet is priced by the owned-hardware conventions: give cost.owned");
  }
  CompanySpec c;
  c.period = read_distribution<Seconds>(r, "period", QuantityKind::duration, 0, /*required=*/true);
  r.text("period_source", c.period_source, /*required=*/true);
  const auto& fleet = list_items(r, "fleet", "fleets ({name, gpus, per_gpu, power_per_gpu or gpu, source, tag})", true);
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    c.fleet.push_back(read_fleet_item(fleet[i], fmt::format("cost.company.fleet[{}]", i), *owned));
  }
  const auto& brackets =
      list_items(r, "brackets", "published spend ({name, capital|per_year|usd, source, tag})", false);
  for (std::size_t i = 0; i < brackets.size(); ++i) {
    c.brackets.push_back(read_bracket(brackets[i], fmt::format("cost.company.brackets[{}]", i)));
  }
  r.finish();
  return c;
}

// `cost.context`: peers' published runs (view 5).
PeerRun read_peer(const Node& node, const std::string& path) {
  MapReader r(node, path);
  PeerRun p;
  r.text("name", p.name, /*required=*/true);
  r.quantity("gpu_hours", p.gpu_hours, QuantityKind::gpu_hours, /*positive=*/true, /*required=*/true);
  const Node& gpu_at = r.at("gpu");
  r.text("gpu", p.gpu, /*required=*/true);
  const hw::GpuSpec* spec = hw::find_gpu_preset(p.gpu);
  if (spec == nullptr) fail(gpu_at, join_path(path, "gpu"), fmt::format("unknown GPU preset {}", shown(gpu_at)));
  p.tdp = spec->tdp;
  if (const hw::ServerPrice* price = hw::find_server_price(p.gpu)) {
    p.server = price->per_gpu;
    p.server_source = fmt::format("{}: {}", price->server, price->source);
  }
  r.text("source", p.source, /*required=*/true);
  r.choice("tag", p.tag, kSourceTagNames, /*required=*/true);
  const auto& estimates = list_items(r, "estimates", "others' figures for the run ({name, usd, source, tag})", false);
  for (std::size_t i = 0; i < estimates.size(); ++i) {
    MapReader e(estimates[i], fmt::format("{}.estimates[{}]", path, i));
    PeerEstimate est;
    e.text("name", est.name, /*required=*/true);
    e.quantity("usd", est.usd, QuantityKind::dollars, /*positive=*/true, /*required=*/true);
    e.text("source", est.source, /*required=*/true);
    e.choice("tag", est.tag, kSourceTagNames, /*required=*/true);
    e.finish();
    p.estimates.push_back(std::move(est));
  }
  r.finish();
  return p;
}

}  // namespace

// `notes` gets what was left out: owned hardware on a GPU the price catalog
// does not know, and the R&D total when it is priced on owned hardware.
CostSpec read_cost(const Node& node, const std::string& gpu, std::vector<std::string>& notes) {
  MapReader r(node, "cost");
  CostSpec c;
  r.quantity("rental", c.rental, QuantityKind::usd_per_gpu_hour);
  r.text("rental_source", c.rental_source);
  bool unpriced = false;
  if (const Node* o = r.take("owned"); o != nullptr && o->kind != Node::Kind::null) {
    c.owned = read_ownership(MapReader(*o, "cost.owned"), gpu, unpriced);
  }
  if (unpriced) {
    c.owned.reset();
    notes.push_back(fmt::format(
        "cost.owned: the price catalog has no server price for GPU \"{}\", so owned-hardware costs are left out; "
        "give cost.owned.capital a per_gpu of your own, with its source",
        gpu));
  }
  if (const Node* n = r.take("rnd"); n != nullptr && n->kind != Node::Kind::null) {
    const Node* price = n->kind == Node::Kind::map ? n->find("compute_price") : nullptr;
    if (unpriced && price != nullptr && price->kind == Node::Kind::scalar && price->scalar == "owned") {
      notes.emplace_back(
          "cost.rnd: priced on owned hardware, which has no price here (see cost.owned), so the R&D "
          "total is left out");
    } else {
      c.rnd = read_rnd(MapReader(*n, "cost.rnd"), c.owned.has_value());
    }
  }
  if (const Node* n = r.take("headline"); n != nullptr && n->kind != Node::Kind::null) {
    c.headline = read_headline(MapReader(*n, "cost.headline"), c);
  }
  if (const Node* n = r.take("company"); n != nullptr && n->kind != Node::Kind::null) {
    if (unpriced) {
      notes.emplace_back(
          "cost.company: priced on owned hardware, which has no price here (see cost.owned), so the "
          "company view is left out");
    } else {
      c.company = read_company(MapReader(*n, "cost.company"), c.owned);
    }
  }
  const auto& peers = list_items(r, "context", "peers' published runs ({name, gpu_hours, gpu, source, tag})", false);
  for (std::size_t i = 0; i < peers.size(); ++i)
    c.context.push_back(read_peer(peers[i], fmt::format("cost.context[{}]", i)));
  r.finish();
  return c;
}

}  // namespace tcsim::scenario
