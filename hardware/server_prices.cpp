#include "hardware/server_prices.h"

#include <array>

namespace tcsim::hw {
namespace {

// Epoch AI's hardware price data (snapshot in epoch-research/training-cost-trends,
// data/Hardware prices.csv, 2025-06) gives most rows; where only a card price is
// public, the server is the card times Epoch's chip-to-server factor, 1.64 (mean;
// 90% CI 1.3-2.1; arXiv:2405.21015 App. A.1).
// clang-format off
constexpr std::array<ServerPrice, 6> kPrices{{
    {"h800", "DGX H800 (8 GPUs)", Dollars(44750),
     "Epoch AI hardware price data: DGX H800 $358,000 (2025-02 listing) / 8", "exact"},
    {"h100", "DGX H100 (8 GPUs)", Dollars(33750),
     "SemiAnalysis via Epoch AI hardware price data: DGX H100 about $270,000 (2023-05) / 8", "estimate"},
    {"a100", "DGX A100 (8 GPUs, 320 GB)", Dollars(24875),
     "NVIDIA launch price via Epoch AI hardware price data: DGX A100 $199,000 (2020-05) / 8", "exact"},
    {"a800", "A800 card x chip-to-server factor", Dollars(24600),
     "Tom's Hardware (2023-07): A800 about CNY 110,000 (US$15,000) per card, x 1.64 chip-to-server "
     "(Epoch AI, arXiv:2405.21015 App. A.1) [derived]", "derived"},
    {"h20", "H20 card x chip-to-server factor", Dollars(19680),
     "Epoch AI hardware price data: H20 $12,000 per GPU (Tom's Hardware, $10,000-13,000, 2023-11), x 1.64 "
     "chip-to-server (Epoch AI, arXiv:2405.21015 App. A.1) [derived]", "derived"},
    {"h200", "HGX H200 8-GPU baseboard", Dollars(33821),
     "Epoch AI hardware price data: HGX H200 baseboard $270,565 (reseller, 2024-03) / 8; a baseboard, so CPUs, "
     "memory and chassis are not included", "estimate"},
}};
// clang-format on

// Aliases as the spec catalog spells them.
constexpr std::array<std::array<std::string_view, 2>, 6> kAliases{{
    {"h100-sxm", "h100"},
    {"h800-sxm", "h800"},
    {"a100-sxm-80gb", "a100"},
    {"a800-sxm-80gb", "a800"},
    {"h20-sxm", "h20"},
    {"h200-sxm", "h200"},
}};

}  // namespace

const ServerPrice* find_server_price(std::string_view gpu) {
  for (const auto& [alias, key] : kAliases) {
    if (gpu == alias) gpu = key;
  }
  for (const ServerPrice& p : kPrices) {
    if (p.gpu == gpu) return &p;
  }
  return nullptr;
}

}  // namespace tcsim::hw
