// Chrome trace-event JSON (the format Perfetto and chrome://tracing open) of
// what ran: one process per traced GPU with a track per stream (compute, the
// model's collectives, data-parallel collectives, pipeline sends), and one
// process for the network with a track per link that carried a traced
// transfer or a traced GPU's share of a collective. Slices are named by pass,
// micro-batch, layers and op. Slices that overlap on one track (transfers
// sharing a link) are drawn on lanes of their own, so every thread's slices
// are apart, as the trace-event format requires.
#pragma once

#include <string>
#include <vector>

#include "hardware/topology.h"
#include "sim/engine.h"
#include "sim/step_graph.h"

namespace tcsim::sim {

class ChromeTrace : public Observer {
 public:
  // traced: engine GPUs to record (empty: all).
  ChromeTrace(const StepGraph& graph, const hw::ClusterTopology& topology, std::vector<int> traced = {});

  void on_end(const TaskEvent& task) override;

  // Writes FILE atomically: to FILE.tmp.PID, then renamed over FILE. Throws
  // ConfigError when the file cannot be written.
  void write(const std::string& path) const;

  std::size_t slices() const { return slices_.size(); }

 private:
  struct SliceRecord {
    std::int64_t begin = 0;
    std::int64_t end = 0;
    std::int32_t pid = 0;
    std::int32_t tid = 0;
    std::uint32_t tag = 0;
  };

  // Where a slice is drawn: a thread id unique within its process, and its
  // lane within its track (0 for the first).
  struct Lane {
    std::int32_t tid = 0;
    std::int32_t lane = 0;
  };
  std::vector<Lane> lanes() const;

  std::string slice_name(std::uint32_t tag) const;
  void link_slices(const TaskEvent& t, int engine_gpu);

  const StepGraph& graph_;
  const hw::ClusterTopology& topology_;
  std::vector<char> traced_;
  std::vector<SliceRecord> slices_;
};

}  // namespace tcsim::sim
