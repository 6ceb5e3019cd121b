// The parts of the report that say what the cost figures mean and how sure
// they are: the "read this first" box, the accounting views side by side
// (cost/views.h) with their chart, and the R&D total's tornado.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cost/evaluation.h"
#include "reports/document.h"
#include "reports/report.h"

namespace tcsim::reports {

// What a reader must know before any figure: whether the plan fits in
// memory, how far the simulation is from the published figures of the
// validation cases of this scenario, stand-ins, values changed by the user
// and cost items inherited from another model's file.
std::vector<std::string> read_first(const cost::Evaluation& e);

// One row per view (the five views, in order), with brackets and other
// figures for the same thing as rows beneath their view.
doc::Table views_table(const std::vector<cost::AccountingView>& views);

// The parts of the views that are not shown elsewhere in the report (the
// company's fleets, the peer's prices), one row each.
doc::Table view_parts_table(const std::vector<cost::AccountingView>& views);

// The views on one log axis; empty svg when no view is given.
Chart views_chart(const cost::Evaluation& e);

// The R&D total's median with each item at its p10 and p90, widest first.
std::optional<Chart> tornado_chart(const cost::RndResult& r);

// "The five inputs that decide the total: ..." (fewer when fewer are uncertain).
std::string deciding_inputs(const cost::RndResult& r);

}  // namespace tcsim::reports
