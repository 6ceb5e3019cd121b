// Observes a step as it runs and accounts its time: per GPU, the wall time of
// each kind of compute, the idle time exposed by communication and the idle
// time left by the pipeline (bubble); per link, the bytes carried.
//
// Idle time on a GPU's compute stream ends when a task starts; the task the
// engine reports as its last dependency to end (seen through markers) is the
// cause. When the cause is a communication task, the part of the idle
// interval during which any of the GPU's communication ran is exposed
// communication (a collective that waited in the GPU's communication lane
// behind another is still communication); the rest is bubble (waiting for
// another stage, a straggler or the schedule). After the GPU's last compute
// task, the tail to the end of the step counts the same way against the
// GPU's last communication task.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sim/engine.h"
#include "sim/step_graph.h"

namespace tcsim::sim {

struct GpuTime {
  std::array<std::int64_t, 4> compute{};  // ns by TaskKind forward, backward_input, backward_weight, optimizer
  std::int64_t exposed_comm = 0;
  std::int64_t bubble = 0;
  std::int64_t comm_active = 0;  // ns during which at least one communication task ran
  std::int64_t busy() const { return compute[0] + compute[1] + compute[2] + compute[3]; }
};

class StepAccounting : public Observer {
 public:
  StepAccounting(const StepGraph& graph, std::size_t links);
  StepAccounting(const StepAccounting&) = delete;
  StepAccounting& operator=(const StepAccounting&) = delete;

  void on_begin(const TaskEvent& task) override;
  void on_end(const TaskEvent& task) override;

  // Closes every GPU's account at the end of the step and adds up the bytes
  // of every link.
  void finish(SimTime step_end);

  const std::vector<GpuTime>& gpus() const { return gpus_; }
  const std::vector<double>& link_bytes() const { return link_bytes_; }

 private:
  struct GpuState {
    std::int64_t last_compute_end = 0;
    TaskKind last_comm = TaskKind::marker;  // of the communication task that ended last
    int comm_running = 0;
    std::int64_t comm_since = 0;
    std::int64_t comm_in_window = 0;  // communication time since last_compute_end, of spans that ended
  };

  TaskKind kind_of(std::uint32_t tag) const { return graph_.labels[tag].kind; }
  // The kind of the task `t` waited for last, seen through markers.
  TaskKind cause_of(const TaskEvent& t) const;
  void idle(int gpu, std::int64_t from, std::int64_t to, TaskKind cause, std::int64_t comm_time);
  // The GPU's communication time from its last compute end to `at`.
  std::int64_t comm_since_compute(const GpuState& s, std::int64_t at) const;
  void add_link_bytes(const TaskEvent& t);

  const StepGraph& graph_;
  std::vector<GpuTime> gpus_;
  std::vector<GpuState> state_;
  std::vector<TaskId> cause_;               // markers: the non-marker task they waited for
  std::vector<std::int64_t> traffic_ends_;  // per traffic use: tasks of it that ended
  std::vector<double> link_bytes_;
};

}  // namespace tcsim::sim
