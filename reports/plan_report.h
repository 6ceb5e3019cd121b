// The plan search's result (study/plan_search.h) as a table, JSON and CSV.
#pragma once

#include <string>

#include "reports/json.h"
#include "study/plan_search.h"

namespace tcsim::reports {

std::string plan_search_table(const study::PlanSearchResult& r);
Json plan_search_json(const study::PlanSearchResult& r);
// Every candidate that passed the rules (its memory was evaluated), with its fate.
std::string plan_search_csv(const study::PlanSearchResult& r);

}  // namespace tcsim::reports
