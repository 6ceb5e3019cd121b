// Private to the scenarios module: the merged document tree to typed structs
// (resolve), then the cross-field rules (validate).
#pragma once

#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {

// Field by field, with presets applied; throws ConfigError naming the key.
Scenario resolve(const Node& doc);

// The `cost` section; `gpu` prices `per_gpu: catalog` items, and `notes`
// gets what had to be left out (resolve_cost.cpp).
CostSpec read_cost(const Node& node, const std::string& gpu, std::vector<std::string>& notes);

// Rules across fields (degrees multiply to the GPU count, divide layers,
// heads, experts and batch); `doc` supplies the locations for messages.
void validate(const Scenario& s, const Node& doc);

}  // namespace tcsim::scenario
