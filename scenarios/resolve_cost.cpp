// The `cost` section (docs/scenarios.md "Cost"): the rental assumption,
// owned hardware, the R&D items, and what the accounting views add.
#include <string>
#include <vector>

#include <fmt/format.h>

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
  r.finish();
  return c;
}


}  // namespace tcsim::scenario
