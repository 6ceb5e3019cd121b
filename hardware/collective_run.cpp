#include "hardware/collective_run.h"

#include <cmath>

#include "hardware/flows.h"

namespace tcsim::hw {
namespace {

constexpr double kTicksPerSecond = 1e9;  // the engine's clock counts nanoseconds

// Runs one step from an empty network at `start`; returns when its last flow ends.
Nanoseconds run_step(FlowNetwork& net, const std::vector<Route>& routes, const Step& step, Nanoseconds start) {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const Transfer& t = step.transfers[i];
    net.add_flow(routes[i].links, t.pipelined ? Seconds(0) : routes[i].latency, t.bytes, from_ticks(start));
  }
  Nanoseconds now = start;
  while (const auto event = net.next_event()) {
    now = std::max(now, to_ticks(event->time));
    net.advance_to(from_ticks(now));
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

Nanoseconds to_ticks(Seconds t) {
  auto ticks = static_cast<Nanoseconds>(std::ceil(t.value() * kTicksPerSecond));
  // The tick must not fall before t once converted back.
  if (from_ticks(ticks) < t) ++ticks;
  return ticks;
}

Seconds from_ticks(Nanoseconds ticks) { return Seconds(static_cast<double>(ticks) / kTicksPerSecond); }

std::uint64_t flow_key(const Transfer& t) {
  constexpr int kFieldBits = 21;  // 2M GPUs or channels per field
  return (static_cast<std::uint64_t>(t.src) << (2 * kFieldBits)) ^ (static_cast<std::uint64_t>(t.dst) << kFieldBits) ^
         static_cast<std::uint64_t>(t.channel);
}

RunResult run_schedule(const ClusterTopology& topology, const Schedule& schedule, const RunOptions& options) {
  FlowNetwork net(topology);
  RunResult result;
  Nanoseconds now = 0;
  for (const Step& step : schedule.steps) {
    const std::vector<Route> routes = routes_of(topology, step);
    const int runs = options.reuse_repeated_steps ? 1 : step.repeat;
    Nanoseconds one = 0;
    for (int k = 0; k < runs; ++k) {
      const Nanoseconds end = run_step(net, routes, step, now);
      one = end - now;
      now = end;
      result.flows_simulated += static_cast<std::int64_t>(routes.size());
    }
    now += one * (step.repeat - runs);
    result.step_times.push_back(from_ticks(one));
    result.steps += step.repeat;
    result.flows += static_cast<std::int64_t>(routes.size()) * step.repeat;
  }
  result.time = from_ticks(now);
  return result;
}

}  // namespace tcsim::hw
