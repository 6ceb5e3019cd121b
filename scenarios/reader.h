// Typed reading of one map of the scenario tree. Every accessor names the
// full key path and the source location in its errors; finish() rejects keys
// nobody read, with a did-you-mean hint. Private to the scenarios module.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/named.h"
#include "core/units.h"
#include "scenarios/quantity.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {

std::string join_path(std::string_view parent, std::string_view key);

// A scalar's text as the user wrote it, for "got ..." in messages.
std::string shown(const Node& n);

[[noreturn]] void fail(const Node& at, const std::string& path, const std::string& message);

// Far beyond any real model or cluster, small enough that products of a few
// such values stay exact in 64-bit integers and loops over them stay short.
inline constexpr int kMaxInteger = 1 << 24;

class MapReader {
 public:
  // Throws unless `node` is a map (a null node reads as an empty map).
  MapReader(const Node& node, std::string path);

  const std::string& path() const { return path_; }
  const Node& node() const { return node_; }

  // The value under `key`, nullptr when absent. Asking makes `key` known.
  const Node* take(std::string_view key);
  bool has(std::string_view key) const { return node_.find(key) != nullptr; }
  // Where `key` was written, or the map itself when absent.
  const Node& at(std::string_view key) const;

  // Each reader leaves `out` unchanged when the key is absent, unless the
  // key is required, in which case absence is an error.
  void integer(std::string_view key, int& out, int min, bool required = false, int max = kMaxInteger);
  void count(std::string_view key, std::int64_t& out, std::int64_t min, bool required = false);
  void number(std::string_view key, double& out, double min, bool required = false);
  void flag(std::string_view key, bool& out);
  void text(std::string_view key, std::string& out, bool required = false);
  void int_list(std::string_view key, std::vector<int>& out, int min);

  template <class Q>
  void quantity(std::string_view key, Q& out, QuantityKind kind, bool positive = true, bool required = false) {
    if (const Node* n = take_scalar(key, describe(kind), required)) {
      out = Q(parse_checked(*n, join_path(path_, key), kind, positive));
    }
  }

  template <class E, std::size_t N>
  void choice(std::string_view key, E& out, const std::array<Named<E>, N>& choices, bool required = false) {
    std::vector<std::string> names;
    for (const auto& c : choices) names.emplace_back(c.name);
    if (const Node* n = take_scalar(key, fmt::format("one of {}", fmt::join(names, ", ")), required)) {
      out = choices[choose(*n, join_path(path_, key), names)].value;
    }
  }

  // Rejects every present key that no accessor asked about.
  void finish() const;

 private:
  const Node* take_scalar(std::string_view key, std::string_view expected, bool required);
  static double parse_checked(const Node& n, const std::string& path, QuantityKind kind, bool positive);
  static std::size_t choose(const Node& n, const std::string& path, const std::vector<std::string>& names);

  const Node& node_;
  std::string path_;
  std::vector<std::string> known_;  // every key asked about
};

}  // namespace tcsim::scenario
