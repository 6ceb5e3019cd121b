// A derived kernel table (`tcsim trace kernels`, calibrate/profiles/
// NAME.kernels.csv) read back: its provenance lines and one row per GPU
// activity.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "calibrate/trace/families.h"
#include "calibrate/trace/kineto.h"

namespace tcsim::trace {

struct KernelRow {
  std::string name;
  KernelFamily family = KernelFamily::unknown;
  int device = 0;
  int stream = 0;
  double start_us = 0;
  double duration_us = 0;
  std::array<int, 3> grid{};
  std::array<int, 3> block{};
  std::string region;
};

struct KernelTable {
  std::vector<std::string> provenance;  // the "# " lines, without the marker
  std::vector<KernelRow> rows;
};

// The table of a trace: every GPU activity in file order, its family by
// `families` (memory copies and sets by their kind), its start relative to
// the trace's first activity, and the annotation region it counts in
// (summary.h, activity_regions; empty outside every annotation).
KernelTable table_of(const KinetoTrace& trace, const std::vector<FamilyPattern>& families);

// Throws ConfigError naming `name` and the line for a malformed table.
KernelTable parse_kernel_table(std::string_view text, std::string_view name);

}  // namespace tcsim::trace
