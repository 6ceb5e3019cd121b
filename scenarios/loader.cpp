#include "scenarios/loader.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/text_file.h"
#include "hardware/catalog.h"
#include "model/catalog.h"
#include "scenarios/reader.h"
#include "scenarios/resolve.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

constexpr std::string_view kBuiltinPrefix = "builtin:";
// A chain of `extends` longer than this is a mistake, not a design.
constexpr std::size_t kMaxExtendsDepth = 32;
// Far beyond any scenario a person writes (the largest built-in is under 10 KiB).
constexpr std::uintmax_t kMaxScenarioFileBytes = 4 << 20;

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

Node load_document(const Source& src, std::vector<std::string>& chain);

// A document read from `src` (or written inside another file, as a
// validation case's `scenario:` map), with its `extends` chain merged in.
Node expand_document(Node doc, const Source& src, std::vector<std::string>& chain) {
  chain.push_back(src.id);
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
  if (std::find(chain.begin(), chain.end(), base_src->id) != chain.end()) {
    std::string cycle;
    for (const std::string& id : chain) cycle += id + " -> ";
    fail(*ext, "extends", fmt::format("extends cycle: {}{}", cycle, base_src->id));
  }
  if (chain.size() >= kMaxExtendsDepth) {
    fail(*ext, "extends", fmt::format("extends chain deeper than {} files", kMaxExtendsDepth));
  }
  Node base = load_document(*base_src, chain);
  doc.erase("extends");
  merge_into(base, doc);
  return base;
}

Node load_document(const Source& src, std::vector<std::string>& chain) {
  return expand_document(read_yaml(src.text, src.file), src, chain);
}

Scenario resolve_document(Node doc, const std::string& file, std::span<const std::string> overrides) {
  for (const std::string& o : overrides) apply_override(doc, o);
  Scenario s = resolve(doc);
  s.file = file;
  validate(s, doc);
  return s;
}

Scenario load(const Source& src, std::span<const std::string> overrides) {
  std::vector<std::string> chain;
  return resolve_document(load_document(src, chain), src.file, overrides);
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
  std::vector<std::string> chain;
  Source src = source_named(file);
  if (builtin) src.id = std::string(kBuiltinPrefix) + std::filesystem::path(file).stem().string();
  return resolve_document(expand_document(doc, src, chain), file, {});
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
