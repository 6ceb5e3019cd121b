#include "sim/step_writer.h"

#include <algorithm>
#include <vector>

namespace tcsim::sim {

StepWriter::StepWriter(StepGraph& graph, const Layout& layout, const CollectiveCache& cache, bool full, bool shared)
    : graph_(graph),
      layout_(layout),
      cache_(cache),
      full_(full),
      shared_collectives_(shared),
      replicas_(full ? layout.replicas() : 1) {}

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

// A coflow per distinct (traffic, time alone): its bytes on each link are the
// pattern's at unit size times the use's scale.
TaskSpec StepWriter::collective_spec(const CollectiveUse& use) {
  if (!shared_collectives_) return {.activity = Activity::delay, .time = use.time, .holds_comm_sms = true};
  const auto key = std::make_tuple(use.pattern, use.scale, use.time.count());
  auto [it, fresh] = coflow_index_.emplace(key, -1);
  if (fresh) {
    std::vector<hw::LinkId> links;
    std::vector<double> bytes;
    std::vector<std::int32_t> parts;
    double busiest = 0;  // over every link of the collective, those left out too
    if (use.pattern >= 0) {
      for (const auto& [link, unit] : cache_.pattern_links(use.pattern)) {
        busiest = std::max(busiest, unit * use.scale);
        const std::int32_t part = part_of_link_.empty() ? 0 : part_of_link_[static_cast<std::size_t>(link)];
        if (part == kLeftOut) continue;
        links.push_back(link);
        bytes.push_back(unit * use.scale);
        parts.push_back(part);
      }
    }
    it->second = graph_.engine->add_coflow(links, bytes, use.time, parts, busiest);
  }
  return {.activity = Activity::collective, .coflow = it->second, .holds_comm_sms = true};
}

std::int32_t StepWriter::lane_id(Lane lane, int rank, Group g, int group_index) {
  const auto key = std::make_tuple(static_cast<int>(lane), rank, static_cast<int>(g), group_index);
  const auto [it, fresh] = lanes_.emplace(key, static_cast<std::int32_t>(lanes_.size()));
  return it->second;
}

TaskId StepWriter::collective_task(const CollectiveUse& use, Lane lane, int rank, Group g, int group_index,
                                   std::uint32_t tag, std::uint64_t key) {
  TaskSpec spec = collective_spec(use);
  spec.tag = tag;
  if (spec.activity == Activity::collective) spec.lane = lane_id(lane, rank, g, group_index);
  if (!full() || layout_.size(g) == 1) {
    spec.gpu = engine_gpu(rank, 0);
    return add(spec, traffic_use(use.pattern, use.scale));
  }
  const auto [it, fresh] = shared_.emplace(key, kNoTask);
  if (!fresh) return it->second;
  spec.gpu = engine_gpu(rank, layout_.members(g, group_index).front());
  spec.gpu_group = gpu_group(rank, g, group_index);
  it->second = add(spec, traffic_use(use.pattern, use.scale));
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
