// A user's kernel families: a YAML file of name patterns that go before the
// built-in table (calibrate/trace/families.h), read through the same located
// reader as scenarios.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

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
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::is_regular_file(status)) {
    throw ConfigError(fmt::format("{}: cannot read the kernel families (not a regular file)", path));
  }
  if (std::filesystem::file_size(path, ec) > kMaxFamilyFileBytes) {
    throw ConfigError(fmt::format("{}: a kernel-family file larger than 1 MiB", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read the kernel families", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return load_family_patterns_text(buf.str(), path);
}

}  // namespace tcsim::scenario
