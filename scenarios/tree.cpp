#include "scenarios/tree.h"

#include <fmt/format.h>
#include <charconv>

namespace tcsim::scenario {

const Node* Node::find(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &values[i];
  }
  return nullptr;
}

Node* Node::find(std::string_view key) { return const_cast<Node*>(static_cast<const Node*>(this)->find(key)); }

void Node::set(std::string key, Node value, SourceLoc key_loc) {
  if (Node* existing = find(key)) {
    *existing = std::move(value);
    return;
  }
  keys.push_back(std::move(key));
  values.push_back(std::move(value));
  key_locs.push_back(std::move(key_loc));
}

void Node::erase(std::string_view key) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) {
      const auto at = static_cast<std::ptrdiff_t>(i);
      keys.erase(keys.begin() + at);
      values.erase(values.begin() + at);
      key_locs.erase(key_locs.begin() + at);
      return;
    }
  }
}

std::string_view kind_name(Node::Kind kind) {
  switch (kind) {
    case Node::Kind::null: return "nothing";
    case Node::Kind::scalar: return "a value";
    case Node::Kind::sequence: return "a list";
    case Node::Kind::map: return "a map";
  }
  return "?";
}

void merge_into(Node& base, const Node& over) {
  if (base.kind != Node::Kind::map || over.kind != Node::Kind::map) {
    base = over;
    return;
  }
  for (std::size_t i = 0; i < over.keys.size(); ++i) {
    if (Node* mine = base.find(over.keys[i])) {
      merge_into(*mine, over.values[i]);
    } else {
      base.set(over.keys[i], over.values[i], over.key_locs[i]);
    }
  }
  base.loc = over.loc;
}

namespace {

struct PathStep {
  std::string key;  // map key (empty for an index step)
  long index = -1;  // list index (-1 for a key step)
  int column = 0;   // 1-based column of the step in the argument
};

SourceLoc set_loc(int column) { return SourceLoc{"--set", 1, column}; }

std::vector<PathStep> parse_path(std::string_view path, std::string_view whole) {
  std::vector<PathStep> steps;
  std::size_t i = 0;
  const auto fail = [&](std::size_t at, const std::string& what) {
    throw ConfigError(set_loc(static_cast<int>(at) + 1), std::string(whole), what);
  };
  while (i < path.size()) {
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) fail(i, "unclosed '[' in the path");
      const std::string_view digits = path.substr(i + 1, close - i - 1);
      long index = -1;
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() || index < 0) {
        fail(i, fmt::format("expected a list index like [0], got [{}]", digits));
      }
      steps.push_back({"", index, static_cast<int>(i) + 1});
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
      continue;
    }
    std::size_t end = i;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    if (end == i) fail(i, "empty key in the path");
    steps.push_back({std::string(path.substr(i, end - i)), -1, static_cast<int>(i) + 1});
    i = end;
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (i == path.size()) fail(i, "the path ends with '.'");
    }
  }
  if (steps.empty()) fail(0, "expected PATH=VALUE, the path is empty");
  return steps;
}

}  // namespace

void apply_override(Node& root, std::string_view assignment) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    throw ConfigError(set_loc(1), std::string(assignment), "expected PATH=VALUE, found no '='");
  }
  const std::string_view path = assignment.substr(0, eq);
  const std::string_view text = assignment.substr(eq + 1);
  const std::vector<PathStep> steps = parse_path(path, assignment);

  Node value = read_yaml(text, "--set");
  // Locations inside the value point at the argument, past the '='.
  const int value_column = static_cast<int>(eq) + 2;
  value.loc = set_loc(value_column);

  Node* at = &root;
  std::string walked;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const PathStep& step = steps[s];
    const bool last = s + 1 == steps.size();
    if (step.index >= 0) {
      if (at->kind != Node::Kind::sequence) {
        throw ConfigError(set_loc(step.column), walked,
                          fmt::format("[{}] indexes a list, but this is {}", step.index, kind_name(at->kind)));
      }
      if (static_cast<std::size_t>(step.index) >= at->items.size()) {
        throw ConfigError(set_loc(step.column), walked,
                          fmt::format("index [{}] is past the end of a list of {}", step.index, at->items.size()));
      }
      walked += fmt::format("[{}]", step.index);
      Node& next = at->items[static_cast<std::size_t>(step.index)];
      if (last) {
        merge_into(next, value);
        next.loc = value.loc;
      }
      at = &next;
      continue;
    }
    walked += (walked.empty() ? "" : ".") + step.key;
    if (at->kind == Node::Kind::null) at->kind = Node::Kind::map;
    if (at->kind != Node::Kind::map) {
      throw ConfigError(set_loc(step.column), walked, fmt::format("cannot set a key inside {}", kind_name(at->kind)));
    }
    Node* next = at->find(step.key);
    if (next == nullptr) {
      Node fresh;
      fresh.loc = set_loc(step.column);
      at->set(step.key, std::move(fresh), set_loc(step.column));
      next = at->find(step.key);
    }
    if (last) {
      // A scalar replaces a preset name ("model: deepseek-v3") or value;
      // a flow map merges field by field like `extends`.
      merge_into(*next, value);
      next->loc = value.loc;
    }
    at = next;
  }
}

}  // namespace tcsim::scenario
