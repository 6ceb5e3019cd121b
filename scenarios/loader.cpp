#include "scenarios/loader.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/text_file.h"
#include "hardware/catalog.h"
#include "model/catalog.h"
#include "scenarios/provenance.h"
#include "scenarios/reader.h"
#include "scenarios/resolve.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

constexpr std::string_view kBuiltinPrefix = "builtin:";
// A chain of `extends` longer than this is a mistake, not a design.
constexpr std::size_t kMaxExtendsDepth = 32;
// Far beyond any scenario a person writes (the largest built-in is under 10 KiB),
// and small enough that yaml-cpp's own tree of the worst file (a flow list of
// a million items) stays near 250 MB and a second.
constexpr std::uintmax_t kMaxScenarioFileBytes = 1 << 20;

struct Source {
  std::string id;    // "builtin:NAME" or a normalised path: cycle detection
  std::string file;  // as shown in messages
  std::string text;
};

std::optional<Source> read_source(const std::string& path) {
  if (path.starts_with(kBuiltinPrefix)) {
    const std::string name = path.substr(kBuiltinPrefix.size());
    const std::string_view text = builtin_scenario_text(name);
    if (text.empty()) return std::nullopt;
    return Source{path, fmt::format("<builtin>/{}.yaml", name), std::string(text)};
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::string text = read_text_file(path, kMaxScenarioFileBytes, "the scenario");
  const std::filesystem::path canon = std::filesystem::weakly_canonical(path, ec);
  return Source{ec ? path : canon.string(), path, std::move(text)};
}

// Where an `extends` value points, relative to the file that wrote it. A
// built-in scenario extends other built-ins by their file name.
std::string resolve_extends(const std::string& value, const std::string& from_id) {
  if (value.starts_with(kBuiltinPrefix)) return value;
  if (from_id.starts_with(kBuiltinPrefix)) {
    return std::string(kBuiltinPrefix) + std::filesystem::path(value).stem().string();
  }
  const std::filesystem::path p(value);
  if (p.is_absolute()) return value;
  return (std::filesystem::path(from_id).parent_path() / p).lexically_normal().string();
}

// The files of an `extends` chain as it is followed: the first one read
// (the leaf) first. `ids` detect cycles; `files` name them as their values'
// locations do.
struct Chain {
  std::vector<std::string> ids;
  std::vector<std::string> files;
};

Node load_document(const Source& src, Chain& chain);

// A document read from `src` (or written inside another file, as a
// validation case's `scenario:` map), with its `extends` chain merged in.
Node expand_document(Node doc, const Source& src, Chain& chain) {
  chain.ids.push_back(src.id);
  chain.files.push_back(src.file);
  if (doc.kind == Node::Kind::null) {
    fail(doc, "", "empty scenario: expected a map of sections (model, parallelism, hardware, training, ...)");
  }
  if (doc.kind != Node::Kind::map) {
    fail(doc, "", fmt::format("expected a map of sections (model, parallelism, hardware, ...), got {}", shown(doc)));
  }
  const Node* ext = doc.find("extends");
  if (ext == nullptr) return doc;
  if (ext->kind != Node::Kind::scalar || ext->scalar.empty()) {
    fail(*ext, "extends", fmt::format("expected the path of a scenario file, got {}", shown(*ext)));
  }
  const std::string target = resolve_extends(ext->scalar, src.id);
  std::optional<Source> base_src;
  try {
    base_src = read_source(target);
  } catch (const ConfigError& e) {
    fail(*ext, "extends", e.what());
  }
  if (!base_src) {
    fail(*ext, "extends", fmt::format("cannot read scenario \"{}\" (looked for {})", ext->scalar, target));
  }
  if (std::find(chain.ids.begin(), chain.ids.end(), base_src->id) != chain.ids.end()) {
    std::string cycle;
    for (const std::string& id : chain.ids) cycle += id + " -> ";
    fail(*ext, "extends", fmt::format("extends cycle: {}{}", cycle, base_src->id));
  }
  if (chain.ids.size() >= kMaxExtendsDepth) {
    fail(*ext, "extends", fmt::format("extends chain deeper than {} files", kMaxExtendsDepth));
  }
  Node base = load_document(*base_src, chain);
  doc.erase("extends");
  merge_into(base, doc);
  return base;
}

Node load_document(const Source& src, Chain& chain) {
  return expand_document(read_yaml(src.text, src.file), src, chain);
}

// The merged tree as it is resolved: --set applied, then the provenance
// check (scenarios/provenance.h), whose notes join the tree's `notes:` list.
void prepare(Node& doc, const Chain& chain, std::span<const std::string> overrides) {
  for (const std::string& o : overrides) apply_override(doc, o);
  std::vector<std::string> newest_first = chain.files;
  if (!overrides.empty()) newest_first.insert(newest_first.begin(), "--set");
  const std::vector<std::string> notes = check_provenance(doc, newest_first);
  if (notes.empty() || doc.kind != Node::Kind::map) return;
  Node* list = doc.find("notes");
  if (list == nullptr) {
    Node empty;
    empty.kind = Node::Kind::sequence;
    empty.loc = doc.loc;
    doc.set("notes", std::move(empty), doc.loc);
    list = doc.find("notes");
  }
  if (list->kind != Node::Kind::sequence) return;  // resolve reports it
  for (const std::string& n : notes) {
    Node item;
    item.kind = Node::Kind::scalar;
    item.scalar = n;
    item.quoted = true;
    item.loc = doc.loc;
    list->items.push_back(std::move(item));
  }
}

Scenario resolve_document(Node doc, const std::string& file, const Chain& chain,
                          std::span<const std::string> overrides) {
  prepare(doc, chain, overrides);
  Scenario s = resolve(doc);
  s.file = file;
  s.overrides.assign(overrides.begin(), overrides.end());
  validate(s, doc);
  return s;
}

Scenario load(const Source& src, std::span<const std::string> overrides) {
  Chain chain;
  Node doc = load_document(src, chain);
  return resolve_document(std::move(doc), src.file, chain, overrides);
}

Source source_named(const std::string& file) {
  std::error_code ec;
  const std::filesystem::path canon = std::filesystem::weakly_canonical(file, ec);
  return Source{ec ? file : canon.string(), file, {}};
}

}  // namespace

Scenario load_scenario(const std::string& path, std::span<const std::string> overrides) {
  std::optional<Source> src = read_source(path);
  if (!src) {
    if (path.starts_with(kBuiltinPrefix)) {
      throw ConfigError(
          fmt::format("{}: no such built-in scenario (built-in: {})", path, fmt::join(builtin_scenario_names(), ", ")));
    }
    throw ConfigError(fmt::format("{}: cannot read scenario file", path));
  }
  return load(*src, overrides);
}

std::string resolved_yaml(const std::string& path, std::span<const std::string> overrides) {
  load_scenario(path, overrides);  // refuses what a run would refuse
  std::optional<Source> src = read_source(path);
  Chain chain;
  Node doc = load_document(*src, chain);
  prepare(doc, chain, overrides);
  // A relative calibration profile or Hugging Face config path is relative
  // to the file that wrote it; here it is written out from wherever the
  // resolved file will be.
  const auto make_absolute = [](Node* section, std::string_view key) {
    if (section == nullptr || section->kind != Node::Kind::map) return;
    Node* n = section->find(key);
    if (n == nullptr || n->kind != Node::Kind::scalar || n->scalar.starts_with(kBuiltinPrefix) ||
        !std::filesystem::path(n->scalar).is_relative()) {
      return;
    }
    const std::string& from = n->loc.file;
    const std::filesystem::path base = from.starts_with("<") || from == "--set"
                                           ? std::filesystem::current_path()
                                           : std::filesystem::absolute(from).parent_path();
    n->scalar = (base / n->scalar).lexically_normal().string();
  };
  make_absolute(doc.find("hardware"), "calibration");
  make_absolute(doc.find("model"), "hf_config");
  std::string head = fmt::format(
      "# {} resolved: every `extends` merged{}; the files it names (presets aside) by absolute path.\n"
      "# `tcsim run` on this file reproduces the run it was written for.\n",
      src->file, overrides.empty() ? "" : fmt::format(" and {} --set applied", overrides.size()));
  for (const std::string& o : overrides) head += fmt::format("#   --set {}\n", o);
  return head + write_yaml(doc);
}

std::string scenario_text(const std::string& path) {
  std::optional<Source> src = read_source(path);
  if (!src) throw ConfigError(fmt::format("{}: no such scenario", path));
  return std::move(src->text);
}

Scenario load_scenario_text(std::string_view text, const std::string& file, std::span<const std::string> overrides) {
  Source src = source_named(file);
  src.text = text;
  return load(src, overrides);
}

Scenario load_scenario_document(const Node& doc, const std::string& file, bool builtin) {
  Chain chain;
  Source src = source_named(file);
  if (builtin) src.id = std::string(kBuiltinPrefix) + std::filesystem::path(file).stem().string();
  Node merged = expand_document(doc, src, chain);
  return resolve_document(std::move(merged), file, chain, {});
}

std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
  // Levenshtein distance; a suggestion must be within a third of the word.
  const auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace tcsim::scenario
