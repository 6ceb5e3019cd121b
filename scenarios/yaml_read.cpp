// The only file that includes yaml-cpp.
#include <yaml-cpp/yaml.h>

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

}  // namespace

Node read_yaml(std::string_view text, const std::string& file) {
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
