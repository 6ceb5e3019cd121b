#include "scenarios/reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "scenarios/loader.h"

namespace tcsim::scenario {

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string shown(const Node& n) {
  switch (n.kind) {
    case Node::Kind::scalar: {
      // A message quotes a value, not a file: long scalars are cut.
      constexpr std::size_t kShown = 80;
      if (n.scalar.size() <= kShown) return fmt::format("\"{}\"", n.scalar);
      std::size_t cut = kShown;
      while (cut > 0 && (static_cast<unsigned char>(n.scalar[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
      return fmt::format("\"{}...\" ({} characters)", n.scalar.substr(0, cut), n.scalar.size());
    }
    case Node::Kind::null: return "nothing";
    case Node::Kind::sequence: return "a list";
    case Node::Kind::map: return "a map";
  }
  return "?";
}

void fail(const Node& at, const std::string& path, const std::string& message) {
  throw ConfigError(at.loc, path, message);
}

MapReader::MapReader(const Node& node, std::string path) : node_(node), path_(std::move(path)) {
  if (node.kind != Node::Kind::map && node.kind != Node::Kind::null) {
    fail(node, path_, fmt::format("expected a map of keys, got {}", shown(node)));
  }
}

const Node* MapReader::take(std::string_view key) {
  // Every key asked about is a known key, present or not.
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  return node_.find(key);
}

const Node& MapReader::at(std::string_view key) const {
  const Node* n = node_.find(key);
  return n != nullptr ? *n : node_;
}

const Node* MapReader::take_scalar(std::string_view key, std::string_view expected, bool required) {
  const Node* n = take(key);
  const std::string path = join_path(path_, key);
  if (n == nullptr || n->kind == Node::Kind::null) {
    if (required) fail(n != nullptr ? *n : node_, path, fmt::format("missing; expected {}", expected));
    return nullptr;
  }
  if (n->kind != Node::Kind::scalar) fail(*n, path, fmt::format("expected {}, got {}", expected, shown(*n)));
  return n;
}

namespace {

// Whole numbers only: "8" is a degree, "8.5" and "8.0" are not.
std::optional<std::int64_t> parse_integer(std::string_view s) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

void MapReader::integer(std::string_view key, int& out, int min, bool required, int max) {
  const std::string expected = min > 0 ? "a positive whole number" : fmt::format("a whole number >= {}", min);
  const Node* n = take_scalar(key, expected, required);
  if (n == nullptr) return;
  const auto v = parse_integer(n->scalar);
  const std::string path = join_path(path_, key);
  if (!v) fail(*n, path, fmt::format("expected {}, got {}", expected, shown(*n)));
  if (*v < min) fail(*n, path, fmt::format("expected {}, got {}", expected, *v));
  if (*v > max) fail(*n, path, fmt::format("expected at most {}, got {}", max, *v));
  out = static_cast<int>(*v);
}

void MapReader::count(std::string_view key, std::int64_t& out, std::int64_t min, bool required) {
  const Node* n = take_scalar(key, describe(QuantityKind::count), required);
  if (n == nullptr) return;
  const std::string path = join_path(path_, key);
  const double v = parse_checked(*n, path, QuantityKind::count, false);
  // 2^62: far beyond any token count, and safely inside int64.
  constexpr double kLimit = 4.6e18;
  if (v != std::floor(v) || v < static_cast<double>(min) || v > kLimit) {
    fail(*n, path, fmt::format("expected a whole count >= {}, got {}", min, shown(*n)));
  }
  out = static_cast<std::int64_t>(v);
}

void MapReader::number(std::string_view key, double& out, double min, bool required) {
  const std::string expected = fmt::format("a number >= {}", min);
  const Node* n = take_scalar(key, expected, required);
  if (n == nullptr) return;
  const Parsed p = parse_quantity(n->scalar, QuantityKind::count);
  if (!p.value || *p.value < min)
    fail(*n, join_path(path_, key), fmt::format("expected {}, got {}", expected, shown(*n)));
  out = *p.value;
}

void MapReader::flag(std::string_view key, bool& out) {
  const Node* n = take_scalar(key, "true or false", false);
  if (n == nullptr) return;
  if (n->scalar == "true") {
    out = true;
  } else if (n->scalar == "false") {
    out = false;
  } else {
    fail(*n, join_path(path_, key), fmt::format("expected true or false, got {}", shown(*n)));
  }
}

void MapReader::text(std::string_view key, std::string& out, bool required) {
  if (const Node* n = take_scalar(key, "text", required)) out = n->scalar;
}

void MapReader::int_list(std::string_view key, std::vector<int>& out, int min) {
  const Node* n = take(key);
  if (n == nullptr || n->kind == Node::Kind::null) return;
  const std::string path = join_path(path_, key);
  if (n->kind != Node::Kind::sequence)
    fail(*n, path, fmt::format("expected a list of whole numbers, got {}", shown(*n)));
  out.clear();
  for (std::size_t i = 0; i < n->items.size(); ++i) {
    const Node& item = n->items[i];
    const std::string item_path = fmt::format("{}[{}]", path, i);
    const auto v = item.kind == Node::Kind::scalar ? parse_integer(item.scalar) : std::nullopt;
    if (!v || *v < min || *v > kMaxInteger) {
      fail(item, item_path, fmt::format("expected a whole number >= {}, got {}", min, shown(item)));
    }
    out.push_back(static_cast<int>(*v));
  }
}

double MapReader::parse_checked(const Node& n, const std::string& path, QuantityKind kind, bool positive) {
  const Parsed p = parse_quantity(n.scalar, kind);
  if (!p.value) fail(n, path, fmt::format("expected {}, got {}: {}", describe(kind), shown(n), p.problem));
  if (positive && !(*p.value > 0)) fail(n, path, fmt::format("expected a value above zero, got {}", shown(n)));
  if (!positive && *p.value < 0) fail(n, path, fmt::format("expected a value of zero or more, got {}", shown(n)));
  return *p.value;
}

std::size_t MapReader::choose(const Node& n, const std::string& path, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == n.scalar) return i;
  }
  const std::string hint = did_you_mean(n.scalar, names);
  fail(n, path,
       fmt::format("expected one of {}, got {}{}", fmt::join(names, ", "), shown(n),
                   hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
}

void MapReader::finish() const {
  for (std::size_t i = 0; i < node_.keys.size(); ++i) {
    const std::string& key = node_.keys[i];
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    // Unknown key: point at the key itself.
    const std::string hint = did_you_mean(key, known_);
    Node where;
    where.loc = node_.key_locs[i];
    fail(where, join_path(path_, key),
         hint.empty() ? "unknown key" : fmt::format("unknown key (did you mean \"{}\"?)", hint));
  }
}

}  // namespace tcsim::scenario
