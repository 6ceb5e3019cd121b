#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <stdexcept>

#include <fmt/format.h>

#include "hardware/flow_calendar.h"
#include "hardware/flows.h"

namespace tcsim::sim {
namespace {

enum class EventKind : std::uint8_t { task_end, network };

struct Event {
  std::int64_t time = 0;
  std::uint64_t seq = 0;
  TaskId task = kNoTask;
  std::uint32_t version = 0;
  EventKind kind = EventKind::task_end;
  // Min-heap on (time, seq): the total order of the contract.
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

struct Ready {
  std::int32_t priority = 0;
  TaskId task = kNoTask;
  bool operator>(const Ready& o) const { return priority != o.priority ? priority > o.priority : task > o.task; }
};

// The compute task a GPU's stream is running, with its progress.
struct Running {
  TaskId task = kNoTask;
  double remaining = 1.0;  // fraction of its work left at `since`
  std::int64_t since = 0;
  bool shared = false;  // running on the SMs communication leaves
};

struct Gpu {
  std::priority_queue<Ready, std::vector<Ready>, std::greater<>> ready;
  Running running;
  int comm_active = 0;  // communication tasks holding this GPU's SMs
};

struct Transfer {
  std::size_t first_link = 0;
  std::size_t links = 0;
  Seconds latency;
  Bytes bytes;
};

struct Coflow {
  std::size_t first_link = 0;  // into coflow_links / coflow_bytes / coflow_part, grouped by part
  std::size_t links = 0;
  SimTime alone;
  double busiest = 0;  // bytes on its busiest link, before any link is left out: the unit of its rate
};

constexpr std::uint8_t kHoldsComm = 1;

}  // namespace

struct Engine::Impl {
  // Task specs, structure of arrays (full-fidelity graphs hold millions).
  std::vector<Activity> activity;
  std::vector<std::uint8_t> flags;
  std::vector<std::int32_t> gpu;
  std::vector<std::int32_t> priority;  // a collective: its lane
  std::vector<std::uint32_t> tag;
  std::vector<std::int64_t> time;
  std::vector<std::int64_t> time_shared;  // a collective: its coflow index
  std::vector<std::int32_t> ref;          // GPU group or transfer index
  // Dependencies: an edge list while building, successors (CSR) when running.
  std::vector<TaskId> edge_from;
  std::vector<TaskId> edge_to;
  std::vector<std::uint32_t> succ_offset;  // dependencies fit 32 bits (checked in build_successors)
  std::vector<TaskId> succ;
  // Run state.
  std::vector<std::int32_t> pending;
  std::vector<TaskId> critical;
  std::vector<std::int64_t> begin;
  std::vector<std::int64_t> end;

  std::vector<Gpu> gpus;
  std::vector<std::size_t> group_offset{0};  // GPU groups: members in group_gpus[offset[g], offset[g+1])
  std::vector<int> group_gpus;
  std::vector<int> single_gpu;  // GPU g alone, for spans
  std::vector<Transfer> transfers;
  std::vector<hw::LinkId> transfer_links;
  std::vector<Coflow> coflows;
  std::vector<int> lane_busy;
  std::vector<hw::LinkId> coflow_links;
  std::vector<double> coflow_bytes;
  std::vector<std::int32_t> coflow_part;
  std::vector<BytesPerSecond> link_capacity;
  std::unique_ptr<hw::FlowNetwork> network;
  std::vector<TaskId> flow_task;  // by FlowNetwork::index_of: the task a live flow belongs to
  std::uint32_t network_version = 0;
  bool network_dirty = false;

  std::vector<Observer*> observers;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;  // delays and the network
  // Each GPU's running compute task's end, moved in place when its rate
  // changes (nothing stale left behind), in the same (time, sequence) order.
  hw::FlowCalendar compute_ends;
  std::vector<TaskId> worklist;  // tasks whose dependencies just ended
  std::vector<int> poked;        // GPUs whose stream may start a task at this instant
  std::vector<std::uint8_t> is_poked;
  std::uint64_t seq = 0;
  std::int64_t now = 0;
  std::int64_t processed = 0;
  int ended = 0;

  void push(std::int64_t t, TaskId task, std::uint32_t version, EventKind kind) {
    events.push({t, seq++, task, version, kind});
  }

  TaskEvent view(TaskId t) const {
    TaskEvent e;
    e.id = t;
    e.activity = activity[static_cast<std::size_t>(t)];
    e.gpu = gpu[static_cast<std::size_t>(t)];
    e.tag = tag[static_cast<std::size_t>(t)];
    e.transfer = e.activity == Activity::transfer ? ref[static_cast<std::size_t>(t)] : -1;
    e.gpus = comm_gpus(t);
    e.begin = SimTime::ns(begin[static_cast<std::size_t>(t)]);
    e.end = SimTime::ns(end[static_cast<std::size_t>(t)]);
    const TaskId c = critical[static_cast<std::size_t>(t)];
    e.critical = c;
    if (c != kNoTask) {
      e.critical_activity = activity[static_cast<std::size_t>(c)];
      e.critical_tag = tag[static_cast<std::size_t>(c)];
      e.critical_begin = SimTime::ns(begin[static_cast<std::size_t>(c)]);
      e.critical_end = SimTime::ns(end[static_cast<std::size_t>(c)]);
    }
    return e;
  }

  void build_successors() {
    const std::size_t n = activity.size();
    if (edge_from.size() >= std::numeric_limits<std::uint32_t>::max()) {
      throw std::length_error(fmt::format("engine: {} dependencies exceed a 32-bit index", edge_from.size()));
    }
    succ_offset.assign(n + 1, 0);
    for (const TaskId f : edge_from) ++succ_offset[static_cast<std::size_t>(f) + 1];
    for (std::size_t i = 0; i < n; ++i) succ_offset[i + 1] += succ_offset[i];
    succ.assign(edge_from.size(), kNoTask);
    // succ_offset[f + 1] is where task f's successors end; placing edges from
    // the last, each just before the previous one of its task, keeps their
    // insertion order within a task (the release order is reproducible) and
    // leaves succ_offset[f + 1] where they begin, one place to the right.
    for (std::size_t e = edge_from.size(); e-- > 0;) {
      succ[--succ_offset[static_cast<std::size_t>(edge_from[e]) + 1]] = edge_to[e];
    }
    succ_offset.erase(succ_offset.begin());
    succ_offset.push_back(static_cast<std::uint32_t>(succ.size()));
    std::vector<TaskId>().swap(edge_from);
    std::vector<TaskId>().swap(edge_to);
  }

  std::int64_t duration(TaskId t, bool shared) const {
    return shared ? time_shared[static_cast<std::size_t>(t)] : time[static_cast<std::size_t>(t)];
  }

  // When the running compute task ends at the current rate: its remaining
  // fraction of work at this rate's duration, to the nearest nanosecond (the
  // fraction carries floating-point error; rounding up would add a tick).
  std::int64_t running_end(const Running& r) const {
    const double left = r.remaining * static_cast<double>(duration(r.task, r.shared));
    return r.since + std::llround(left);
  }

  void start_compute(int g) {
    Gpu& gp = gpus[static_cast<std::size_t>(g)];
    if (gp.running.task != kNoTask || gp.ready.empty()) return;
    const TaskId t = gp.ready.top().task;
    gp.ready.pop();
    gp.running = {t, 1.0, now, gp.comm_active > 0};
    begin_task(t);
    compute_ends.set(static_cast<std::uint32_t>(g), running_end(gp.running), seq++);
  }

  // Communication SMs taken or given back: the running compute task continues
  // its remaining work at the other rate.
  void set_comm(int g, int delta) {
    if (g < 0) return;
    Gpu& gp = gpus[static_cast<std::size_t>(g)];
    gp.comm_active += delta;
    const bool shared = gp.comm_active > 0;
    Running& r = gp.running;
    if (r.task == kNoTask || r.shared == shared) return;
    const double elapsed = static_cast<double>(now - r.since);
    r.remaining = std::max(
        0.0, r.remaining - elapsed / static_cast<double>(std::max<std::int64_t>(1, duration(r.task, r.shared))));
    r.since = now;
    r.shared = shared;
    compute_ends.set(static_cast<std::uint32_t>(g), running_end(r), seq++);
  }

  // The GPUs whose communication SMs a task holds.
  std::span<const int> comm_gpus(TaskId t) const {
    if (!(flags[static_cast<std::size_t>(t)] & kHoldsComm)) return {};
    const Activity a = activity[static_cast<std::size_t>(t)];
    if ((a == Activity::delay || a == Activity::collective) && ref[static_cast<std::size_t>(t)] >= 0) {
      const auto g = static_cast<std::size_t>(ref[static_cast<std::size_t>(t)]);
      return {group_gpus.data() + group_offset[g], group_offset[g + 1] - group_offset[g]};
    }
    const int g = gpu[static_cast<std::size_t>(t)];
    if (g < 0) return {};
    return {single_gpu.data() + g, 1};
  }

  // Collectives of one lane, running now: the caller promised at most one.
  void enter_lane(TaskId t, int delta) {
    if (activity[static_cast<std::size_t>(t)] != Activity::collective) return;
    const std::int32_t lane = priority[static_cast<std::size_t>(t)];
    if (lane < 0) return;
    if (static_cast<std::size_t>(lane) >= lane_busy.size()) lane_busy.resize(static_cast<std::size_t>(lane) + 1, 0);
    lane_busy[static_cast<std::size_t>(lane)] += delta;
    if (lane_busy[static_cast<std::size_t>(lane)] > 1) {
      throw std::logic_error(fmt::format("engine: two collectives of lane {} run at once", lane));
    }
  }

  void begin_task(TaskId t) {
    begin[static_cast<std::size_t>(t)] = now;
    enter_lane(t, +1);
    for (const int g : comm_gpus(t)) set_comm(g, +1);
    if (!observers.empty()) {
      TaskEvent e = view(t);
      e.end = SimTime::never();
      for (Observer* o : observers) o->on_begin(e);
    }
  }

  void end_task(TaskId t) {
    end[static_cast<std::size_t>(t)] = now;
    enter_lane(t, -1);
    ++ended;
    for (const int g : comm_gpus(t)) set_comm(g, -1);
    if (!observers.empty()) {
      const TaskEvent e = view(t);
      for (Observer* o : observers) o->on_end(e);
    }
    for (std::uint32_t i = succ_offset[static_cast<std::size_t>(t)]; i < succ_offset[static_cast<std::size_t>(t) + 1];
         ++i) {
      const TaskId s = succ[static_cast<std::size_t>(i)];
      critical[static_cast<std::size_t>(s)] = t;
      if (--pending[static_cast<std::size_t>(s)] == 0) worklist.push_back(s);
    }
  }

  void begin_delay(TaskId t) {
    begin_task(t);
    push(add_ticks(now, time[static_cast<std::size_t>(t)]), t, 0, EventKind::task_end);
  }

  void begin_transfer(TaskId t) {
    begin_task(t);
    const Transfer& tr = transfers[static_cast<std::size_t>(ref[static_cast<std::size_t>(t)])];
    const std::span<const hw::LinkId> links(transfer_links.data() + tr.first_link, tr.links);
    const hw::FlowId f = network->add_flow(links, tr.latency, tr.bytes, SimTime::ns(now));
    track(f, t);
    network_dirty = true;
  }

  void track(hw::FlowId f, TaskId t) {
    const std::uint32_t i = hw::FlowNetwork::index_of(f);
    if (i >= flow_task.size()) flow_task.resize(i + 1, kNoTask);
    flow_task[i] = t;
  }

  // A collective with nothing to carry (or no network) lasts its time alone.
  void begin_collective(TaskId t) {
    const Coflow& c = coflows[static_cast<std::size_t>(time_shared[static_cast<std::size_t>(t)])];
    if (!network || c.links == 0 || c.alone <= SimTime()) {
      begin_delay(t);
      return;
    }
    begin_task(t);
    int parts = 0;
    for (std::size_t i = c.first_link, last = c.first_link + c.links; i < last;) {
      std::size_t j = i + 1;
      while (j < last && coflow_part[j] == coflow_part[i]) ++j;
      const hw::FlowId f = network->add_coflow({coflow_links.data() + i, j - i}, {coflow_bytes.data() + i, j - i},
                                               c.alone, SimTime::ns(now), c.busiest);
      track(f, t);
      ++parts;
      i = j;
    }
    // Its dependencies are done, so `pending` counts its parts still running.
    pending[static_cast<std::size_t>(t)] = parts;
    network_dirty = true;
  }

  void make_ready(TaskId t) {
    switch (activity[static_cast<std::size_t>(t)]) {
      case Activity::marker:
        begin_task(t);
        end_task(t);
        ++processed;
        return;
      case Activity::compute: {
        const int g = gpu[static_cast<std::size_t>(t)];
        gpus[static_cast<std::size_t>(g)].ready.push({priority[static_cast<std::size_t>(t)], t});
        poke(g);
        return;
      }
      case Activity::delay: begin_delay(t); return;
      case Activity::transfer: begin_transfer(t); return;
      case Activity::collective: begin_collective(t); return;
    }
  }

  void poke(int g) {
    if (is_poked[static_cast<std::size_t>(g)]) return;
    is_poked[static_cast<std::size_t>(g)] = 1;
    poked.push_back(g);
  }

  // Streams choose among every task ready at this instant, so starts wait
  // until the instant's events are all handled; GPUs go in id order.
  void start_poked() {
    std::sort(poked.begin(), poked.end());
    for (const int g : poked) {
      is_poked[static_cast<std::size_t>(g)] = 0;
      start_compute(g);
    }
    poked.clear();
  }

  void drain_worklist() {
    while (!worklist.empty()) {
      const TaskId t = worklist.back();
      worklist.pop_back();
      make_ready(t);
    }
  }

  void schedule_network() {
    if (!network_dirty || !network) return;
    network_dirty = false;
    ++network_version;
    if (const auto e = network->next_event()) push(e->time.count(), kNoTask, network_version, EventKind::network);
  }

  void on_network(const Event& ev) {
    if (ev.version != network_version) return;
    ++processed;
    for (const hw::FlowId f : network->advance_to(SimTime::ns(now))) {
      const TaskId t = flow_task[hw::FlowNetwork::index_of(f)];
      if (activity[static_cast<std::size_t>(t)] == Activity::collective && --pending[static_cast<std::size_t>(t)] > 0) {
        continue;
      }
      end_task(t);
    }
    network_dirty = true;  // starts and completions changed what comes next
  }

  void on_task_end(const Event& ev) {
    ++processed;
    end_task(ev.task);
  }

  // GPU g's running compute task ends now.
  void on_compute_end(int g) {
    Gpu& gp = gpus[static_cast<std::size_t>(g)];
    const TaskId t = gp.running.task;
    gp.running.task = kNoTask;
    ++processed;
    end_task(t);
    poke(g);
  }

  // Whether the next event, in (time, sequence) order, is a running compute
  // task's end (compute_ends) rather than one of `events`.
  bool compute_end_first() const {
    if (compute_ends.empty()) return false;
    if (events.empty()) return true;
    const Event& e = events.top();
    const std::int64_t t = compute_ends.front_time();
    return t != e.time ? t < e.time : compute_ends.front_order() < e.seq;
  }
  bool any_event() const { return !events.empty() || !compute_ends.empty(); }
  std::int64_t next_time() const { return compute_end_first() ? compute_ends.front_time() : events.top().time; }

  // Links that can carry two things at once: crossed by a transfer, or by
  // collectives of two lanes (or of no lane). Each coflow keeps only those.
  void prune_coflow_links() {
    if (coflows.empty() || link_capacity.empty()) return;
    constexpr std::int64_t kFree = -1, kShared = -2;
    std::vector<std::int64_t> owner(link_capacity.size(), kFree);
    const auto claim = [&](hw::LinkId l, std::int64_t who) {
      std::int64_t& o = owner[static_cast<std::size_t>(l)];
      if (o == kFree) {
        o = who;
      } else if (o != who) {
        o = kShared;
      }
    };
    for (const hw::LinkId l : transfer_links) owner[static_cast<std::size_t>(l)] = kShared;
    // Claims are idempotent and their order does not matter (a link ends
    // shared once two lanes claim it), so a coflow's links are claimed once
    // per run of tasks on the same lane (most coflows serve one lane).
    constexpr std::int64_t kUnclaimed = std::numeric_limits<std::int64_t>::min();
    // The lane each coflow's links were last claimed for.
    std::vector<std::int64_t> claimed_by(coflows.size(), kUnclaimed);
    for (std::size_t t = 0; t < activity.size(); ++t) {
      if (activity[t] != Activity::collective) continue;
      const auto c = static_cast<std::size_t>(time_shared[t]);
      const std::int32_t lane = priority[t];
      if (claimed_by[c] == lane) continue;
      claimed_by[c] = lane;
      const Coflow& cf = coflows[c];
      for (std::size_t i = cf.first_link; i < cf.first_link + cf.links; ++i) {
        if (lane < 0) {
          owner[static_cast<std::size_t>(coflow_links[i])] = kShared;
        } else {
          claim(coflow_links[i], lane);
        }
      }
    }
    std::vector<hw::LinkId> links;
    std::vector<double> bytes;
    std::vector<std::int32_t> parts;
    for (Coflow& cf : coflows) {
      const std::size_t first = links.size();
      for (std::size_t i = cf.first_link; i < cf.first_link + cf.links; ++i) {
        if (owner[static_cast<std::size_t>(coflow_links[i])] != kShared) continue;
        links.push_back(coflow_links[i]);
        bytes.push_back(coflow_bytes[i]);
        parts.push_back(coflow_part[i]);
      }
      // A coflow left with no link lasts its time alone (begin_collective):
      // nothing else can cross its links while it runs.
      cf.first_link = first;
      cf.links = links.size() - first;
    }
    coflow_links = std::move(links);
    coflow_bytes = std::move(bytes);
    coflow_part = std::move(parts);
  }

  SimTime run() {
    prune_coflow_links();
    build_successors();
    const std::size_t n = activity.size();
    critical.assign(n, kNoTask);
    begin.assign(n, 0);
    end.assign(n, 0);
    if (!link_capacity.empty()) network = std::make_unique<hw::FlowNetwork>(link_capacity);
    for (std::size_t t = 0; t < n; ++t) {
      if (pending[t] == 0) worklist.push_back(static_cast<TaskId>(t));
    }
    std::reverse(worklist.begin(), worklist.end());  // first-added tasks first
    is_poked.assign(gpus.size(), 0);
    drain_worklist();
    start_poked();
    schedule_network();
    while (any_event()) {
      now = next_time();
      do {
        while (any_event() && next_time() == now) {
          if (compute_end_first()) {
            const auto g = static_cast<int>(compute_ends.front_slot());
            compute_ends.erase(static_cast<std::uint32_t>(g));
            on_compute_end(g);
          } else {
            const Event ev = events.top();
            events.pop();
            if (ev.kind == EventKind::network) {
              on_network(ev);
            } else {
              on_task_end(ev);
            }
          }
          drain_worklist();
        }
        start_poked();
      } while (any_event() && next_time() == now);
      schedule_network();
    }
    if (ended != static_cast<int>(n)) {
      throw std::logic_error(
          fmt::format("engine: {} of {} tasks never ran (a dependency cycle)", static_cast<int>(n) - ended, n));
    }
    return SimTime::ns(now);
  }
};

Engine::Engine(int gpus, std::vector<BytesPerSecond> links) : impl_(std::make_unique<Impl>()) {
  impl_->gpus.resize(static_cast<std::size_t>(gpus));
  for (int g = 0; g < gpus; ++g) impl_->single_gpu.push_back(g);
  impl_->link_capacity = std::move(links);
}

Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

TaskId Engine::add_task(const TaskSpec& s) {
  Impl& m = *impl_;
  if (s.activity == Activity::compute && (s.gpu < 0 || s.gpu >= static_cast<int>(m.gpus.size()))) {
    throw std::invalid_argument(fmt::format("engine: compute task on GPU {} of {}", s.gpu, m.gpus.size()));
  }
  if (s.activity == Activity::transfer && (s.transfer < 0 || s.transfer >= static_cast<int>(m.transfers.size()))) {
    throw std::invalid_argument("engine: transfer task without a transfer");
  }
  if (s.activity == Activity::collective && (s.coflow < 0 || s.coflow >= static_cast<int>(m.coflows.size()))) {
    throw std::invalid_argument("engine: collective task without a coflow");
  }
  const auto id = static_cast<TaskId>(m.activity.size());
  m.activity.push_back(s.activity);
  m.flags.push_back(s.holds_comm_sms ? kHoldsComm : 0);
  m.gpu.push_back(s.gpu);
  m.priority.push_back(s.activity == Activity::collective ? s.lane : s.priority);
  m.tag.push_back(s.tag);
  if (s.activity == Activity::collective) {
    m.time.push_back(m.coflows[static_cast<std::size_t>(s.coflow)].alone.count());
    m.time_shared.push_back(s.coflow);
  } else {
    m.time.push_back(s.time.count());
    m.time_shared.push_back(s.activity == Activity::compute ? s.time_shared.count() : s.time.count());
  }
  m.ref.push_back(s.activity == Activity::transfer ? s.transfer : s.gpu_group);
  m.pending.push_back(0);
  return id;
}

void Engine::add_dependency(TaskId before, TaskId after) {
  Impl& m = *impl_;
  m.edge_from.push_back(before);
  m.edge_to.push_back(after);
  ++m.pending[static_cast<std::size_t>(after)];
}

std::int32_t Engine::add_gpu_group(std::span<const int> gpus) {
  Impl& m = *impl_;
  for (const int g : gpus) {
    if (g < 0 || g >= static_cast<int>(m.gpus.size())) throw std::invalid_argument("engine: GPU group out of range");
  }
  m.group_gpus.insert(m.group_gpus.end(), gpus.begin(), gpus.end());
  m.group_offset.push_back(m.group_gpus.size());
  return static_cast<std::int32_t>(m.group_offset.size() - 2);
}

std::int32_t Engine::add_coflow(std::span<const hw::LinkId> links, std::span<const double> bytes, SimTime alone,
                                std::span<const std::int32_t> parts, double reference) {
  Impl& m = *impl_;
  if (links.size() != bytes.size() || (!parts.empty() && parts.size() != links.size())) {
    throw std::invalid_argument("engine: a coflow's links, bytes and parts differ in count");
  }
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (bytes[i] > 0.0) order.push_back(i);
  }
  const auto part = [&](std::size_t i) { return parts.empty() ? 0 : parts[i]; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return part(a) < part(b); });
  const std::size_t first = m.coflow_links.size();
  double busiest = 0;
  for (const std::size_t i : order) {
    m.coflow_links.push_back(links[i]);
    m.coflow_bytes.push_back(bytes[i]);
    m.coflow_part.push_back(part(i));
    busiest = std::max(busiest, bytes[i]);
  }
  if (reference != 0.0) {
    if (!(reference >= busiest)) throw std::invalid_argument("engine: a coflow's reference bytes are below a link's");
    busiest = reference;
  }
  m.coflows.push_back({first, m.coflow_links.size() - first, alone, busiest});
  return static_cast<std::int32_t>(m.coflows.size() - 1);
}

std::int32_t Engine::add_transfer(std::span<const hw::LinkId> links, Seconds latency, Bytes bytes) {
  Impl& m = *impl_;
  m.transfers.push_back({m.transfer_links.size(), links.size(), latency, bytes});
  m.transfer_links.insert(m.transfer_links.end(), links.begin(), links.end());
  return static_cast<std::int32_t>(m.transfers.size() - 1);
}

void Engine::reserve(std::size_t tasks, std::size_t dependencies) {
  Impl& m = *impl_;
  for (auto* v : {&m.gpu, &m.priority, &m.ref, &m.pending}) v->reserve(tasks);
  m.activity.reserve(tasks);
  m.flags.reserve(tasks);
  m.tag.reserve(tasks);
  m.time.reserve(tasks);
  m.time_shared.reserve(tasks);
  m.edge_from.reserve(dependencies);
  m.edge_to.reserve(dependencies);
}

void Engine::add_observer(Observer& observer) { impl_->observers.push_back(&observer); }

SimTime Engine::run() { return impl_->run(); }

int Engine::task_count() const { return static_cast<int>(impl_->activity.size()); }
std::int64_t Engine::dependency_count() const {
  return impl_->succ.empty() ? static_cast<std::int64_t>(impl_->edge_from.size())
                             : static_cast<std::int64_t>(impl_->succ.size());
}
std::int64_t Engine::events() const { return impl_->processed; }
SimTime Engine::begin_of(TaskId t) const { return SimTime::ns(impl_->begin[static_cast<std::size_t>(t)]); }
SimTime Engine::end_of(TaskId t) const { return SimTime::ns(impl_->end[static_cast<std::size_t>(t)]); }
std::uint32_t Engine::tag_of(TaskId t) const { return impl_->tag[static_cast<std::size_t>(t)]; }

std::span<const hw::LinkId> Engine::transfer_links(std::int32_t transfer) const {
  const Transfer& tr = impl_->transfers[static_cast<std::size_t>(transfer)];
  return {impl_->transfer_links.data() + tr.first_link, tr.links};
}

Bytes Engine::transfer_bytes(std::int32_t transfer) const {
  return impl_->transfers[static_cast<std::size_t>(transfer)].bytes;
}

}  // namespace tcsim::sim
