// The task graph of one training step: the pipeline schedule's chunks of
// every micro-batch, each cut into compute segments and collectives by the
// model's ops, the pipeline transfers between stages, the data-parallel
// gradient reduction in buckets and the optimizer step, placed on the
// cluster's GPUs. docs/simulation.md describes each rule and its source.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hardware/topology.h"
#include "model/schedule.h"
#include "model/workload.h"
#include "sim/engine.h"
#include "sim/layout.h"
#include "sim/step_shape.h"

namespace tcsim::sim {

enum class Fidelity { symmetric, full };

// What the full mode draws from its seed, and the published figures that set
// how much.
struct Variation {
  // Per-GPU speed: each GPU's compute takes 1 + u x gpu_spread as long, u
  // uniform on [0, 1). Sinha et al. 2022, "Not All GPUs Are Created Equal"
  // (arXiv:2208.11035): 8% average performance variation among GPUs of one
  // SKU in five large clusters.
  double gpu_spread = 0.08;
  // Skewed expert load: the hottest expert's excess over the mean load.
  // Wang et al. 2024, "Auxiliary-Loss-Free Load Balancing" (arXiv:2408.15664,
  // Table 2): MaxVio_global 0.04 with DeepSeek-V3's balancing.
  double expert_max_violation = 0.04;
  // Routing samples drawn per step; each (micro-batch, layer, EP group)
  // instance uses one, chosen by hash. Each sample routes this many tokens per
  // rank (bytes scaled to the real count).
  int routing_samples = 8;
  int sample_tokens_per_rank = 1024;

  bool operator==(const Variation&) const = default;
};

struct StepOptions {
  Fidelity fidelity = Fidelity::symmetric;
  std::uint64_t seed = 1;
  Variation variation;
  // Pipeline transfers as live flows sharing links (true), or as delays timed
  // alone on the flow network like the collectives (false).
  bool transfers_as_flows = true;
  // Collectives as coflows sharing links with each other and with pipeline
  // transfers (true), or as fixed delays, each timed alone (false: the
  // approximation tcsim made before; kept to measure what sharing costs).
  bool shared_collectives = true;
  // Threads for the routing samples and their all-to-alls (0: the machine's
  // hardware threads). Results do not depend on it.
  int jobs = 0;

  // The same step: every field but jobs.
  bool same_step(const StepOptions& o) const {
    return fidelity == o.fidelity && seed == o.seed && variation == o.variation &&
           transfers_as_flows == o.transfers_as_flows && shared_collectives == o.shared_collectives;
  }
};

enum class TaskKind : std::uint8_t {
  forward,
  backward_input,  // input gradients, and the forward ops recomputed for them
  backward_weight,
  optimizer,
  ep_comm,  // expert dispatch / combine
  tp_comm,
  cp_comm,
  dp_comm,  // gradient reduce-scatter / all-reduce, parameter all-gather
  pp_comm,  // activation or gradient sent to the next stage
  marker,   // joins, no work
};

bool is_compute(TaskKind k);
bool is_comm(TaskKind k);
std::string_view to_string(TaskKind k);

// What a task is, for observers (the engine's tag indexes StepGraph::labels).
struct TaskLabel {
  TaskKind kind = TaskKind::marker;
  std::int16_t stage = -1;
  std::int32_t micro_batch = -1;
  std::int16_t first_layer = -1;  // main-model layer range of the blocks it covers; -1: embedding or head only
  std::int16_t last_layer = -1;
  std::uint16_t name = 0;  // index into StepGraph::names
};

struct StepGraph {
  std::unique_ptr<Engine> engine;
  std::vector<TaskLabel> labels;
  std::vector<std::string> names;
  std::vector<int> gpu_ids;        // engine GPU -> cluster GPU
  std::vector<int> pipeline_rank;  // engine GPU -> its pipeline rank
  model::Pipeline pipeline;
  Fidelity fidelity = Fidelity::symmetric;
  int micro_batches = 0;
  std::int64_t tokens = 0;  // tokens per step (global batch x sequence length)
  int collective_runs = 0;  // distinct collectives simulated on the flow network
  std::int64_t collective_flows = 0;
  // Link traffic of collective tasks: a task's bytes on each link are
  // link_patterns[pattern] x scale (the simulated members of a group share
  // its traffic).
  struct TrafficUse {
    std::int32_t pattern = -1;
    double scale = 0;
  };
  std::vector<std::vector<std::pair<hw::LinkId, double>>> link_patterns;
  std::vector<TrafficUse> traffic_uses;
  std::vector<std::int32_t> traffic_use_of_task;  // per engine task; -1 when not a collective
};

class CollectiveStore;

// The least time each activity of the symmetric step can take, per pipeline
// rank, for a bound without running the step (sim/step_bound.h): a compute
// task on the faster of its two rates, as the step graph rounds it; a
// collective its time alone on the groups of the rank's first replica (the
// engine never runs one faster, hardware/flows.h); a join 0. In ticks.
struct RankFloors {
  std::vector<std::array<std::vector<std::int64_t>, 4>> pieces;  // [stage][pass][piece], the rank's chunks only
  std::vector<std::int64_t> chunk_gather;    // [stage] ZeRO-3: the weights before a forward or backward chunk
  std::vector<std::int64_t> updated_gather;  // [stage] ZeRO-1/2: the updated weights, block by block
  std::vector<std::int64_t> reduction;       // [stage] the gradients' buckets
  std::int64_t norm = 0;                     // the read of the gradient shard for its norm
  std::int64_t optimizer = 0;                // the optimizer step
};
struct StepFloors {
  model::StepWorkload workload;
  model::Pipeline pipeline;
  std::vector<RankFloors> ranks;
};
StepFloors step_floors(const StepShape& shape, const hw::ClusterTopology& topology, CollectiveStore* store = nullptr);

// Builds the steady-state step of `shape`, which passes scenarios/rules.h.
// Throws ConfigError when the cluster has no calibration profile. `store`:
// collectives timed by other steps on the same cluster (sim/collective_store.h).
StepGraph build_step_graph(const StepShape& shape, const hw::ClusterTopology& topology, const StepOptions& options,
                           CollectiveStore* store = nullptr);

}  // namespace tcsim::sim
