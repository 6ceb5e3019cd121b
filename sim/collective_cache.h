// Collectives simulated once, on their own, as flows on the cluster graph, and
// reused. A collective's time depends on its shape (which GPUs relative to
// their nodes, the algorithm, the bytes, the routing of expert traffic), not
// on when it runs, as long as nothing else crosses its links: that is the
// time alone. In the step, each collective then runs as a coflow with that
// time and its per-link traffic, slowed by whatever else crosses its links
// (sim/engine.h; docs/simulation.md, "Collectives").
//
// Two caches: times by shape (isomorphic groups share one flow simulation),
// and per-link traffic by concrete group, per unit of size (bytes on a link
// grow in proportion to the collective's size), for link accounting.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/sim_time.h"
#include "core/units.h"
#include "hardware/collective_run.h"
#include "hardware/collectives.h"
#include "hardware/topology.h"

namespace tcsim::sim {

using LinkBytes = std::vector<std::pair<hw::LinkId, double>>;  // links in id order

// Runs `schedule` alone on `topology` (hw::run_schedule).
struct CollectiveTime {
  SimTime time;
  std::int64_t flows = 0;
};
// `routes`: the schedule's routes (hw::schedule_routes), computed here when
// null. `network`: a flow network on `topology` to run it on (hw::run_schedule).
CollectiveTime time_collective(const hw::ClusterTopology& topology, const hw::Schedule& schedule,
                               const hw::StepRoutes* routes = nullptr, hw::FlowNetwork* network = nullptr);

// Bytes every link carries: each transfer's bytes on each link of its route,
// by link id. `slots`: scratch, -1 for every link of the topology (or empty:
// made here), left so; a caller that sums many patterns keeps one.
LinkBytes link_bytes(const hw::ClusterTopology& topology, const hw::Schedule& schedule,
                     const hw::StepRoutes* routes = nullptr, std::vector<std::int32_t>* slots = nullptr);

// A key that two isomorphic groups share: each member's node relative to the
// group's first node, and its index inside the node.
std::string group_shape(std::span<const int> gpus, int gpus_per_node);
std::string group_members(std::span<const int> gpus);

// One use of a collective: its time, and its traffic as pattern x scale.
struct CollectiveUse {
  SimTime time;
  int pattern = -1;
  double scale = 0;
};

class CollectiveStore;
struct StoredCollectives;  // one cluster's entries in a CollectiveStore

class CollectiveCache {
 public:
  // `store`: collectives shared with other steps on the same cluster
  // (sim/collective_store.h); null: this step's own only.
  CollectiveCache(const hw::ClusterTopology& topology, int channels_across_nodes, CollectiveStore* store = nullptr);
  ~CollectiveCache();

  // Ring all-reduce, reduce-scatter or all-gather of `size` (nccl-tests
  // sizes) over `gpus`: one ring per NIC of a node (`channels_across_nodes`)
  // when the group spans nodes, one ring inside a node.
  CollectiveUse ring(hw::CollectiveOp op, std::span<const int> gpus, Bytes size);

  // Any other collective: its time by `time_key` (built on a miss), its
  // traffic by `pattern_key` (a schedule at unit size, built on a miss).
  SimTime time(const std::string& time_key, const std::function<hw::Schedule()>& build);
  void put_time(const std::string& time_key, CollectiveTime t);
  bool has_time(const std::string& time_key) const { return times_.contains(time_key); }
  int pattern(const std::string& pattern_key, const std::function<hw::Schedule()>& unit);
  // The same through the store: `time_key` as above (isomorphic groups of
  // this step share it), `exact_key` naming everything the collective depends
  // on given the cluster (its members themselves, algorithm, bytes), which
  // other steps share; `pattern_key` must be such a key.
  // `routes_key`: schedules built under one routes key that cross the same
  // (source, destination, channel) in the same order share their routes
  // within this step (checked: a schedule that differs gets its own); empty:
  // routes computed for this schedule alone.
  SimTime shared_time(const std::string& time_key, const std::string& exact_key,
                      const std::function<hw::Schedule()>& build, const std::string& routes_key = {});
  int shared_pattern(const std::string& pattern_key, const std::function<hw::Schedule()>& unit,
                     const std::string& routes_key = {});
  // The store alone, by an exact key as above (nullopt without a store).
  std::optional<CollectiveTime> stored_time(const std::string& exact_key) const;
  void store_time(const std::string& exact_key, CollectiveTime t);

  // Times only (a bound on the step, sim/step_bound.h): no link pattern is
  // made; every use's pattern is -1.
  void set_times_only(bool on) { times_only_ = on; }

  int runs() const { return static_cast<int>(times_.size()); }
  std::int64_t flows() const { return flows_; }
  const LinkBytes& pattern_links(int pattern) const { return patterns_[static_cast<std::size_t>(pattern)]; }
  std::vector<LinkBytes> take_patterns() { return std::move(patterns_); }

 private:
  const hw::ClusterTopology& topology_;
  int channels_across_nodes_;
  std::shared_ptr<StoredCollectives> shared_;

  int pattern_of(const std::string& key, const std::function<hw::Schedule()>& unit, bool shareable,
                 const std::string& routes_key);
  // Routes by routes key, with the transfers' ends they were computed for.
  struct KeptRoutes {
    std::vector<std::array<int, 3>> ends;  // every transfer, step by step: source, destination, channel
    hw::StepRoutes routes;
  };
  const hw::StepRoutes* routes_for(const std::string& routes_key, const hw::Schedule& schedule);
  std::map<std::string, KeptRoutes> routes_;
  std::map<std::string, SimTime> times_;
  std::map<std::string, int> pattern_index_;
  std::vector<LinkBytes> patterns_;
  std::vector<std::int32_t> link_slots_;      // link_bytes' scratch
  std::unique_ptr<hw::FlowNetwork> network_;  // the collectives' runs, one after another
  std::int64_t flows_ = 0;
  bool times_only_ = false;
};

}  // namespace tcsim::sim
