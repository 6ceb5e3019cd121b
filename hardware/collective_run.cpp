#include "hardware/collective_run.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
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

// A flow never gets less than its share on its bottleneck link under max-min
// fairness: at least the least, over the links it crosses, of a link's
// capacity over the flows on it, and a step's flows on a link are never more
// than all of the step's that cross it. When even that share sends every
// flow's bytes within one tick (a gradient norm's 4 bytes), the flows cannot
// slow one another: each ends one tick after its latency, at once when it has
// no byte or no link, as the flow network ends it (flows.h: a duration rounds
// up to the next tick). Then the step's end needs no simulation; nullopt when
// it does. `on_link`: one zero per link of the network (made here when
// empty), left zero.
std::optional<SimTime> tiny_step_end(const ClusterTopology& topology, const StepRoutes& routes, std::size_t i,
                                     const Step& step, SimTime start, std::vector<std::int32_t>& on_link) {
  // Below one tick by a margin far above the rates' rounding, so the rounding
  // up gives one tick whatever the last bit of a rate.
  constexpr double kMargin = 1e-6;
  const double tick = to_seconds(SimTime::ns(1)).value() * (1.0 - kMargin);
  // First without counting: a flow that needs more than a tick on its
  // narrowest link alone is no tiny flow (most steps stop here).
  for (std::size_t j = 0; j < step.transfers.size(); ++j) {
    const std::span<const LinkId> links = routes.links(i, j);
    if (links.size() > FlowNetwork::kMaxLinks) return std::nullopt;  // the network refuses it
    for (const LinkId l : links) {
      if (step.transfers[j].bytes.value() / topology.link(l).bandwidth.value() > tick) return std::nullopt;
    }
  }
  if (on_link.empty()) on_link.assign(topology.links().size(), 0);
  for (std::size_t j = 0; j < step.transfers.size(); ++j) {
    for (const LinkId l : routes.links(i, j)) ++on_link[static_cast<std::size_t>(l)];
  }
  bool tiny = true;
  SimTime end = start;
  for (std::size_t j = 0; j < step.transfers.size(); ++j) {
    const Transfer& t = step.transfers[j];
    const std::span<const LinkId> links = routes.links(i, j);
    const bool instant = links.empty() || !(t.bytes.value() > 0.0);
    if (!instant) {
      double least = std::numeric_limits<double>::infinity();  // bytes per second
      for (const LinkId l : links) {
        least = std::min(least, topology.link(l).bandwidth.value() / on_link[static_cast<std::size_t>(l)]);
      }
      tiny = tiny && t.bytes.value() / least <= tick;
    }
    const Seconds latency = t.pipelined ? Seconds(0) : routes.latency(i, j);
    const SimTime starts = start + to_sim_time(Seconds(std::max(0.0, latency.value())));
    end = std::max(end, instant ? starts : starts + SimTime::ns(1));
  }
  for (std::size_t j = 0; j < step.transfers.size(); ++j) {
    for (const LinkId l : routes.links(i, j)) on_link[static_cast<std::size_t>(l)] = 0;
  }
  if (!tiny) return std::nullopt;
  return end;
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
                       const StepRoutes& step_routes, FlowNetwork* network) {
  if (step_routes.steps() != schedule.steps.size()) {
    throw std::invalid_argument("run_schedule: routes for a different number of steps");
  }
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    if (step_routes.transfers(i) != schedule.steps[i].transfers.size()) {
      throw std::invalid_argument("run_schedule: routes for a different number of transfers");
    }
  }
  std::optional<FlowNetwork> own;  // made for the first step simulated, when no network is given
  FlowNetwork* net = nullptr;
  std::vector<std::int32_t> on_link;
  RunResult result;
  SimTime now;
  for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
    const Step& step = schedule.steps[i];
    const auto transfers = static_cast<std::int64_t>(step.transfers.size());
    const int runs = options.reuse_repeated_steps ? 1 : step.repeat;
    SimTime one;
    for (int k = 0; k < runs; ++k) {
      std::optional<SimTime> end;
      if (options.tiny_steps_closed) end = tiny_step_end(topology, step_routes, i, step, now, on_link);
      if (!end) {
        if (!net) {
          if (network) {
            network->reset();
            net = network;
          } else {
            net = &own.emplace(topology);
          }
        }
        end = run_step(*net, step_routes, i, step, now);
        result.flows_simulated += transfers;
      }
      one = *end - now;
      now = *end;
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
