#include "sim/step_writer.h"

#include <vector>

namespace tcsim::sim {

StepWriter::StepWriter(StepGraph& graph, const Layout& layout, bool full)
    : graph_(graph), layout_(layout), full_(full), replicas_(full ? layout.replicas() : 1) {}

std::uint16_t StepWriter::intern(const std::string& name) {
  const auto [it, fresh] = name_index_.emplace(name, static_cast<std::uint16_t>(graph_.names.size()));
  if (fresh) graph_.names.push_back(name);
  return it->second;
}

std::uint32_t StepWriter::add_label(TaskLabel label) {
  graph_.labels.push_back(label);
  return static_cast<std::uint32_t>(graph_.labels.size() - 1);
}

TaskId StepWriter::add(const TaskSpec& spec, std::int32_t traffic) {
  const TaskId t = graph_.engine->add_task(spec);
  graph_.traffic_use_of_task.push_back(traffic);
  return t;
}

void StepWriter::depend_once(TaskId before, TaskId after) {
  if (before == kNoTask) return;
  if (full() &&
      !added_.insert((static_cast<std::uint64_t>(before) << 32U) | static_cast<std::uint32_t>(after)).second) {
    return;
  }
  graph_.engine->add_dependency(before, after);
}

std::int32_t StepWriter::traffic_use(int pattern, double scale) {
  const auto key = std::make_pair(pattern, scale);
  const auto it = use_index_.find(key);
  if (it != use_index_.end()) return it->second;
  graph_.traffic_uses.push_back({pattern, scale});
  const auto id = static_cast<std::int32_t>(graph_.traffic_uses.size() - 1);
  use_index_.emplace(key, id);
  return id;
}

TaskId StepWriter::collective_task(const CollectiveUse& use, int rank, Group g, int group_index, std::uint32_t tag,
                                   std::uint64_t key) {
  if (!full() || layout_.size(g) == 1) {
    const int gpu = engine_gpu(rank, 0);
    return add({.activity = Activity::delay, .gpu = gpu, .tag = tag, .time = use.time, .holds_comm_sms = true},
               traffic_use(use.pattern, use.scale));
  }
  const auto [it, fresh] = shared_.emplace(key, kNoTask);
  if (!fresh) return it->second;
  const std::int32_t group = gpu_group(rank, g, group_index);
  it->second = add({.activity = Activity::delay,
                    .gpu = engine_gpu(rank, layout_.members(g, group_index).front()),
                    .tag = tag,
                    .time = use.time,
                    .gpu_group = group,
                    .holds_comm_sms = true},
                   traffic_use(use.pattern, use.scale));
  return it->second;
}

void StepWriter::clear_shared() {
  shared_.clear();
  added_.clear();
}

std::int32_t StepWriter::gpu_group(int rank, Group g, int group_index) {
  const auto key = std::make_tuple(rank, static_cast<int>(g), group_index);
  const auto it = gpu_groups_.find(key);
  if (it != gpu_groups_.end()) return it->second;
  std::vector<int> gpus;
  for (const int r : layout_.members(g, group_index)) gpus.push_back(engine_gpu(rank, r));
  const std::int32_t id = graph_.engine->add_gpu_group(gpus);
  gpu_groups_.emplace(key, id);
  return id;
}

}  // namespace tcsim::sim
