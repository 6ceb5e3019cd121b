// The expert-parallel traffic of one step: routing samples (the exact mean
// of balanced routing in symmetric fidelity; in full fidelity, samples drawn
// with skewed expert load, Variation), the dispatch and combine of each
// sample simulated once as flows on the cluster, and for every (pipeline
// rank, micro-batch, layer, EP group) the sample it uses. The step's EP
// collectives and the routed experts' compute load read it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/expert_dispatch.h"
#include "hardware/topology.h"
#include "model/workload.h"
#include "sim/collective_cache.h"
#include "sim/expert_load.h"
#include "sim/layout.h"
#include "sim/step_graph.h"

namespace tcsim::sim {

class ExpertTraffic {
 public:
  // Routes the samples and simulates their all-to-alls (into `cache`). No
  // samples when the model has no experts or ep is 1.
  ExpertTraffic(const StepShape& shape, const model::StepWorkload& workload, const Layout& layout,
                const hw::ClusterTopology& topology, const StepOptions& options, CollectiveCache& cache,
                std::int64_t tokens_per_gpu);

  // The routing sample (rank, micro_batch, layer, ep_group) uses.
  int sample_of(int rank, int micro_batch, int layer, int ep_group) const;

  // The routed experts' load on `replica` of pipeline rank `rank` over the
  // mean (1: balanced).
  double load(int rank, int replica, int micro_batch, int layer) const;

  // An EP dispatch or combine piece on group `group_index` with `sample`.
  CollectiveUse use(const model::WorkPiece& piece, const std::vector<int>& gpus, int sample);

 private:
  struct RoutingSample {
    std::vector<double> load;   // per EP position (sampled; balanced routing loads every expert at 1)
    double token_scale = 1.0;   // real tokens / sampled tokens
    hw::RoutedTokens tokens;    // balanced routing: made only to simulate an all-to-all
    int balanced_per_rank = 0;  // balanced routing's tokens per rank (0: sampled)
    std::string drawn;          // everything `tokens` follow from but the group (for CollectiveStore keys)
  };

  RoutingShape routing_shape() const;
  double bytes_per_token(Bytes comm_bytes) const;
  void sample_routing(const hw::GroupLayout& group, const RoutingShape& shape);
  void simulate_all_to_alls(const model::StepWorkload& workload, const hw::GroupLayout& group,
                            const RoutingShape& shape);

  const StepShape& shape_;
  const Layout& layout_;
  const hw::ClusterTopology& topology_;
  const StepOptions& options_;
  CollectiveCache& cache_;
  std::int64_t tokens_per_gpu_;
  std::vector<RoutingSample> samples_;
};

}  // namespace tcsim::sim
