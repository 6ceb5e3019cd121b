// What a GPU costs to buy, per GPU, in a server: one row per catalog preset
// with its source, so a scenario can price owned hardware with
// `per_gpu: catalog` and a comparison on another GPU prices that GPU's
// server, not the first one's. Kept apart from the spec sheet (catalog.h):
// a price is a market figure of a date, not a property of the chip.
#pragma once

#include <string_view>

#include "core/units.h"

namespace tcsim::hw {

struct ServerPrice {
  std::string_view gpu;     // catalog key ("h800")
  std::string_view server;  // what was priced ("DGX H800 (8 GPUs)")
  Dollars per_gpu;          // purchase value per GPU, the server's share included
  std::string_view source;
  std::string_view tag;  // exact, derived or estimate (the shared reference's tags)
};

// The row for a catalog key or alias ("h100", "h100-sxm"), or nullptr when no
// sourced price is known.
const ServerPrice* find_server_price(std::string_view gpu);

}  // namespace tcsim::hw
