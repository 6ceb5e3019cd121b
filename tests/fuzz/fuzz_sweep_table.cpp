// libFuzzer target: any bytes read back as a sweep table (resume and `sweep
// merge` read tables people and killed processes leave behind) either parse,
// as CSV and as JSON lines, or raise ConfigError; what parses merges with
// itself and prints back. Anything else (a crash, a sanitizer report, a hang
// past the fuzzer's timeout, another exception type) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "reports/sweep_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const tcsim::reports::SweepFormat format :
       {tcsim::reports::SweepFormat::csv, tcsim::reports::SweepFormat::jsonl}) {
    try {
      const tcsim::reports::SweepTable t = tcsim::reports::parse_table(text, format, "fuzz");
      const std::vector<tcsim::reports::SweepTable> twice{t, t};
      const std::vector<std::string> names{"a", "b"};
      const tcsim::reports::MergedTable m = tcsim::reports::merge_tables(twice, names);
      (void)tcsim::reports::format_table(m.columns, m.records, format);
    } catch (const tcsim::ConfigError&) {
    }
  }
  return 0;
}
