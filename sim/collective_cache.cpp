#include "sim/collective_cache.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "hardware/collective_run.h"
#include "hardware/flows.h"
#include "sim/collective_store.h"

namespace tcsim::sim {

CollectiveTime time_collective(const hw::ClusterTopology& topology, const hw::Schedule& schedule,
                               const hw::StepRoutes* routes, hw::FlowNetwork* network) {
  hw::StepRoutes own;
  if (!routes) {
    own = hw::schedule_routes(topology, schedule);
    routes = &own;
  }
  const hw::RunResult r = hw::run_schedule(topology, schedule, {}, *routes, network);
  return {to_sim_time(r.time), r.flows_simulated};
}

LinkBytes link_bytes(const hw::ClusterTopology& topology, const hw::Schedule& schedule, const hw::StepRoutes* routes,
                     std::vector<std::int32_t>* slots) {
  hw::StepRoutes own;
  if (!routes) {
    own = hw::schedule_routes(topology, schedule);
    routes = &own;
  }
  std::vector<std::int32_t> own_slots;
  if (!slots) slots = &own_slots;
  if (slots->empty()) slots->assign(topology.links().size(), -1);
  // Each link's crossings added up in route order, in the link's slot of
  // `bytes` (the same sums, bit for bit, whatever the order of the links),
  // then the links put in id order.
  LinkBytes bytes;
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    const hw::Step& step = schedule.steps[i];
    for (std::size_t j = 0; j < step.transfers.size(); ++j) {
      const double b = step.transfers[j].bytes.value() * step.repeat;
      for (const hw::LinkId l : routes->links(i, j)) {
        std::int32_t& slot = (*slots)[static_cast<std::size_t>(l)];
        if (slot < 0) {
          slot = static_cast<std::int32_t>(bytes.size());
          bytes.emplace_back(l, 0.0);
        }
        bytes[static_cast<std::size_t>(slot)].second += b;
      }
    }
  }
  for (const auto& [l, b] : bytes) (*slots)[static_cast<std::size_t>(l)] = -1;
  std::sort(bytes.begin(), bytes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return bytes;
}

std::string group_shape(std::span<const int> gpus, int gpus_per_node) {
  if (gpus.empty()) return "empty";
  const int first_node = *std::min_element(gpus.begin(), gpus.end()) / gpus_per_node;
  std::string s;
  for (const int g : gpus) s += fmt::format("{}.{},", g / gpus_per_node - first_node, g % gpus_per_node);
  return s;
}

std::string group_members(std::span<const int> gpus) {
  std::string s;
  for (const int g : gpus) s += fmt::format("{},", g);
  return s;
}

CollectiveCache::CollectiveCache(const hw::ClusterTopology& topology, int channels_across_nodes, CollectiveStore* store)
    : topology_(topology),
      channels_across_nodes_(std::max(1, channels_across_nodes)),
      shared_(store ? store->cluster(topology) : nullptr) {}

CollectiveCache::~CollectiveCache() = default;

CollectiveUse CollectiveCache::ring(hw::CollectiveOp op, std::span<const int> gpus, Bytes size) {
  const int gpn = topology_.gpus_per_node();
  std::set<int> nodes;
  for (const int g : gpus) nodes.insert(g / gpn);
  const int channels = nodes.size() > 1 ? channels_across_nodes_ : 1;
  const hw::GroupLayout group{std::vector<int>(gpus.begin(), gpus.end()), gpn};
  const auto build = [&](Bytes b) {
    switch (op) {
      case hw::CollectiveOp::all_reduce: return hw::ring_all_reduce(group, b, channels);
      case hw::CollectiveOp::all_gather: return hw::ring_all_gather(group, b, channels);
      default: return hw::ring_reduce_scatter(group, b, channels);
    }
  };
  CollectiveUse use;
  // Every ring collective of a group crosses the same pairs (hardware/
  // collectives/ring.cpp): one routing for every size and the pattern.
  const std::string members = group_members(gpus);
  const std::string routes_key = fmt::format("ring {} {}", members, channels);
  use.time = shared_time(
      fmt::format("ring {} {} {:.0f} {}", static_cast<int>(op), group_shape(gpus, gpn), size.value(), channels),
      fmt::format("ring {} {} {:.0f} {}", static_cast<int>(op), members, size.value(), channels),
      [&] { return build(size); }, routes_key);
  // The rings of an all-reduce carry twice a reduce-scatter's bytes; an
  // all-gather's the same.
  use.pattern = shared_pattern(
      routes_key, [&] { return hw::ring_reduce_scatter(group, Bytes(1), channels); }, routes_key);
  use.scale = size.value() * (op == hw::CollectiveOp::all_reduce ? 2.0 : 1.0);
  return use;
}

SimTime CollectiveCache::time(const std::string& key, const std::function<hw::Schedule()>& build) {
  return shared_time(key, std::string(), build);
}

const hw::StepRoutes* CollectiveCache::routes_for(const std::string& routes_key, const hw::Schedule& schedule) {
  if (routes_key.empty()) return nullptr;
  KeptRoutes& kept = routes_[routes_key];
  const auto same_ends = [&] {
    std::size_t k = 0;
    for (const hw::Step& step : schedule.steps) {
      for (const hw::Transfer& t : step.transfers) {
        if (k == kept.ends.size() || kept.ends[k++] != std::array<int, 3>{t.src, t.dst, t.channel}) return false;
      }
    }
    if (k != kept.ends.size() || kept.routes.steps() != schedule.steps.size()) return false;
    for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
      if (kept.routes.transfers(i) != schedule.steps[i].transfers.size()) return false;
    }
    return true;
  };
  if (!same_ends()) {
    kept.routes = hw::schedule_routes(topology_, schedule);
    kept.ends.clear();
    for (const hw::Step& step : schedule.steps) {
      for (const hw::Transfer& t : step.transfers) kept.ends.push_back({t.src, t.dst, t.channel});
    }
  }
  return &kept.routes;
}

void CollectiveCache::put_time(const std::string& key, CollectiveTime t) {
  flows_ += t.flows;
  times_.insert_or_assign(key, t.time);
}

int CollectiveCache::pattern(const std::string& key, const std::function<hw::Schedule()>& unit) {
  return pattern_of(key, unit, false, {});
}

// An empty exact key: this step's own, never the store's.
SimTime CollectiveCache::shared_time(const std::string& key, const std::string& exact_key,
                                     const std::function<hw::Schedule()>& build, const std::string& routes_key) {
  const auto it = times_.find(key);
  if (it != times_.end()) return it->second;
  const bool shared = shared_ && !exact_key.empty();
  std::optional<CollectiveTime> t = shared ? CollectiveStore::time(*shared_, exact_key) : std::nullopt;
  if (!t) {
    const hw::Schedule schedule = build();
    if (!network_) network_ = std::make_unique<hw::FlowNetwork>(topology_);
    t = time_collective(topology_, schedule, routes_for(routes_key, schedule), network_.get());
    if (shared) CollectiveStore::put_time(*shared_, exact_key, *t);
  }
  put_time(key, *t);
  return t->time;
}

int CollectiveCache::shared_pattern(const std::string& key, const std::function<hw::Schedule()>& unit,
                                    const std::string& routes_key) {
  return pattern_of(key, unit, true, routes_key);
}

int CollectiveCache::pattern_of(const std::string& key, const std::function<hw::Schedule()>& unit, bool shareable,
                                const std::string& routes_key) {
  if (times_only_) return -1;
  const auto it = pattern_index_.find(key);
  if (it != pattern_index_.end()) return it->second;
  const bool shared = shared_ && shareable;
  std::optional<LinkBytes> links = shared ? CollectiveStore::pattern(*shared_, key) : std::nullopt;
  if (!links) {
    const hw::Schedule schedule = unit();
    links = link_bytes(topology_, schedule, routes_for(routes_key, schedule), &link_slots_);
    if (shared) CollectiveStore::put_pattern(*shared_, key, *links);
  }
  patterns_.push_back(std::move(*links));
  const int id = static_cast<int>(patterns_.size() - 1);
  pattern_index_.emplace(key, id);
  return id;
}

std::optional<CollectiveTime> CollectiveCache::stored_time(const std::string& exact_key) const {
  if (!shared_) return std::nullopt;
  return CollectiveStore::time(*shared_, exact_key);
}

void CollectiveCache::store_time(const std::string& exact_key, CollectiveTime t) {
  if (shared_) CollectiveStore::put_time(*shared_, exact_key, t);
}

}  // namespace tcsim::sim
