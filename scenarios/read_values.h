// Readers of values shared by the section readers (resolve.cpp,
// resolve_cost.cpp): list items, bounded numbers and values with their
// uncertainty.
#pragma once

#include <string_view>
#include <vector>

#include "scenarios/reader.h"
#include "scenarios/scenario.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {

// The items of a list-valued key, or an error naming what each item should be.
const std::vector<Node>& list_items(MapReader& r, std::string_view key, std::string_view what, bool required);

// A number in [min, max], the upper bound checked here (MapReader::number checks min).
void bounded(MapReader& r, std::string_view key, double& out, double min, double max);

// A value with its uncertainty: a plain value (fixed), or a map
// {dist: fixed|uniform|triangular|lognormal, ...}. `kind` names the unit of
// quantities; plain numbers (kind == count) must be >= min. Defined for
// double, Dollars, GpuHours and Seconds.
template <class Q>
Distribution<Q> read_distribution(MapReader& parent, std::string_view key, QuantityKind kind, double min,
                                  bool required);

}  // namespace tcsim::scenario
