// libFuzzer target: any bytes given to the scenario loader either load or
// raise ConfigError, and a scenario that loads can be accounted for (params,
// FLOPs, memory, one layer's op times) without a crash. Anything else (a
// crash, a sanitizer report, an assertion, another exception type) is a bug. The first line of the input may carry
// --set overrides separated by '\x1f' after a '\x1e' marker, so overrides are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "reports/accounting.h"
#include "reports/op_table.h"
#include "scenarios/loader.h"

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
  try {
    // A name with no directory: relative `extends` resolve against the
    // working directory, where the CI run keeps no scenario files.
    const tcsim::scenario::Scenario s = tcsim::scenario::load_scenario_text(text, "fuzz.yaml", sets);
    const tcsim::reports::Accounting a = tcsim::reports::account(s);
    (void)tcsim::reports::accounting_json(s, a).dump();
    (void)tcsim::reports::layer_ops_table(s);
  } catch (const tcsim::ConfigError&) {
  }
  return 0;
}
