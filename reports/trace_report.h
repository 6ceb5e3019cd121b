// A trace summary (calibrate/trace/summary.h) as text and JSON.
#pragma once

#include <string>

#include "calibrate/trace/summary.h"
#include "reports/json.h"

namespace tcsim::reports {

std::string trace_summary_table(const trace::TraceSummary& s);
Json trace_summary_json(const trace::TraceSummary& s);

}  // namespace tcsim::reports
