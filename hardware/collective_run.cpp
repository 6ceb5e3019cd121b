#include "hardware/collective_run.h"

#include <algorithm>
#include <stdexcept>

#include "hardware/flows.h"

namespace tcsim::hw {
namespace {

// Runs one step from an empty network at `start`; returns when its last flow ends.
SimTime run_step(FlowNetwork& net, const std::vector<Route>& routes, const Step& step, SimTime start) {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const Transfer& t = step.transfers[i];
    net.add_flow(routes[i].links, t.pipelined ? Seconds(0) : routes[i].latency, t.bytes, start);
  }
  SimTime now = start;
  while (const auto event = net.next_event()) {
    now = std::max(now, event->time);
    net.advance_to(now);
  }
  return now;
}

std::vector<Route> routes_of(const ClusterTopology& topology, const Step& step) {
  std::vector<Route> routes;
  routes.reserve(step.transfers.size());
  for (const Transfer& t : step.transfers) routes.push_back(topology.route(t.src, t.dst, flow_key(t)));
  return routes;
}

}  // namespace

std::uint64_t flow_key(const Transfer& t) {
  constexpr int kFieldBits = 21;  // 2M GPUs or channels per field
  return (static_cast<std::uint64_t>(t.src) << (2 * kFieldBits)) ^ (static_cast<std::uint64_t>(t.dst) << kFieldBits) ^
         static_cast<std::uint64_t>(t.channel);
}

StepRoutes schedule_routes(const ClusterTopology& topology, const Schedule& schedule) {
  StepRoutes routes;
  routes.reserve(schedule.steps.size());
  for (const Step& step : schedule.steps) routes.push_back(routes_of(topology, step));
  return routes;
}

RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options) {
  return run_schedule(topology, schedule, options, schedule_routes(topology, schedule));
}

RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options,
                       const StepRoutes& step_routes) {
  if (step_routes.size() != schedule.steps.size()) {
    throw std::invalid_argument("run_schedule: routes for a different number of steps");
  }
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    if (step_routes[i].size() != schedule.steps[i].transfers.size()) {
      throw std::invalid_argument("run_schedule: routes for a different number of transfers");
    }
  }
  FlowNetwork net(topology);
  RunResult result;
  SimTime now;
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    const Step& step = schedule.steps[i];
    const std::vector<Route>& routes = step_routes[i];
    const int runs = options.reuse_repeated_steps ? 1 : step.repeat;
    SimTime one;
    for (int k = 0; k < runs; ++k) {
      const SimTime end = run_step(net, routes, step, now);
      one = end - now;
      now = end;
      result.flows_simulated += static_cast<std::int64_t>(routes.size());
    }
    now += one * (step.repeat - runs);
    result.step_times.push_back(to_seconds(one));
    result.steps += step.repeat;
    result.flows += static_cast<std::int64_t>(routes.size()) * step.repeat;
  }
  result.time = to_seconds(now);
  return result;
}

}  // namespace tcsim::hw
