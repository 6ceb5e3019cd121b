// A trace summary (calibrate/trace/summary.h) as text and JSON.
#pragma once

#include <string>
#include <vector>

#include "calibrate/trace/kernel_table.h"
#include "calibrate/trace/summary.h"
#include "reports/json.h"

namespace tcsim::reports {

std::string trace_summary_table(const trace::TraceSummary& s);

// Every GPU activity of the trace as a CSV row: name, family, device,
// stream, start (microseconds after the trace's first activity), duration,
// launch grid and block, and the annotated region it counts in. `header`
// lines go first, each as a "# " comment (the trace's source and commit).
std::string trace_kernels_csv(const trace::KinetoTrace& t, const std::vector<trace::FamilyPattern>& families,
                              const std::vector<std::string>& header);
Json trace_summary_json(const trace::TraceSummary& s);

}  // namespace tcsim::reports
