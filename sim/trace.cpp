#include "sim/trace.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/quoted.h"

namespace tcsim::sim {
namespace {

enum Track : std::int32_t { kCompute = 0, kModelComm = 1, kDataParallel = 2, kPipeline = 3 };
constexpr std::int32_t kNetworkPid = 1 << 20;  // above every GPU id

Track track_of(TaskKind k) {
  switch (k) {
    case TaskKind::ep_comm:
    case TaskKind::tp_comm:
    case TaskKind::cp_comm: return kModelComm;
    case TaskKind::dp_comm: return kDataParallel;
    case TaskKind::pp_comm: return kPipeline;
    default: return kCompute;
  }
}

std::string_view track_name(std::int32_t t) {
  switch (t) {
    case kCompute: return "compute";
    case kModelComm: return "expert/tensor collectives";
    case kDataParallel: return "data-parallel collectives";
    case kPipeline: return "pipeline sends";
  }
  return "?";
}

std::string_view kind_name(hw::DeviceKind k) {
  switch (k) {
    case hw::DeviceKind::gpu: return "gpu";
    case hw::DeviceKind::nvswitch: return "nvswitch";
    case hw::DeviceKind::nic: return "nic";
    case hw::DeviceKind::leaf: return "leaf";
    case hw::DeviceKind::spine: return "spine";
    case hw::DeviceKind::core: return "core";
  }
  return "?";
}

std::string device_name(const hw::ClusterTopology& t, hw::DeviceId id) {
  const hw::Device& d = t.devices()[static_cast<std::size_t>(id)];
  if (d.node >= 0) return fmt::format("{} {}.{}", kind_name(d.kind), d.node, d.index);
  if (d.plane >= 0) return fmt::format("{} p{}.{}", kind_name(d.kind), d.plane, d.index);
  return fmt::format("{} {}", kind_name(d.kind), d.index);
}

double micros(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

}  // namespace

ChromeTrace::ChromeTrace(const StepGraph& graph, const hw::ClusterTopology& topology, std::vector<int> traced)
    : graph_(graph), topology_(topology) {
  traced_.assign(graph.gpu_ids.size(), traced.empty() ? 1 : 0);
  for (const int g : traced) traced_[static_cast<std::size_t>(g)] = 1;
}

std::string ChromeTrace::slice_name(std::uint32_t tag) const {
  const TaskLabel& l = graph_.labels[tag];
  std::string s;
  switch (l.kind) {
    case TaskKind::forward: s = "F"; break;
    case TaskKind::backward_input: s = "B"; break;
    case TaskKind::backward_weight: s = "W"; break;
    default: break;
  }
  if (l.micro_batch >= 0) s += fmt::format("{}mb{}", s.empty() ? "" : " ", l.micro_batch);
  if (l.first_layer >= 0) {
    s += l.first_layer == l.last_layer ? fmt::format(" L{}", l.first_layer)
                                       : fmt::format(" L{}-{}", l.first_layer, l.last_layer);
  }
  const std::string& name = graph_.names[l.name];
  if (!name.empty()) s += (s.empty() ? "" : " ") + name;
  return s;
}

// A traced GPU's transfers and collectives mark its own links (and a
// transfer's whole route) busy while they run.
void ChromeTrace::link_slices(const TaskEvent& t, int engine_gpu) {
  const auto add = [&](hw::LinkId l) { slices_.push_back({t.begin.count(), t.end.count(), kNetworkPid, l, t.tag}); };
  if (t.transfer >= 0) {
    for (const hw::LinkId l : graph_.engine->transfer_links(t.transfer)) add(l);
    return;
  }
  const std::int32_t use = graph_.traffic_use_of_task[static_cast<std::size_t>(t.id)];
  if (use < 0) return;
  const int gpu = graph_.gpu_ids[static_cast<std::size_t>(engine_gpu)];
  const auto pattern = graph_.traffic_uses[static_cast<std::size_t>(use)].pattern;
  for (const auto& [l, bytes] : graph_.link_patterns[static_cast<std::size_t>(pattern)]) {
    const hw::Link& link = topology_.link(l);
    if (link.from == gpu || link.to == gpu) add(l);
  }
}

void ChromeTrace::on_end(const TaskEvent& t) {
  if (t.activity == Activity::marker) return;
  const TaskKind kind = graph_.labels[t.tag].kind;
  if (kind == TaskKind::marker) return;
  const auto record = [&](int gpu) {
    if (gpu < 0 || !traced_[static_cast<std::size_t>(gpu)]) return;
    slices_.push_back(
        {t.begin.count(), t.end.count(), graph_.gpu_ids[static_cast<std::size_t>(gpu)], track_of(kind), t.tag});
    if (is_comm(kind)) link_slices(t, gpu);
  };
  if (is_comm(kind) && !t.gpus.empty()) {
    for (const int g : t.gpus) record(g);  // a collective: on each traced member's track
  } else {
    record(t.gpu);
  }
}

std::vector<ChromeTrace::Lane> ChromeTrace::lanes() const {
  // Slices by track, then each track's slices spread over lanes: the first
  // lane whose last slice ended by this one's start, else a new lane.
  std::map<std::pair<std::int32_t, std::int32_t>, std::vector<std::size_t>> by_track;
  for (std::size_t i = 0; i < slices_.size(); ++i) by_track[{slices_[i].pid, slices_[i].tid}].push_back(i);
  std::vector<Lane> out(slices_.size());
  std::map<std::int32_t, std::int32_t> next_tid;  // per pid, the next free thread id
  for (auto& [track, members] : by_track) {
    std::stable_sort(members.begin(), members.end(),
                     [&](std::size_t x, std::size_t y) { return slices_[x].begin < slices_[y].begin; });
    std::vector<std::int64_t> ends;  // per lane, the end of its last slice
    std::vector<std::int32_t> tids;  // per lane, its thread id
    for (const std::size_t i : members) {
      const SliceRecord& sl = slices_[i];
      std::size_t lane = 0;
      while (lane < ends.size() && ends[lane] > sl.begin) ++lane;
      if (lane == ends.size()) {
        ends.push_back(sl.end);
        tids.push_back(next_tid[track.first]++);
      } else {
        ends[lane] = sl.end;
      }
      out[i] = {tids[lane], static_cast<std::int32_t>(lane)};
    }
  }
  return out;
}

void ChromeTrace::write(const std::string& path) const {
  // The trace-event format wants each thread's complete events nested or
  // apart; transfers sharing a link overlap, so each such track is drawn as
  // lanes ("gpu 0.1 -> nvswitch 0.0", "... (2)"), each lane one thread.
  const std::vector<Lane> lane_of = lanes();
  AtomicFile out(path, "--trace");
  std::FILE* f = out.stream();
  fmt::print(f, "{{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
  bool first = true;
  const auto sep = [&] {
    if (!first) fmt::print(f, ",\n");
    first = false;
  };
  // Thread metadata: a name and a sort index per lane, lanes of one track together.
  std::map<std::tuple<std::int32_t, std::int32_t, std::int32_t>, std::int32_t> thread;  // (pid, track, lane) -> tid
  for (std::size_t i = 0; i < slices_.size(); ++i)
    thread[{slices_[i].pid, slices_[i].tid, lane_of[i].lane}] = lane_of[i].tid;
  const auto track_label = [&](std::int32_t pid, std::int32_t track) {
    if (pid != kNetworkPid) return std::string(track_name(track));
    const hw::Link& link = topology_.link(static_cast<hw::LinkId>(track));
    return fmt::format("{} -> {}", device_name(topology_, link.from), device_name(topology_, link.to));
  };
  for (std::size_t g = 0; g < traced_.size(); ++g) {
    if (!traced_[g]) continue;
    const int pid = graph_.gpu_ids[g];
    sep();
    fmt::print(f,
               R"j({{"ph": "M", "name": "process_name", "pid": {}, "args": {{"name": "GPU {} (pipeline rank {})"}}}})j",
               pid, pid, graph_.pipeline_rank[g]);
  }
  sep();
  fmt::print(f, R"j({{"ph": "M", "name": "process_name", "pid": {}, "args": {{"name": "network links"}}}})j",
             kNetworkPid);
  std::int32_t order = 0;
  for (const auto& [key, tid] : thread) {
    const auto& [pid, track, lane] = key;
    const std::string name =
        lane == 0 ? track_label(pid, track) : fmt::format("{} ({})", track_label(pid, track), lane + 1);
    sep();
    fmt::print(f, R"j({{"ph": "M", "name": "thread_name", "pid": {}, "tid": {}, "args": {{"name": {}}}}})j", pid, tid,
               json_quoted(name));
    sep();
    fmt::print(f, R"j({{"ph": "M", "name": "thread_sort_index", "pid": {}, "tid": {}, "args": {{"sort_index": {}}}}})j",
               pid, tid, order++);
  }
  for (std::size_t i = 0; i < slices_.size(); ++i) {
    const SliceRecord& sl = slices_[i];
    const TaskLabel& l = graph_.labels[sl.tag];
    sep();
    fmt::print(
        f,
        R"j({{"ph": "X", "name": {}, "cat": "{}", "ts": {:.3f}, "dur": {:.3f}, "pid": {}, "tid": {}, "args": {{"stage": {}, "micro_batch": {}}}}})j",
        json_quoted(slice_name(sl.tag)), to_string(l.kind), micros(sl.begin), micros(sl.end - sl.begin), sl.pid,
        lane_of[i].tid, l.stage, l.micro_batch);
  }
  fmt::print(f, "\n]}}\n");
  out.commit();
}

}  // namespace tcsim::sim
