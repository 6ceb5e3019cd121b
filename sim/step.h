// One training step, simulated: build the cluster and the step's task graph,
// run the engine with the time-accounting observer (and any others), and
// report the step's time, throughput and where the time of the critical GPU
// went. `step.*` of the CLI's JSON is this.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/units.h"
#include "hardware/topology.h"
#include "scenarios/scenario.h"
#include "sim/engine.h"
#include "sim/step_graph.h"
#include "sim/step_shape.h"

namespace tcsim::sim {

// The critical GPU's step time by what it was doing; the six parts add up to
// the step time.
struct StepBreakdown {
  Seconds forward;
  Seconds backward_input;  // input gradients, with the forward ops recomputed for them
  Seconds backward_weight;
  Seconds bubble;        // idle, waiting for other stages or stragglers
  Seconds exposed_comm;  // idle while a collective or send it waits for runs
  Seconds optimizer;
  Seconds total() const { return forward + backward_input + backward_weight + bubble + exposed_comm + optimizer; }
};

struct GpuUse {
  int gpu = 0;  // cluster GPU id
  int pipeline_rank = 0;
  Seconds compute;                 // busy computing
  Seconds comm;                    // at least one communication task running
  double compute_utilisation = 0;  // compute / step time
};

struct LinkUse {
  hw::LinkId link = 0;
  Bytes bytes;
  double utilisation = 0;  // bytes / (capacity x step time)
};

struct StepResult {
  Fidelity fidelity = Fidelity::symmetric;
  std::uint64_t seed = 0;
  Seconds time;
  std::int64_t tokens = 0;  // per step
  int gpus = 0;
  int micro_batches = 0;  // per pipeline per step
  double tokens_per_second_per_gpu = 0;
  FlopsPerSecond flops_per_gpu;                 // model FLOPs, causal attention
  FlopsPerSecond flops_per_gpu_full_attention;  // model FLOPs, full s x s attention (PaLM's MFU convention)
  double mfu_bf16 = 0;                          // flops_per_gpu / the GPU's dense BF16 peak
  double mfu_bf16_full_attention = 0;
  double gpu_hours_per_trillion_tokens = 0;  // 1e12 / (tokens/s/GPU x 3600)
  int critical_gpu = 0;                      // the simulated GPU with the most compute
  int critical_pipeline_rank = 0;
  StepBreakdown breakdown;
  std::vector<GpuUse> gpu_use;    // every simulated GPU
  std::vector<LinkUse> link_use;  // every link that carried bytes, busiest first
  // How the simulation went.
  int simulated_gpus = 0;
  int tasks = 0;
  std::int64_t dependencies = 0;
  std::int64_t events = 0;
  int collective_runs = 0;
  std::int64_t collective_flows = 0;
};

class StepSimulation {
 public:
  // Builds the cluster and the graph. Throws ConfigError when the cluster
  // has no calibration profile or its network cannot be built. `distances`:
  // hop distances shared with other topologies of the cluster's shape;
  // `collectives`: collectives timed by other steps on the same cluster.
  StepSimulation(StepShape shape, const StepOptions& options, hw::TopologyCache* distances = nullptr,
                 CollectiveStore* collectives = nullptr);
  ~StepSimulation();

  const StepGraph& graph() const { return graph_; }
  const hw::ClusterTopology& topology() const { return *topology_; }
  void add_observer(Observer& observer);

  // Runs the step once.
  StepResult run();

 private:
  StepShape shape_;
  StepOptions options_;
  std::unique_ptr<hw::ClusterTopology> topology_;
  StepGraph graph_;
};

// Shorthand: build and run.
StepResult simulate_step(const StepShape& shape, const StepOptions& options, hw::TopologyCache* distances = nullptr,
                         CollectiveStore* collectives = nullptr);
// The step `tcsim run` reports (sim::step_shape(s)).
StepResult simulate_step(const scenario::Scenario& s, const StepOptions& options);

}  // namespace tcsim::sim
