#include "sim/expert_traffic.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "core/parallel.h"
#include "sim/random.h"

namespace tcsim::sim {
namespace {

hw::Schedule expert_schedule(const hw::GroupLayout& group, const hw::RoutedTokens& tokens, bool combine,
                             Bytes per_token, int experts) {
  return (combine ? hw::expert_combine(group, tokens, experts, per_token)
                  : hw::expert_dispatch(group, tokens, experts, per_token))
      .schedule;
}

std::string expert_key(int sample, bool combine, Bytes bytes) {
  return fmt::format("expert {} {} {:.0f}", sample, combine ? "combine" : "dispatch", bytes.value());
}

Bytes ep_bytes(const model::Block& b, model::Collective c) {
  for (const model::Op& op : b.ops) {
    if (op.collective == c) return op.comm_bytes;
  }
  return Bytes(0);
}

}  // namespace

ExpertTraffic::ExpertTraffic(const StepShape& shape, const model::StepWorkload& workload, const Layout& layout,
                             const hw::ClusterTopology& topology, const StepOptions& options, CollectiveCache& cache,
                             std::int64_t tokens_per_gpu)
    : shape_(shape),
      layout_(layout),
      topology_(topology),
      options_(options),
      cache_(cache),
      tokens_per_gpu_(tokens_per_gpu) {
  if (!shape.model.moe || shape.plan.ep == 1) return;
  const hw::GroupLayout group{layout_.member_gpus(Group::ep, 0, 0), topology_.gpus_per_node()};
  const RoutingShape routing = routing_shape();
  if (options_.fidelity == Fidelity::symmetric) {
    const int per_rank = balanced_tokens_per_rank(group, routing);
    RoutingSample r;
    r.balanced_per_rank = per_rank;  // routed only if an all-to-all is not in the store
    r.token_scale = static_cast<double>(tokens_per_gpu_) / per_rank;
    r.drawn = fmt::format("balanced {}/{}/{} x{}", routing.experts, routing.top_k, routing.max_nodes, per_rank);
    samples_.push_back(std::move(r));
  } else {
    sample_routing(group, routing);
  }
  simulate_all_to_alls(workload, group, routing);
}

RoutingShape ExpertTraffic::routing_shape() const {
  const auto& moe = shape_.model.moe;
  return {moe ? moe->routed : 0, moe ? moe->per_token : 0, moe ? moe->max_nodes_per_token : 0};
}

// Bytes of one token copy: the op's bytes over the copies that leave a GPU
// under uniform routing (model/ops.h: tokens x top_k x (ep-1)/ep).
double ExpertTraffic::bytes_per_token(Bytes comm_bytes) const {
  const double ep = shape_.plan.ep;
  const double copies = static_cast<double>(tokens_per_gpu_) * routing_shape().top_k * (ep - 1.0) / ep;
  return comm_bytes.value() / copies;
}

void ExpertTraffic::sample_routing(const hw::GroupLayout& group, const RoutingShape& shape) {
  const Variation& v = options_.variation;
  const int k = std::max(1, v.routing_samples);
  const int per_rank = static_cast<int>(std::min<std::int64_t>(v.sample_tokens_per_rank, tokens_per_gpu_));
  samples_.resize(static_cast<std::size_t>(k));
  parallel_for(k, options_.jobs, [&](std::int64_t i) {
    hw::MoeRouting r;
    r.experts = shape.experts;
    r.top_k = shape.top_k;
    r.max_nodes = shape.max_nodes;
    const std::uint64_t seed = splitmix64(options_.seed ^ splitmix64(static_cast<std::uint64_t>(i) + 1));
    r.expert_weights = skewed_expert_weights(shape.experts, v.expert_max_violation, seed);
    r.seed = seed;
    RoutingSample& out = samples_[static_cast<std::size_t>(i)];
    out.tokens = hw::route_tokens(group, r, per_rank);
    out.load = received_load(out.tokens, shape_.plan.ep, shape.experts);
    out.token_scale = static_cast<double>(tokens_per_gpu_) / per_rank;
    out.drawn = fmt::format("sampled {}/{}/{} x{} seed {} violation {:.17g}", shape.experts, shape.top_k,
                            shape.max_nodes, per_rank, seed, v.expert_max_violation);
  });
}

// The dispatch and combine of every routing sample at the byte widths the
// model's ops use, simulated on the flow network (StepOptions::jobs threads).
void ExpertTraffic::simulate_all_to_alls(const model::StepWorkload& workload, const hw::GroupLayout& group,
                                         const RoutingShape& shape) {
  const model::Block* moe = nullptr;
  for (const model::Block& b : workload.blocks) {
    if (b.kind == model::BlockKind::moe_layer) moe = &b;
  }
  if (!moe) return;
  const Bytes dispatch = ep_bytes(*moe, model::Collective::ep_dispatch);
  const Bytes combine = ep_bytes(*moe, model::Collective::ep_combine);
  struct Job {
    int sample;
    bool combine;
    Bytes bytes;
    CollectiveTime time;
  };
  std::vector<Job> jobs;
  for (int i = 0; i < static_cast<int>(samples_.size()); ++i) {
    for (const bool c : {false, true}) jobs.push_back({i, c, c ? combine : dispatch, {}});
  }
  // What a job's all-to-all depends on, given the cluster: the members, how
  // their tokens were drawn, the bytes of a token copy, the direction. Other
  // steps on the same cluster may have simulated it (CollectiveStore).
  const std::string members = group_members(group.ranks);
  std::vector<std::string> exact_keys;
  std::vector<std::int64_t> to_run;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    Job& job = jobs[j];
    const RoutingSample& r = samples_[static_cast<std::size_t>(job.sample)];
    const double per_token = bytes_per_token(job.bytes) * r.token_scale;
    exact_keys.push_back(fmt::format("expert {} {} token {:.17g} members {}", job.combine ? "combine" : "dispatch",
                                     r.drawn, per_token, members));
    if (const auto stored = cache_.stored_time(exact_keys.back())) {
      job.time = *stored;
    } else {
      to_run.push_back(static_cast<std::int64_t>(j));
    }
  }
  if (!to_run.empty()) {
    for (RoutingSample& r : samples_) {
      if (r.balanced_per_rank > 0) r.tokens = balanced_routing(group, shape, r.balanced_per_rank);
    }
  }
  parallel_for(std::ssize(to_run), options_.jobs, [&](std::int64_t k) {
    Job& job = jobs[static_cast<std::size_t>(to_run[static_cast<std::size_t>(k)])];
    const RoutingSample& r = samples_[static_cast<std::size_t>(job.sample)];
    const Bytes per_token(bytes_per_token(job.bytes) * r.token_scale);
    job.time = time_collective(topology_, expert_schedule(group, r.tokens, job.combine, per_token, shape.experts));
  });
  for (const std::int64_t j : to_run) {
    cache_.store_time(exact_keys[static_cast<std::size_t>(j)], jobs[static_cast<std::size_t>(j)].time);
  }
  for (const Job& job : jobs) cache_.put_time(expert_key(job.sample, job.combine, job.bytes), job.time);
}

int ExpertTraffic::sample_of(int rank, int micro_batch, int layer, int ep_group) const {
  if (samples_.size() <= 1) return 0;
  const double u = unit_hash(options_.seed, rank, micro_batch, layer, ep_group);
  return static_cast<int>(u * static_cast<double>(samples_.size()));
}

double ExpertTraffic::load(int rank, int replica, int micro_batch, int layer) const {
  // Balanced routing (symmetric) loads every expert alike.
  if (samples_.empty() || layer < 0 || options_.fidelity == Fidelity::symmetric) return 1.0;
  const int group = layout_.group_index(Group::ep, replica);
  const RoutingSample& r = samples_[static_cast<std::size_t>(sample_of(rank, micro_batch, layer, group))];
  return r.load[static_cast<std::size_t>(layout_.position(Group::ep, replica))];
}

CollectiveUse ExpertTraffic::use(const model::WorkPiece& p, const std::vector<int>& gpus, int sample) {
  const std::string key = expert_key(sample, p.combine_traffic, p.bytes);
  if (!cache_.has_time(key)) throw std::logic_error(fmt::format("step graph: no simulated expert traffic for {}", key));
  CollectiveUse use;
  use.time = cache_.time(key, [] { return hw::Schedule{}; });
  // Link accounting follows the mean traffic of the group (balanced
  // routing) whatever the sample: sampled traffic per concrete group would
  // cost a routing pass per group and sample.
  const hw::GroupLayout group{gpus, topology_.gpus_per_node()};
  const RoutingShape shape = routing_shape();
  const int per_rank = balanced_tokens_per_rank(group, shape);
  use.pattern = cache_.shared_pattern(fmt::format("expert {} {}/{}/{} {}", p.combine_traffic, shape.experts,
                                                  shape.top_k, shape.max_nodes, group_members(gpus)),
                                      [&] {
                                        return expert_schedule(group, balanced_routing(group, shape, per_rank),
                                                               p.combine_traffic, Bytes(1), shape.experts);
                                      });
  use.scale = bytes_per_token(p.bytes) * static_cast<double>(tokens_per_gpu_) / per_rank;
  return use;
}

}  // namespace tcsim::sim
