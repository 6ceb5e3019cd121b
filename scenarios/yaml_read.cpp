// The only file that includes yaml-cpp.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

// Bounds that keep a hostile document from exhausting the stack or memory
// (aliases can make a small file expand exponentially).
constexpr int kMaxDepth = 64;
constexpr long kMaxNodes = 200000;

struct Converter {
  const std::string& file;
  long nodes = 0;

  SourceLoc loc_of(const YAML::Mark& m) const {
    // yaml-cpp counts lines and columns from 0, and marks synthesised nodes -1.
    if (m.is_null() || m.line < 0) return SourceLoc{file, 0, 0};
    return SourceLoc{file, m.line + 1, m.column + 1};
  }

  Node convert(const YAML::Node& y, int depth) {
    if (++nodes > kMaxNodes) {
      throw ConfigError(loc_of(y.Mark()), "",
                        fmt::format("document too large (over {} values after aliases)", kMaxNodes));
    }
    if (depth > kMaxDepth) {
      throw ConfigError(loc_of(y.Mark()), "", fmt::format("document nested deeper than {} levels", kMaxDepth));
    }
    Node out;
    out.loc = loc_of(y.Mark());
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: out.kind = Node::Kind::null; break;
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::scalar;
        out.scalar = y.Scalar();
        out.quoted = y.Tag() == "!";
        break;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::sequence;
        for (const YAML::Node& item : y) out.items.push_back(convert(item, depth + 1));
        break;
      case YAML::NodeType::Map:
        out.kind = Node::Kind::map;
        for (const auto& kv : y) {
          const SourceLoc key_loc = loc_of(kv.first.Mark());
          if (!kv.first.IsScalar()) {
            throw ConfigError(key_loc, "", "expected a plain key, got a list or map as a key");
          }
          const std::string key = kv.first.Scalar();
          if (out.find(key) != nullptr) {
            throw ConfigError(key_loc, key, "duplicate key");
          }
          out.set(key, convert(kv.second, depth + 1), key_loc);
        }
        break;
    }
    return out;
  }
};

// The length of the UTF-8 sequence that starts at text[i], or 0 when it is
// not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Every byte of a document is text: valid UTF-8, and no control character
// but tab, line feed and carriage return, so whatever a scenario says can be
// echoed into JSON and terminals as it was written.
void check_text(std::string_view text, const std::string& file) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      throw ConfigError(SourceLoc{file, line, column}, "",
                        fmt::format("not UTF-8 text (byte 0x{:02X}); save the file as UTF-8", c));
    }
    if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\t' && c != '\n' && c != '\r') {
      throw ConfigError(SourceLoc{file, line, column}, "", fmt::format("control character 0x{:02X} in the text", c));
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
}

// A document marker ("---" or "...") at the start of a line, alone or
// before a space.
bool is_marker(std::string_view line, std::string_view marker) {
  return line.starts_with(marker) && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

// A file holds one document: a "---" after content, or content after "...",
// starts another one, which YAML::Load would silently ignore. Found by lines,
// not by YAML::LoadAll, which loops forever on some malformed input
// (yaml-cpp 0.7, found by fuzzing).
void check_one_document(std::string_view text, const std::string& file) {
  bool content = false, ended = false;
  int line_no = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    ++line_no;
    at = end + 1;
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;  // blank or a comment
    if (is_marker(line, "---")) {
      if (content || ended) {
        throw ConfigError(SourceLoc{file, line_no, 1}, "",
                          "a second YAML document (after ---): a file holds one document; the rest would be ignored");
      }
      continue;
    }
    if (is_marker(line, "...")) {
      ended = true;
      continue;
    }
    if (ended) {
      throw ConfigError(SourceLoc{file, line_no, 1}, "",
                        "text after the end of the document (...): a file holds one document");
    }
    if (!(line_no == 1 && line[0] == '%')) content = true;  // a %YAML directive is not content
  }
}

}  // namespace

Node read_yaml(std::string_view text, const std::string& file) {
  check_text(text, file);
  check_one_document(text, file);
  try {
    const YAML::Node doc = YAML::Load(std::string(text));
    Converter c{file};
    return c.convert(doc, 0);
  } catch (const YAML::Exception& e) {
    // Covers parser errors and yaml-cpp's own recursion guard.
    const SourceLoc where = e.mark.is_null() || e.mark.line < 0 ? SourceLoc{file, 0, 0}
                                                                : SourceLoc{file, e.mark.line + 1, e.mark.column + 1};
    throw ConfigError(where, "", fmt::format("malformed YAML: {}", e.msg));
  }
}

}  // namespace tcsim::scenario
