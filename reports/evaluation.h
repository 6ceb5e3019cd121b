// Evaluations (cost/evaluation.h) as JSON and text, one alone or two side by
// side; what only the step simulation can tell is reported as pending when
// the step oracle does not split it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.h"
#include "cost/evaluation.h"
#include "reports/json.h"
#include "scenarios/scenario.h"
#include "sim/run_level.h"

namespace tcsim::reports {

using cost::Evaluation;

// {scenario: {name, file, gpus, gpu}, run: {...}, cost: {...}, resolved: {...}}
Json evaluation_json(const cost::Evaluation& e);

inline constexpr std::string_view kStepBreakdownPending =
    "pending: compute, exposed communication and pipeline bubble within a step come from the step simulation "
    "(--step-oracle step-simulation); this run's step times come from a stand-in that does not split them";

// {a: {...}, b: {...}, difference: {...}, pending: [...]}
Json comparison_json(const cost::Evaluation& a, const cost::Evaluation& b);

// One evaluation as text: the run's phases (tokens, steps, GPU-hours, wall
// days), its totals and reliability overheads, and the ledger (final run at
// the rental rate, on owned hardware, the R&D total with its largest items).
std::string evaluation_table(const cost::Evaluation& e);

// Two evaluations side by side: one row per figure (label, A, B, B - A;
// `depth` indents the parts of a figure), and what the reader must know.
struct ComparisonRow {
  std::string label;
  std::string a, b, diff;
  int depth = 0;
};
struct Comparison {
  std::vector<ComparisonRow> rows;
  std::vector<std::string> notes;
};
Comparison comparison(const cost::Evaluation& a, const cost::Evaluation& b);

// Side-by-side text table of comparison().
std::string comparison_table(const cost::Evaluation& a, const cost::Evaluation& b);

}  // namespace tcsim::reports
