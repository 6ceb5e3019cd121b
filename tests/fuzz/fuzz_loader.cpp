// libFuzzer target: any bytes given to the scenario loader either load or
// raise ConfigError, and a scenario that loads can be accounted for (params,
// FLOPs, memory, one layer's op times) without a crash. Anything else (a
// crash, a sanitizer report, an assertion, another exception type) is a bug. The first line of the input may carry
// --set overrides separated by '\x1f' after a '\x1e' marker, so overrides are fuzzed too. Any YAML that parses
// must also survive the scenario writer: written back, it reads as the same tree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "cost/ledger.h"
#include "reports/accounting.h"
#include "reports/op_table.h"
#include "scenarios/loader.h"
#include "scenarios/tree.h"

namespace {

// Kinds, keys, items and scalars equal (locations differ by construction).
bool same_tree(const tcsim::scenario::Node& a, const tcsim::scenario::Node& b) {
  if (a.kind != b.kind || a.scalar != b.scalar || a.keys != b.keys || a.items.size() != b.items.size() ||
      a.values.size() != b.values.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (!same_tree(a.items[i], b.items[i])) return false;
  }
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    if (!same_tree(a.values[i], b.values[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> sets;
  if (const auto mark = text.find('\x1e'); mark != std::string_view::npos) {
    std::string_view tail = text.substr(mark + 1);
    text = text.substr(0, mark);
    while (!tail.empty()) {
      const auto sep = tail.find('\x1f');
      sets.emplace_back(tail.substr(0, sep));
      if (sep == std::string_view::npos) break;
      tail.remove_prefix(sep + 1);
    }
  }
  // Whatever parses as YAML is written back (resolved.yaml's writer) and must
  // read back as the same tree.
  try {
    const tcsim::scenario::Node tree = tcsim::scenario::read_yaml(text, "fuzz.yaml");
    const std::string written = tcsim::scenario::write_yaml(tree);
    if (!same_tree(tree, tcsim::scenario::read_yaml(written, "written.yaml"))) std::abort();
  } catch (const tcsim::ConfigError&) {
  }
  try {
    // A name with no directory: relative `extends` resolve against the
    // working directory, where the CI run keeps no scenario files.
    const tcsim::scenario::Scenario s = tcsim::scenario::load_scenario_text(text, "fuzz.yaml", sets);
    const tcsim::reports::Accounting a = tcsim::reports::account(s);
    (void)tcsim::reports::accounting_json(s, a).dump();
    (void)tcsim::reports::layer_ops_table(s);
    // The ledger and its views over a made-up run: every cost input that loads can be priced.
    const tcsim::cost::Ledger l = tcsim::cost::price_run(s.cost, s.hardware.gpu.tdp, {{"main", tcsim::GpuHours(1000)}},
                                                         {.seed = 1, .samples = 20});
    (void)l.views.size();
  } catch (const tcsim::ConfigError&) {
  }
  return 0;
}
