// The names scenario files use for the hardware's enumerations.
#pragma once

#include <array>

#include "core/named.h"
#include "hardware/collectives.h"
#include "hardware/spec.h"

namespace tcsim::hw {

inline constexpr std::array<Named<Topology>, 4> kTopologyNames{
    {{"single-node", Topology::single_node},
     {"fat-tree", Topology::fat_tree},
     {"rail-optimized", Topology::rail_optimized},
     {"multi-plane-fat-tree", Topology::multi_plane_fat_tree}}};

// `tcsim collective --op` and `--algo`.
inline constexpr std::array<Named<CollectiveOp>, 5> kCollectiveOpNames{
    {{"all-reduce", CollectiveOp::all_reduce},
     {"reduce-scatter", CollectiveOp::reduce_scatter},
     {"all-gather", CollectiveOp::all_gather},
     {"all-to-all", CollectiveOp::all_to_all},
     {"send-recv", CollectiveOp::send_recv}}};

inline constexpr std::array<Named<CollectiveAlgo>, 5> kCollectiveAlgoNames{
    {{"ring", CollectiveAlgo::ring},
     {"tree", CollectiveAlgo::tree},
     {"hierarchical", CollectiveAlgo::hierarchical},
     {"direct", CollectiveAlgo::direct},
     {"pairwise", CollectiveAlgo::pairwise}}};

template <class E, std::size_t N>
constexpr std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
  return tcsim::name_of(std::span<const Named<E>>(table), value);
}

}  // namespace tcsim::hw
