// Wall-clock cost of simulating collectives with flow-level sharing on the
// DeepSeek-V3 cluster (2048 H800, multi-plane fat-tree). Prints one row per
// case: the predicted time, the bus bandwidth, the flows simulated and the
// median wall time over a few runs. Usage: bench_collective [SCENARIO]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/builders.h"
#include "hardware/collective_run.h"
#include "hardware/collectives.h"
#include "hardware/expert_dispatch.h"
#include "scenarios/loader.h"

namespace {

using namespace tcsim;
using namespace tcsim::hw;

constexpr int kRuns = 5;  // median of five runs

struct Outcome {
  Seconds predicted;
  double busbw_factor = 0.0;
  Bytes size;
  std::int64_t flows_simulated = 0;
};

// Median over kRuns of wall-clock and of process CPU seconds (the CPU figure
// is steadier when other work shares the machine).
struct Timing {
  double wall = 0.0;
  double cpu = 0.0;
};

Timing median_time(const std::function<Outcome()>& f, Outcome& last) {
  std::vector<double> walls, cpus;
  for (int i = 0; i < kRuns; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    last = f();
    cpus.push_back(static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
    walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(walls.begin(), walls.end());
  std::sort(cpus.begin(), cpus.end());
  return {walls[walls.size() / 2], cpus[cpus.size() / 2]};
}

void row(const std::string& name, const std::function<Outcome()>& f) {
  Outcome o;
  const Timing t = median_time(f, o);
  const double busbw = o.busbw_factor > 0.0 ? o.size.value() / o.predicted.value() * o.busbw_factor : 0.0;
  fmt::print("{:<64} {:>10} {:>11} {:>10} {:>8.4f} {:>8.4f}\n", name, to_string(o.predicted),
             busbw > 0.0 ? to_string(BytesPerSecond(busbw)) : std::string("-"), o.flows_simulated, t.wall, t.cpu);
}

GroupLayout first(const ClusterTopology& t, int n) {
  GroupLayout g;
  g.gpus_per_node = t.gpus_per_node();
  g.ranks.resize(static_cast<std::size_t>(n));
  std::iota(g.ranks.begin(), g.ranks.end(), 0);
  return g;
}

Outcome run(const ClusterTopology& t, const Schedule& s, CollectiveOp op, int n, Bytes size, bool reuse = true) {
  const RunResult r = run_schedule(t, s, {.reuse_repeated_steps = reuse});
  return {r.time, bus_bandwidth_factor(op, n), size, r.flows_simulated};
}

void bench(const std::string& path) {
  const scenario::Scenario s = scenario::load_scenario(path);
  const ClusterSpec& spec = s.hardware;
  constexpr int kGpus = 1024;
  const Bytes size = gib(1);
  const int channels = spec.network.nics_per_node;

  fmt::print("scenario {}: {} GPUs, {} per node\n", path, gpu_count(spec), spec.gpus_per_node);
  fmt::print("{:<64} {:>10} {:>11} {:>10} {:>8} {:>8}\n", "case", "predicted", "busbw", "flows sim.", "wall s",
             "cpu s");
  row("build the 2048-GPU topology", [&] {
    const ClusterTopology t = build_topology(spec);
    return Outcome{Seconds(0), 0.0, Bytes(0), 0};
  });
  const ClusterTopology t = build_topology(spec);
  const GroupLayout g = first(t, kGpus);
  row(fmt::format("ring all-reduce 1 GiB, 1024 GPUs, {} channels", channels),
      [&] { return run(t, ring_all_reduce(g, size, channels), CollectiveOp::all_reduce, kGpus, size); });
  row(fmt::format("  same, every one of the 2046 steps simulated"),
      [&] { return run(t, ring_all_reduce(g, size, channels), CollectiveOp::all_reduce, kGpus, size, false); });
  row("ring all-reduce 1 GiB, 1024 GPUs, 1 channel, every step",
      [&] { return run(t, ring_all_reduce(g, size, 1), CollectiveOp::all_reduce, kGpus, size, false); });
  row("double binary tree all-reduce 1 GiB, 1024 GPUs, 512 KiB chunks",
      [&] { return run(t, tree_all_reduce(g, size, kNcclSliceBytes), CollectiveOp::all_reduce, kGpus, size); });
  row("hierarchical all-reduce 1 GiB, 1024 GPUs",
      [&] { return run(t, hierarchical_all_reduce(g, size), CollectiveOp::all_reduce, kGpus, size); });
  row("direct all-to-all 1 GiB, 64 GPUs", [&] {
    return run(t, all_to_all(first(t, 64), size, CollectiveAlgo::direct), CollectiveOp::all_to_all, 64, size);
  });
  row("direct all-to-all 1 GiB, 256 GPUs", [&] {
    return run(t, all_to_all(first(t, 256), size, CollectiveAlgo::direct), CollectiveOp::all_to_all, 256, size);
  });
  if (s.model.moe) {
    const model::MoeSpec& moe = *s.model.moe;
    const MoeRouting routing{.experts = moe.routed, .top_k = moe.per_token, .max_nodes = moe.max_nodes_per_token};
    constexpr int kTokens = 4096;  // DeepEP's benchmark batch per rank
    const Bytes token = bytes(s.model.hidden);
    row("EP64 dispatch, 4096 tokens/GPU (route + simulate)", [&] {
      const RoutedTokens tokens = route_tokens(first(t, 64), routing, kTokens);
      const ExpertTraffic d = expert_dispatch(first(t, 64), tokens, moe.routed, token);
      const RunResult r = run_schedule(t, d.schedule);
      return Outcome{r.time, 0.0, Bytes(0), r.flows_simulated};
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench(argc > 1 ? argv[1] : std::string(scenario::kDefaultScenario));
  } catch (const ConfigError& e) {
    fmt::print(stderr, "bench_collective: {}\n", e.what());
    return 2;
  }
  return 0;
}
