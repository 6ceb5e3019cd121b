#include "hardware/collective_run.h"

#include <algorithm>
#include <stdexcept>

#include "hardware/flows.h"

namespace tcsim::hw {
namespace {

// Runs step i from an empty network at `start`; returns when its last flow ends.
SimTime run_step(FlowNetwork& net, const StepRoutes& routes, std::size_t i, const Step& step, SimTime start) {
  for (std::size_t j = 0; j < step.transfers.size(); ++j) {
    const Transfer& t = step.transfers[j];
    net.add_flow(routes.links(i, j), t.pipelined ? Seconds(0) : routes.latency(i, j), t.bytes, start);
  }
  SimTime now = start;
  while (const auto event = net.next_event()) {
    now = std::max(now, event->time);
    net.advance_to(now);
  }
  return now;
}

}  // namespace

std::uint64_t flow_key(const Transfer& t) {
  constexpr int kFieldBits = 21;  // 2M GPUs or channels per field
  return (static_cast<std::uint64_t>(t.src) << (2 * kFieldBits)) ^ (static_cast<std::uint64_t>(t.dst) << kFieldBits) ^
         static_cast<std::uint64_t>(t.channel);
}

StepRoutes schedule_routes(const ClusterTopology& topology, const Schedule& schedule) {
  StepRoutes routes;
  std::size_t count = 0;
  for (const Step& step : schedule.steps) count += step.transfers.size();
  routes.route_first_.reserve(count + 1);
  routes.latency_.reserve(count);
  routes.step_first_.reserve(schedule.steps.size() + 1);
  for (const Step& step : schedule.steps) {
    for (const Transfer& t : step.transfers) {
      routes.latency_.push_back(topology.route_into(t.src, t.dst, flow_key(t), routes.links_));
      routes.route_first_.push_back(routes.links_.size());
    }
    routes.step_first_.push_back(routes.latency_.size());
  }
  return routes;
}

RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options) {
  return run_schedule(topology, schedule, options, schedule_routes(topology, schedule));
}

RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options,
                       const StepRoutes& step_routes) {
  if (step_routes.steps() != schedule.steps.size()) {
    throw std::invalid_argument("run_schedule: routes for a different number of steps");
  }
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    if (step_routes.transfers(i) != schedule.steps[i].transfers.size()) {
      throw std::invalid_argument("run_schedule: routes for a different number of transfers");
    }
  }
  FlowNetwork net(topology);
  RunResult result;
  SimTime now;
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    const Step& step = schedule.steps[i];
    const auto transfers = static_cast<std::int64_t>(step.transfers.size());
    const int runs = options.reuse_repeated_steps ? 1 : step.repeat;
    SimTime one;
    for (int k = 0; k < runs; ++k) {
      const SimTime end = run_step(net, step_routes, i, step, now);
      one = end - now;
      now = end;
      result.flows_simulated += transfers;
    }
    now += one * (step.repeat - runs);
    result.step_times.push_back(to_seconds(one));
    result.steps += step.repeat;
    result.flows += transfers * step.repeat;
  }
  result.time = to_seconds(now);
  return result;
}

}  // namespace tcsim::hw
