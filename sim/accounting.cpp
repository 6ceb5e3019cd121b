#include "sim/accounting.h"

#include <algorithm>

namespace tcsim::sim {

StepAccounting::StepAccounting(const StepGraph& graph, std::size_t links)
    : graph_(graph),
      gpus_(graph.gpu_ids.size()),
      state_(graph.gpu_ids.size()),
      cause_(static_cast<std::size_t>(graph.engine->task_count()), kNoTask),
      traffic_ends_(graph.traffic_uses.size(), 0),
      link_bytes_(links, 0.0) {}

TaskKind StepAccounting::cause_of(const TaskEvent& t) const {
  if (t.critical == kNoTask) return TaskKind::marker;
  if (t.critical_activity != Activity::marker) return kind_of(t.critical_tag);
  const TaskId cause = cause_[static_cast<std::size_t>(t.critical)];
  return cause == kNoTask ? TaskKind::marker : kind_of(graph_.engine->tag_of(cause));
}

std::int64_t StepAccounting::comm_since_compute(const GpuState& s, std::int64_t at) const {
  std::int64_t t = s.comm_in_window;
  if (s.comm_running > 0) t += std::max<std::int64_t>(0, at - std::max(s.comm_since, s.last_compute_end));
  return t;
}

void StepAccounting::idle(int gpu, std::int64_t from, std::int64_t to, TaskKind cause, std::int64_t comm_time) {
  if (to <= from) return;
  const std::int64_t exposed = is_comm(cause) ? std::clamp<std::int64_t>(comm_time, 0, to - from) : 0;
  gpus_[static_cast<std::size_t>(gpu)].exposed_comm += exposed;
  gpus_[static_cast<std::size_t>(gpu)].bubble += (to - from) - exposed;
}

// A transfer's own bytes on its route; a collective's share of its traffic.
void StepAccounting::add_link_bytes(const TaskEvent& t) {
  if (t.transfer >= 0) {
    const double bytes = graph_.engine->transfer_bytes(t.transfer).value();
    for (const hw::LinkId l : graph_.engine->transfer_links(t.transfer))
      link_bytes_[static_cast<std::size_t>(l)] += bytes;
    return;
  }
  const std::int32_t use = graph_.traffic_use_of_task[static_cast<std::size_t>(t.id)];
  if (use >= 0) ++traffic_ends_[static_cast<std::size_t>(use)];  // added up in finish()
}

void StepAccounting::on_begin(const TaskEvent& t) {
  const TaskKind kind = kind_of(t.tag);
  if (is_compute(kind) && t.gpu >= 0 && t.activity != Activity::marker) {
    const GpuState& s = state_[static_cast<std::size_t>(t.gpu)];
    idle(t.gpu, s.last_compute_end, t.begin.count(), cause_of(t), comm_since_compute(s, t.begin.count()));
    return;
  }
  if (!is_comm(kind)) return;
  for (const int g : t.gpus) {
    GpuState& s = state_[static_cast<std::size_t>(g)];
    if (s.comm_running++ == 0) s.comm_since = t.begin.count();
  }
}

void StepAccounting::on_end(const TaskEvent& t) {
  const TaskKind kind = kind_of(t.tag);
  if (t.activity == Activity::marker) {
    if (t.critical != kNoTask) {
      cause_[static_cast<std::size_t>(t.id)] =
          t.critical_activity == Activity::marker ? cause_[static_cast<std::size_t>(t.critical)] : t.critical;
    }
    return;
  }
  add_link_bytes(t);
  if (is_comm(kind)) {
    for (const int gpu : t.gpus) {
      GpuState& s = state_[static_cast<std::size_t>(gpu)];
      if (--s.comm_running == 0) {
        gpus_[static_cast<std::size_t>(gpu)].comm_active += t.end.count() - s.comm_since;
        s.comm_in_window += std::max<std::int64_t>(0, t.end.count() - std::max(s.comm_since, s.last_compute_end));
      }
      s.last_comm = kind;  // ends arrive in time order
    }
    return;
  }
  if (!is_compute(kind) || t.gpu < 0) return;
  GpuState& s = state_[static_cast<std::size_t>(t.gpu)];
  GpuTime& g = gpus_[static_cast<std::size_t>(t.gpu)];
  g.compute[static_cast<std::size_t>(kind)] += t.end.count() - t.begin.count();
  s.last_compute_end = t.end.count();
  s.comm_in_window = 0;
}

void StepAccounting::finish(SimTime step_end) {
  for (std::size_t use = 0; use < traffic_ends_.size(); ++use) {
    if (traffic_ends_[use] == 0) continue;
    const StepGraph::TrafficUse& u = graph_.traffic_uses[use];
    const double times = static_cast<double>(traffic_ends_[use]) * u.scale;
    for (const auto& [l, bytes] : graph_.link_patterns[static_cast<std::size_t>(u.pattern)]) {
      link_bytes_[static_cast<std::size_t>(l)] += bytes * times;
    }
  }
  for (std::size_t g = 0; g < gpus_.size(); ++g) {
    idle(static_cast<int>(g), state_[g].last_compute_end, step_end.count(), state_[g].last_comm,
         comm_since_compute(state_[g], step_end.count()));
    state_[g].last_compute_end = step_end.count();
  }
}

}  // namespace tcsim::sim
