// The collective algorithms by (operation, algorithm): one table, one leaf
// file per algorithm in collectives/ (docs/design.md, "Adding a collective
// algorithm").
#include "hardware/collectives.h"

#include <array>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/collectives/common.h"
#include "hardware/names.h"

namespace tcsim::hw {

namespace detail {

// The group's GPUs node by node, nodes in order of first appearance.
std::vector<std::vector<int>> by_node(const GroupLayout& g) {
  std::vector<std::vector<int>> nodes;
  std::map<int, std::size_t> where;
  for (const int r : g.ranks) {
    const int node = r / g.gpus_per_node;
    const auto [it, fresh] = where.emplace(node, nodes.size());
    if (fresh) nodes.emplace_back();
    nodes[it->second].push_back(r);
  }
  return nodes;
}

void check_group(const GroupLayout& g, int channels) {
  if (g.ranks.empty()) throw ConfigError("collective: the group has no GPUs");
  if (g.gpus_per_node < 1) throw std::invalid_argument("collective: gpus_per_node must be positive");
  if (channels < 1) throw ConfigError(fmt::format("collective: channels must be at least 1, got {}", channels));
  if (std::set<int>(g.ranks.begin(), g.ranks.end()).size() != g.ranks.size()) {
    throw ConfigError("collective: a GPU appears twice in the group");
  }
}

}  // namespace detail

namespace {

// Every algorithm there is, for the operations it serves.
struct Algorithm {
  CollectiveOp op;
  CollectiveAlgo algo;
  Schedule (*make)(const GroupLayout& group, Bytes size, const CollectiveOptions& options);
};

constexpr std::array<Algorithm, 8> kAlgorithms{{
    {CollectiveOp::all_reduce, CollectiveAlgo::ring,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions& o) { return ring_all_reduce(g, s, o.channels); }},
    {CollectiveOp::all_reduce, CollectiveAlgo::tree,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions& o) { return tree_all_reduce(g, s, o.tree_chunk); }},
    {CollectiveOp::all_reduce, CollectiveAlgo::hierarchical,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions&) { return hierarchical_all_reduce(g, s); }},
    {CollectiveOp::reduce_scatter, CollectiveAlgo::ring,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions& o) { return ring_reduce_scatter(g, s, o.channels); }},
    {CollectiveOp::all_gather, CollectiveAlgo::ring,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions& o) { return ring_all_gather(g, s, o.channels); }},
    {CollectiveOp::all_to_all, CollectiveAlgo::direct,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions&) { return all_to_all(g, s, CollectiveAlgo::direct); }},
    {CollectiveOp::all_to_all, CollectiveAlgo::pairwise,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions&) {
       return all_to_all(g, s, CollectiveAlgo::pairwise);
     }},
    {CollectiveOp::send_recv, CollectiveAlgo::direct,
     [](const GroupLayout& g, Bytes s, const CollectiveOptions&) {
       detail::check_group(g, 1);
       return send_recv(g.ranks.front(), g.ranks.back(), s);
     }},
}};

}  // namespace

Schedule make_collective(CollectiveOp op, CollectiveAlgo algo, const GroupLayout& group, Bytes size,
                         const CollectiveOptions& options) {
  for (const Algorithm& a : kAlgorithms) {
    if (a.op == op && a.algo == algo) return a.make(group, size, options);
  }
  throw ConfigError(fmt::format("collective: {} has no {} algorithm here (its default is {})",
                                name_of(kCollectiveOpNames, op), name_of(kCollectiveAlgoNames, algo),
                                name_of(kCollectiveAlgoNames, default_algorithm(op))));
}

std::vector<CollectiveAlgo> algorithms_for(CollectiveOp op) {
  std::vector<CollectiveAlgo> out{default_algorithm(op)};
  for (const Algorithm& a : kAlgorithms) {
    if (a.op == op && a.algo != out.front()) out.push_back(a.algo);
  }
  return out;
}

CollectiveAlgo default_algorithm(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_gather: return CollectiveAlgo::ring;
    case CollectiveOp::all_to_all:
    case CollectiveOp::send_recv: return CollectiveAlgo::direct;
  }
  return CollectiveAlgo::ring;
}

double bus_bandwidth_factor(CollectiveOp op, int ranks) {
  const double n = ranks;
  switch (op) {
    case CollectiveOp::all_reduce: return 2.0 * (n - 1.0) / n;
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_gather:
    case CollectiveOp::all_to_all: return (n - 1.0) / n;
    case CollectiveOp::send_recv: return 1.0;
  }
  return 1.0;
}

std::vector<Bytes> bytes_sent_per_rank(const Schedule& schedule, int gpu_count) {
  std::vector<Bytes> sent(static_cast<std::size_t>(gpu_count));
  for (const Step& step : schedule.steps) {
    for (const Transfer& t : step.transfers) sent[static_cast<std::size_t>(t.src)] += t.bytes * step.repeat;
  }
  return sent;
}

}  // namespace tcsim::hw
