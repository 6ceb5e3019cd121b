// The scenario tree written back as YAML (write_yaml, scenarios/tree.h):
// block style, two-space indents, a scalar plain where a YAML reader cannot
// take it for anything else and double-quoted otherwise.
#include <string>
#include <string_view>

#include "core/quoted.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

// Plain only when no YAML rule can bite: no indicator first, no ": " or " #"
// inside, no colon last, no surrounding space, no document marker ("---",
// "...") first, nothing a reader would turn into null, a bool of another
// spelling, or a line break.
bool safe_plain(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (s.starts_with("---") || s.starts_with("...")) return false;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) != std::string_view::npos) return false;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return false;
  for (const char c : s) {
    if (c == '\n' || c == '\r' || c == '\t') return false;
  }
  for (const std::string_view word : {"null", "Null", "NULL", "~"}) {
    if (s == word) return false;
  }
  return true;
}

std::string double_quoted(std::string_view s) { return json_quoted(s); }  // valid YAML as well

std::string key_text(std::string_view key) { return safe_plain(key) ? std::string(key) : double_quoted(key); }

bool is_inline(const Node& n) {
  return n.kind == Node::Kind::null || n.kind == Node::Kind::scalar || (n.kind == Node::Kind::map && n.keys.empty()) ||
         (n.kind == Node::Kind::sequence && n.items.empty());
}

std::string inline_text(const Node& n) {
  switch (n.kind) {
    case Node::Kind::null: return "null";
    case Node::Kind::scalar: return !n.quoted && safe_plain(n.scalar) ? n.scalar : double_quoted(n.scalar);
    case Node::Kind::map: return "{}";
    case Node::Kind::sequence: return "[]";
  }
  return "null";
}

void block(const Node& n, int indent, std::string& out);

// A short list of scalars on one line, [a, b, c]; plain items must also
// keep clear of the flow indicators.
bool flow_list(const Node& n) {
  if (n.kind != Node::Kind::sequence || n.items.empty()) return false;
  std::size_t width = 0;
  for (const Node& item : n.items) {
    if (item.kind != Node::Kind::scalar && item.kind != Node::Kind::null) return false;
    width += item.scalar.size() + 2;
  }
  return width <= 80;
}

std::string flow_text(const Node& n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n.items.size(); ++i) {
    const Node& item = n.items[i];
    if (i > 0) out += ", ";
    const bool plain = item.kind == Node::Kind::scalar && !item.quoted && safe_plain(item.scalar) &&
                       item.scalar.find_first_of(",[]{}") == std::string::npos;
    out += item.kind == Node::Kind::null ? "null" : plain ? item.scalar : double_quoted(item.scalar);
  }
  return out + "]";
}

// What follows "key:" or "-": the value on the same line, or on the lines
// below at `indent` (a map inside a list item starts on the dash's line).
void after(const Node& v, int indent, bool dash, std::string& out) {
  if (is_inline(v)) {
    out += ' ' + inline_text(v) + '\n';
  } else if (flow_list(v)) {
    out += ' ' + flow_text(v) + '\n';
  } else if (dash && v.kind == Node::Kind::map) {
    std::string inner;
    block(v, indent, inner);
    out += ' ' + inner.substr(static_cast<std::size_t>(indent));
  } else {
    out += '\n';
    block(v, indent, out);
  }
}

void block(const Node& n, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (n.kind == Node::Kind::map) {
    for (std::size_t i = 0; i < n.keys.size(); ++i) {
      out += pad + key_text(n.keys[i]) + ':';
      after(n.values[i], indent + 2, false, out);
    }
  } else {
    for (const Node& item : n.items) {
      out += pad + '-';
      after(item, indent + 2, true, out);
    }
  }
}

}  // namespace

std::string write_yaml(const Node& node) {
  if (is_inline(node)) return inline_text(node) + '\n';
  std::string out;
  block(node, 0, out);
  return out;
}

}  // namespace tcsim::scenario
