// A user's kernel families: a YAML file of name patterns that go before the
// built-in table (calibrate/trace/families.h), read through the same located
// reader as scenarios.
#include <cstdint>

#include <fmt/format.h>

#include "core/text_file.h"
#include "scenarios/loader.h"
#include "scenarios/reader.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

// Far beyond any table of patterns a person writes.
constexpr std::uintmax_t kMaxFamilyFileBytes = 1 << 20;

}  // namespace

std::vector<trace::FamilyPattern> load_family_patterns_text(std::string_view text, const std::string& file) {
  const Node doc = read_yaml(text, file);
  MapReader top(doc, "");
  const Node* list = top.take("families");
  if (list == nullptr || list->kind != Node::Kind::sequence) {
    fail(list != nullptr ? *list : doc, "families",
         "expected a list of {pattern: TEXT, family: NAME} (docs/calibration.md, \"Kernel families\")");
  }
  std::vector<trace::FamilyPattern> out;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    MapReader r(list->items[i], fmt::format("families[{}]", i));
    trace::FamilyPattern p;
    r.text("pattern", p.pattern, /*required=*/true);
    if (p.pattern.empty()) fail(r.at("pattern"), join_path(r.path(), "pattern"), "expected a non-empty text");
    r.choice("family", p.family, trace::kKernelFamilyNames, /*required=*/true);
    r.finish();
    out.push_back(std::move(p));
  }
  top.finish();
  return out;
}

std::vector<trace::FamilyPattern> load_family_patterns(const std::string& path) {
  return load_family_patterns_text(read_text_file(path, kMaxFamilyFileBytes, "the kernel families"), path);
}

}  // namespace tcsim::scenario
