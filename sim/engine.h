// The discrete-event engine: tasks (activities on resources) joined by
// dependencies, one integer clock, one total order of events.
//
// Resources and how they share:
// - Each GPU has one compute stream. Compute tasks queue on it and run one at a
//   time, the ready task with the lowest priority number first (ties: lowest
//   task id). A compute task is an amount of work at a rate: it needs `time`
//   with every SM, `time_shared` while communication kernels hold the GPU's
//   communication SMs; when that changes mid-task, the remaining fraction of
//   its work continues at the new rate.
// - Communication tasks (delay, transfer) that set `holds_comm_sms` take the
//   GPU's communication SMs while they run; any number may run at once (they
//   share those SMs). The compute stream is slowed while at least one runs.
// - Network links are a hw::FlowNetwork: a transfer task is one flow over its
//   links, sharing them max-min fairly with every other flow.
// - A collective task is a coflow on the same network (hw::FlowNetwork::
//   add_coflow): its bytes on each link, and its time alone (its schedule
//   simulated beforehand on the flow network, hardware/collective_run.h). It
//   shares links max-min fairly with transfers and with other collectives, so
//   it takes its time alone when nothing else crosses its links and longer
//   when something does. A collective is one task for all its GPUs: it depends
//   on each member's inputs, so it starts when the slowest member is ready, and
//   holds the communication SMs of every GPU of its group.
// - A delay task lasts a fixed time (a collective timed alone, when the caller
//   asks for collectives as fixed delays; a collective with no link to cross).
//
// Contract:
// - A task becomes ready when every task it depends on has ended. Markers end
//   as soon as they are ready; compute tasks then wait for their stream;
//   delays and transfers start at once.
// - Events are ordered by (time, insertion sequence): two runs of the same
//   graph produce the same times bit for bit.
// - Observers are called, in event order, when a task begins and when it ends
//   (markers too). They must not change the graph.
// - The graph is built first (add_*), then run() once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/sim_time.h"
#include "core/units.h"
#include "hardware/topology.h"

namespace tcsim::sim {

using TaskId = std::int32_t;
inline constexpr TaskId kNoTask = -1;

enum class Activity : std::uint8_t {
  marker,      // no work: joins dependencies
  compute,     // work on a GPU's SMs, through its compute stream
  delay,       // a fixed duration
  transfer,    // bytes over network links (one flow)
  collective,  // a coflow: bytes on many links, its time alone known
};

struct TaskSpec {
  Activity activity = Activity::marker;
  std::int32_t gpu = -1;      // compute: whose stream runs it; comm: whose SMs it holds
  std::int32_t priority = 0;  // compute: program order on the stream (lower runs first)
  std::uint32_t tag = 0;      // the caller's label, handed to observers untouched
  SimTime time;               // compute: with every SM; delay: its duration
  SimTime time_shared;        // compute: while communication kernels hold SMs
  std::int32_t gpu_group =
      -1;  // delay, collective: from add_gpu_group(), the GPUs whose SMs it holds (instead of `gpu`)
  std::int32_t transfer = -1;  // transfer: from add_transfer()
  std::int32_t coflow = -1;    // collective: from add_coflow()
  // collective: the caller's promise that collectives of one lane never run at
  // once (its dependencies order them; checked while running). -1: none.
  // A link that only one lane's collectives cross, and no transfer, can never
  // slow a collective (its time alone already fits that link), so run() leaves
  // it out of the sharing: the same rates with less work.
  std::int32_t lane = -1;
  bool holds_comm_sms = false;  // delay/transfer/collective: takes the communication SMs of its GPU(s) while it runs
};

// What observers see of a task.
struct TaskEvent {
  TaskId id = kNoTask;
  Activity activity = Activity::marker;
  std::int32_t gpu = -1;      // a group task: its first GPU
  std::span<const int> gpus;  // every GPU whose communication SMs it holds (empty: none)
  std::uint32_t tag = 0;
  std::int32_t transfer = -1;  // transfer tasks: the index for Engine::transfer_links/bytes
  SimTime begin;
  SimTime end;  // SimTime::never() in on_begin
  // The dependency that ended last (the one this task waited for), or kNoTask.
  TaskId critical = kNoTask;
  Activity critical_activity = Activity::marker;
  std::uint32_t critical_tag = 0;
  SimTime critical_begin;
  SimTime critical_end;
};

// Contract: called by Engine::run in event order; must not touch the engine.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_begin(const TaskEvent& /*task*/) {}
  virtual void on_end(const TaskEvent& /*task*/) {}
};

class Engine {
 public:
  // `gpus` compute streams; `links` the capacity of every network link (may be
  // empty when no task is a transfer).
  Engine(int gpus, std::vector<BytesPerSecond> links);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  TaskId add_task(const TaskSpec& spec);
  void add_dependency(TaskId before, TaskId after);
  std::int32_t add_gpu_group(std::span<const int> gpus);
  std::int32_t add_transfer(std::span<const hw::LinkId> links, Seconds latency, Bytes bytes);
  // A collective's traffic: bytes[i] over links[i], and its time alone. With
  // `parts` (a label per link), each part shares its links as a coflow of its
  // own with the same time alone, and the collective ends with its last part:
  // a member slowed on its links slows the whole collective, without joining
  // every member's links into one sharing problem. Every part's rate is
  // counted in bytes on the collective's busiest link: `reference` when the
  // links given leave it out (0: the most on a given link; see
  // hw::FlowNetwork::add_coflow), so parts and links left out by run() only
  // drop constraints, never change the unit of fairness.
  std::int32_t add_coflow(std::span<const hw::LinkId> links, std::span<const double> bytes, SimTime alone,
                          std::span<const std::int32_t> parts = {}, double reference = 0.0);
  void reserve(std::size_t tasks, std::size_t dependencies);
  void add_observer(Observer& observer);

  // Runs every task; returns when the last one ends. Throws std::logic_error
  // when tasks are left that can never run (a dependency cycle).
  SimTime run();

  int task_count() const;
  std::int64_t dependency_count() const;
  std::int64_t events() const;  // task ends and network events processed by run()
  SimTime begin_of(TaskId task) const;
  SimTime end_of(TaskId task) const;
  // The links and bytes of a transfer, for observers that account per link.
  std::span<const hw::LinkId> transfer_links(std::int32_t transfer) const;
  Bytes transfer_bytes(std::int32_t transfer) const;
  std::uint32_t tag_of(TaskId task) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tcsim::sim
