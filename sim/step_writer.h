// Writes a step's tasks into the engine of a StepGraph: the labels and names
// observers read, the link traffic of each collective task, and collectives
// shared by the simulated members of a group (one task for all of them in
// full fidelity). Every part of the step builder (chunks, expert traffic,
// data parallelism, pipeline transfers) writes through one StepWriter in the
// order the step is built, so task ids, and with them the engine's order
// among simultaneous events, are reproducible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sim/collective_cache.h"
#include "sim/engine.h"
#include "sim/layout.h"
#include "sim/step_graph.h"

namespace tcsim::sim {

class StepWriter {
 public:
  // full: full fidelity, every replica of each pipeline rank simulated;
  // else one stands for all.
  // shared: collectives as coflows on the network (their traffic from
  // `cache`'s patterns); else fixed delays.
  StepWriter(StepGraph& graph, const Layout& layout, const CollectiveCache& cache, bool full, bool shared);

  // The replicas of each pipeline rank the engine simulates.
  int replicas() const { return replicas_; }
  bool full() const { return full_; }
  // The engine GPU of replica q of pipeline rank `rank`.
  int engine_gpu(int rank, int q) const { return rank * replicas_ + q; }
  Engine& engine() { return *graph_.engine; }
  StepGraph& graph() { return graph_; }

  std::uint16_t intern(const std::string& name);
  std::uint32_t add_label(TaskLabel label);

  TaskId add(const TaskSpec& spec, std::int32_t traffic = -1);
  TaskId marker(std::uint32_t tag = 0) { return add({.activity = Activity::marker, .tag = tag}); }
  void depend(TaskId before, TaskId after) { graph_.engine->add_dependency(before, after); }
  // A lane's order between two collectives shared by several members is
  // added once, not once per member.
  void depend_once(TaskId before, TaskId after);

  // The link traffic of a collective task: pattern x scale (StepGraph).
  std::int32_t traffic_use(int pattern, double scale);

  // A collective is one task for all the simulated members of its group: a
  // coflow (or a delay) that holds every member's communication SMs and
  // starts when the last member's inputs are ready. `key` names the instance while its slot
  // is being built (clear_shared() between slots); the members after the
  // first get the same task back.
  // `lane`: the chain it is ordered in (the model's collectives, or data
  // parallelism's); every collective of one (lane, rank, group) runs after the
  // one before it, which lets the engine share fewer links (engine.h).
  enum class Lane { model, data_parallel };
  TaskId collective_task(const CollectiveUse& use, Lane lane, int rank, Group g, int group_index, std::uint32_t tag,
                         std::uint64_t key);
  void clear_shared();

 private:
  std::int32_t gpu_group(int rank, Group g, int group_index);
  TaskSpec collective_spec(const CollectiveUse& use);

 public:
  // How a collective's links split into the parts of its coflow (Engine::
  // add_coflow): a label per link, kLeftOut to leave the link out of the
  // sharing. Empty: one part of every link.
  static constexpr std::int32_t kLeftOut = -2;
  void set_coflow_parts(std::vector<std::int32_t> part_of_link) { part_of_link_ = std::move(part_of_link); }

 private:
  std::int32_t lane_id(Lane lane, int rank, Group g, int group_index);

  StepGraph& graph_;
  const Layout& layout_;
  const CollectiveCache& cache_;
  bool full_;
  bool shared_collectives_;
  int replicas_;
  std::unordered_map<std::uint64_t, TaskId> shared_;  // collectives of the slot being built
  std::unordered_set<std::uint64_t> added_;           // dependencies into them
  std::map<std::tuple<int, int, int>, std::int32_t> gpu_groups_;
  std::map<std::pair<int, double>, std::int32_t> use_index_;
  std::map<std::tuple<int, double, std::int64_t>, std::int32_t> coflow_index_;
  std::map<std::tuple<int, int, int, int>, std::int32_t> lanes_;
  std::vector<std::int32_t> part_of_link_;
  std::unordered_map<std::string, std::uint16_t> name_index_;
};

}  // namespace tcsim::sim
