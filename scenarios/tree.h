// The scenario document as a plain tree that remembers where every value was
// written. YAML enters here (read_yaml is the one function that sees
// yaml-cpp); `extends` merging and --set overrides act on this tree, and the
// resolver turns it into typed structs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tcsim::scenario {

struct Node {
  enum class Kind { null, scalar, sequence, map };
  Kind kind = Kind::null;
  std::string scalar;
  bool quoted = false;      // the scalar was written in quotes
  std::vector<Node> items;  // sequence
  // Map entries in written order: keys[i] maps to values[i], written at key_locs[i].
  std::vector<std::string> keys;
  std::vector<Node> values;
  std::vector<SourceLoc> key_locs;
  SourceLoc loc;

  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  void set(std::string key, Node value, SourceLoc key_loc);
  void erase(std::string_view key);
};

std::string_view kind_name(Node::Kind kind);

// Parses YAML text; `file` names it in error messages. Throws ConfigError with
// the parser's line and column on malformed input, or on documents nested or
// aliased beyond sane limits.
Node read_yaml(std::string_view text, const std::string& file);

// YAML text that read_yaml reads back as `node` (the same kinds, keys,
// items and scalars; locations are the new text's): block style, a scalar
// double-quoted where plain text could be read as something else.
std::string write_yaml(const Node& node);

// Field-level override: maps merge key by key (recursively); anything else in
// `over` replaces what `base` had.
void merge_into(Node& base, const Node& over);

// Applies one "--set PATH=VALUE" override. PATH is dotted with [i] for list
// elements; VALUE is read as YAML (a scalar, or a flow list or map).
void apply_override(Node& root, std::string_view assignment);

}  // namespace tcsim::scenario
