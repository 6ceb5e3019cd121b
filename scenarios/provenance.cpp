#include "scenarios/provenance.h"

#include <algorithm>
#include <array>
#include <set>
#include <span>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "core/quoted.h"

namespace tcsim::scenario {
namespace {

constexpr std::string_view kSet = "--set";

// A value's source pairs: the source key and the keys it vouches for. In a
// list item (an owned capital item, an R&D item, a fleet item, a peer run)
// `source` vouches for every key but these.
constexpr std::array<std::string_view, 7> kItemLabels{"name", "source", "tag", "note", "kind", "quantified", "counts"};

struct Pair {
  std::string_view source;
  std::vector<std::string_view> values;
};

std::string where(const SourceLoc& loc) {
  if (loc.file == kSet) return "--set";
  return to_string(loc);
}

std::string shown_value(const Node& v) {
  if (v.kind == Node::Kind::scalar) return json_quoted(v.scalar);
  if (v.kind == Node::Kind::null) return "null";
  return v.kind == Node::Kind::map ? "a map" : "a list";
}

// Every file a value under `n` was written in (leaves only: a merged map
// keeps the location of whatever was merged last).
void files_of(const Node& n, std::set<std::string>& out) {
  if (n.kind == Node::Kind::map && !n.keys.empty()) {
    for (const Node& v : n.values) files_of(v, out);
  } else if (n.kind == Node::Kind::sequence && !n.items.empty()) {
    for (const Node& v : n.items) files_of(v, out);
  } else {
    out.insert(n.loc.file);
  }
}

// How recent a place is: its index in the newest-first list (--set, the leaf
// file, then each file it extends); a place not listed is the oldest.
struct Ages {
  std::span<const std::string> newest_first;
  std::size_t operator()(const std::string& file) const {
    return static_cast<std::size_t>(std::find(newest_first.begin(), newest_first.end(), file) - newest_first.begin());
  }
};

// Relabels `map`'s source key when one of its values was written after it,
// somewhere else (a source written after its value is the user's own).
void relabel(Node& map, const Pair& pair, const std::string& path, const Ages& age, std::vector<std::string>& notes) {
  Node* source = map.find(pair.source);
  if (source == nullptr || source->kind != Node::Kind::scalar) return;
  for (std::size_t i = 0; i < map.keys.size(); ++i) {
    const std::string_view key = map.keys[i];
    const bool vouched = pair.values.empty()
                             ? std::find(kItemLabels.begin(), kItemLabels.end(), key) == kItemLabels.end()
                             : std::find(pair.values.begin(), pair.values.end(), key) != pair.values.end();
    if (!vouched) continue;
    std::set<std::string> files;
    files_of(map.values[i], files);
    const std::size_t source_age = age(source->loc.file);
    std::erase_if(files, [&](const std::string& f) { return age(f) >= source_age; });
    if (files.empty()) continue;
    const Node& value = map.values[i];
    const std::string key_path = path.empty() ? std::string(key) : path + "." + std::string(key);
    const std::string from = files.contains(std::string(kSet)) ? "--set" : where(value.loc);
    source->scalar = fmt::format("user value: {} = {} ({}); no source given", key_path, shown_value(value), from);
    source->quoted = true;
    source->loc = value.loc;
    if (Node* tag = map.find("tag"); tag != nullptr) {
      tag->kind = Node::Kind::scalar;
      tag->scalar = "assumption";
      tag->loc = value.loc;
    }
    notes.push_back(fmt::format("{}: {} replaces a sourced value without a source of its own", from, key_path));
    return;
  }
}

void relabel_items(Node* list, const std::string& path, const Ages& age, std::vector<std::string>& notes) {
  if (list == nullptr || list->kind != Node::Kind::sequence) return;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    if (list->items[i].kind == Node::Kind::map) {
      relabel(list->items[i], Pair{"source", {}}, fmt::format("{}[{}]", path, i), age, notes);
    }
  }
}

}  // namespace

std::vector<std::string> check_provenance(Node& doc, std::span<const std::string> newest_first) {
  std::vector<std::string> notes;
  const Ages ages{newest_first};
  Node* cost = doc.find("cost");
  if (cost == nullptr || cost->kind != Node::Kind::map) return notes;
  relabel(*cost, Pair{"rental_source", {"rental"}}, "cost", ages, notes);
  if (Node* owned = cost->find("owned"); owned != nullptr && owned->kind == Node::Kind::map) {
    relabel(*owned, Pair{"energy_price_source", {"energy_price"}}, "cost.owned", ages, notes);
    relabel(*owned, Pair{"power_source", {"power_fraction", "pue", "server_power_factor"}}, "cost.owned", ages, notes);
    relabel(*owned, Pair{"facility_source", {"facility"}}, "cost.owned", ages, notes);
    relabel_items(owned->find("capital"), "cost.owned.capital", ages, notes);
  }
  if (Node* rnd = cost->find("rnd"); rnd != nullptr && rnd->kind == Node::Kind::map) {
    relabel_items(rnd->find("items"), "cost.rnd.items", ages, notes);
  }
  if (Node* headline = cost->find("headline"); headline != nullptr && headline->kind == Node::Kind::map) {
    relabel(*headline, Pair{"source", {}}, "cost.headline", ages, notes);
  }
  if (Node* company = cost->find("company"); company != nullptr && company->kind == Node::Kind::map) {
    relabel_items(company->find("fleet"), "cost.company.fleet", ages, notes);
    relabel_items(company->find("brackets"), "cost.company.brackets", ages, notes);
  }
  relabel_items(cost->find("context"), "cost.context", ages, notes);

  // Sections written for one model's programme, kept from a file older than
  // the newest place the model was set.
  const auto newest = [&](const Node& n) {
    std::set<std::string> files;
    files_of(n, files);
    std::string best;
    std::size_t best_age = newest_first.size() + 1;
    for (const std::string& f : files) {
      if (ages(f) < best_age) {
        best_age = ages(f);
        best = f;
      }
    }
    return std::pair{best, best_age};
  };
  if (const Node* model = doc.find("model"); model != nullptr) {
    const auto [model_file, model_age] = newest(*model);
    for (const std::string_view section : {"headline", "rnd", "company"}) {
      const Node* n = cost->find(section);
      if (n == nullptr) continue;
      const auto [file, file_age] = newest(*n);
      if (model_age < file_age) {
        notes.push_back(
            fmt::format("cost.{} comes from {}, written for the model described there; the model was "
                        "changed afterwards ({}): its figures may belong to another model",
                        section, file, model_file == kSet ? "--set" : model_file));
      }
    }
  }
  return notes;
}

}  // namespace tcsim::scenario
