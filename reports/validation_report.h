// The validation suite as `tcsim validate` prints it: one row per published
// figure (case, quantity, published, predicted, error), the memory check of
// every plan that trained as published, the mean absolute error and the
// biggest misses; or the same as JSON.
#pragma once

#include <string>
#include <vector>

#include "reports/json.h"
#include "study/validation.h"

namespace tcsim::reports {

std::string validation_table(const std::vector<study::CaseResult>& results);
Json validation_json(const std::vector<study::CaseResult>& results);

// A value of the figure's quantity as the table prints it ("180K", "32.00 s").
std::string figure_value(const scenario::PublishedFigure& f, double v);

// "GPU-hours per 1T tokens" and the like: a quantity as a person reads it.
std::string quantity_label(const scenario::PublishedFigure& f);

}  // namespace tcsim::reports
