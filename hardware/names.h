// The names scenario files use for the hardware's enumerations.
#pragma once

#include <array>

#include "core/named.h"
#include "hardware/spec.h"

namespace tcsim::hw {

inline constexpr std::array<Named<Topology>, 4> kTopologyNames{
    {{"single-node", Topology::single_node},
     {"fat-tree", Topology::fat_tree},
     {"rail-optimized", Topology::rail_optimized},
     {"multi-plane-fat-tree", Topology::multi_plane_fat_tree}}};

template <class E, std::size_t N>
constexpr std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
  return tcsim::name_of(std::span<const Named<E>>(table), value);
}

}  // namespace tcsim::hw
