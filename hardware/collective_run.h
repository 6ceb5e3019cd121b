// Runs a collective's schedule on a cluster with flow-level sharing: each step's
// transfers become flows on their routes, the flows share links max-min
// fairly, and the step ends when its last flow completes. The clock is the
// simulator's (core/sim_time.h), as in the discrete-event engine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/units.h"
#include "hardware/collectives.h"
#include "hardware/topology.h"

namespace tcsim::hw {

class FlowNetwork;

struct RunOptions {
  // A step repeated k times starts from an empty network each time (every step
  // waits for the previous one), so its k runs take the same time: simulate it
  // once and count it k times. false simulates every repetition (same result;
  // for benchmarking the flow engine).
  bool reuse_repeated_steps = true;
  // A step whose flows each send their bytes within one tick even at the
  // least share they can get ends one tick after its slowest latency: no
  // flow is simulated (collective_run.cpp, tiny_step_end). false simulates
  // them (the same times; for tests).
  bool tiny_steps_closed = true;
};

struct RunResult {
  Seconds time;
  std::int64_t steps = 0;            // counting repeats
  std::int64_t flows = 0;            // counting repeats
  std::int64_t flows_simulated = 0;  // flows the flow network actually ran
  std::vector<Seconds> step_times;   // one repetition of each schedule step
};

RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options = {});

// The route of every transfer, step by step, in the schedule's order: what
// run_schedule computes before it runs. Schedules whose steps cross the same
// (source, destination, channel) in the same order have the same routes (a
// ring's are the same at every size, hardware/collectives.h), so a caller that
// runs several may compute them once and pass them in.
// One array of links for all of them: a 6,272-GPU ring's 50,000 routes are
// not 50,000 vectors.
class StepRoutes {
 public:
  std::size_t steps() const { return step_first_.size() - 1; }
  std::size_t transfers(std::size_t step) const { return step_first_[step + 1] - step_first_[step]; }
  // The route of transfer j of step `step`.
  std::span<const LinkId> links(std::size_t step, std::size_t j) const {
    const std::size_t r = step_first_[step] + j;
    return {links_.data() + route_first_[r], route_first_[r + 1] - route_first_[r]};
  }
  Seconds latency(std::size_t step, std::size_t j) const { return latency_[step_first_[step] + j]; }

 private:
  friend StepRoutes schedule_routes(const ClusterTopology& topology, const Schedule& schedule);
  std::vector<LinkId> links_;
  std::vector<std::size_t> route_first_{0};  // route r's links: [route_first_[r], route_first_[r + 1])
  std::vector<Seconds> latency_;             // by route
  std::vector<std::size_t> step_first_{0};   // step i's routes: [step_first_[i], step_first_[i + 1])
};
StepRoutes schedule_routes(const ClusterTopology& topology, const Schedule& schedule);
// Throws std::invalid_argument when `routes` does not have a route per transfer.
// `network`: a flow network built on `topology` to run on (reset first; kept
// with its storage for the next run), else one made for the run.
RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options,
                       const StepRoutes& routes, FlowNetwork* network = nullptr);

// The ECMP key of a transfer: its two ends and its channel.
std::uint64_t flow_key(const Transfer& t);

}  // namespace tcsim::hw
