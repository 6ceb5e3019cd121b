// Private to the scenarios module: the merged document tree to typed structs
// (resolve), then the cross-field rules (validate).
#pragma once

#include "scenarios/scenario.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {

// Field by field, with presets applied; throws ConfigError naming the key.
Scenario resolve(const Node& doc);

// Rules across fields (degrees multiply to the GPU count, divide layers,
// heads, experts and batch); `doc` supplies the locations for messages.
void validate(const Scenario& s, const Node& doc);

}  // namespace tcsim::scenario
