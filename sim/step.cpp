#include "sim/step.h"

#include <algorithm>
#include <utility>

#include "hardware/builders.h"
#include "model/ops.h"
#include "sim/accounting.h"

namespace tcsim::sim {
namespace {

Seconds ns_to_seconds(std::int64_t ns) { return to_seconds(SimTime::ns(ns)); }

int critical_gpu(const std::vector<GpuTime>& gpus) {
  int best = 0;
  for (int g = 1; g < static_cast<int>(gpus.size()); ++g) {
    if (gpus[static_cast<std::size_t>(g)].busy() > gpus[static_cast<std::size_t>(best)].busy()) best = g;
  }
  return best;
}

StepBreakdown breakdown_of(const GpuTime& g) {
  return {.forward = ns_to_seconds(g.compute[0]),
          .backward_input = ns_to_seconds(g.compute[1]),
          .backward_weight = ns_to_seconds(g.compute[2]),
          .bubble = ns_to_seconds(g.bubble),
          .exposed_comm = ns_to_seconds(g.exposed_comm),
          .optimizer = ns_to_seconds(g.compute[3])};
}

}  // namespace

StepSimulation::StepSimulation(StepShape shape, const StepOptions& options, hw::TopologyCache* distances,
                               CollectiveStore* collectives)
    : shape_(std::move(shape)),
      options_(options),
      topology_(std::make_unique<hw::ClusterTopology>(hw::build_topology(shape_.cluster, distances))),
      graph_(build_step_graph(shape_, *topology_, options_, collectives)) {}

StepSimulation::~StepSimulation() = default;

void StepSimulation::add_observer(Observer& observer) { graph_.engine->add_observer(observer); }

StepResult StepSimulation::run() {
  StepAccounting accounting(graph_, topology_->links().size());
  graph_.engine->add_observer(accounting);
  const SimTime end = graph_.engine->run();
  accounting.finish(end);

  StepResult r;
  r.fidelity = options_.fidelity;
  r.seed = options_.seed;
  r.time = to_seconds(end);
  r.tokens = graph_.tokens;
  r.gpus = topology_->gpu_count();
  r.micro_batches = graph_.micro_batches;
  r.tokens_per_second_per_gpu = static_cast<double>(r.tokens) / r.time.value() / r.gpus;
  const int seq_len = shape_.seq_len;
  const double tokens_per_gpu = static_cast<double>(r.tokens) / r.gpus;
  r.flops_per_gpu =
      model::train_flops_per_token(shape_.model, seq_len, model::AttentionFlops::causal) * tokens_per_gpu / r.time;
  r.flops_per_gpu_full_attention =
      model::train_flops_per_token(shape_.model, seq_len, model::AttentionFlops::full) * tokens_per_gpu / r.time;
  const FlopsPerSecond peak = shape_.cluster.gpu.bf16_dense;
  r.mfu_bf16 = r.flops_per_gpu / peak;
  r.mfu_bf16_full_attention = r.flops_per_gpu_full_attention / peak;
  r.gpu_hours_per_trillion_tokens = 1e12 / (r.tokens_per_second_per_gpu * kSecondsPerHour);

  const std::vector<GpuTime>& gpus = accounting.gpus();
  const int critical = critical_gpu(gpus);
  r.critical_gpu = graph_.gpu_ids[static_cast<std::size_t>(critical)];
  r.critical_pipeline_rank = graph_.pipeline_rank[static_cast<std::size_t>(critical)];
  r.breakdown = breakdown_of(gpus[static_cast<std::size_t>(critical)]);
  for (std::size_t g = 0; g < gpus.size(); ++g) {
    const Seconds busy = ns_to_seconds(gpus[g].busy());
    r.gpu_use.push_back(
        {graph_.gpu_ids[g], graph_.pipeline_rank[g], busy, ns_to_seconds(gpus[g].comm_active), busy / r.time});
  }
  const std::vector<double>& bytes = accounting.link_bytes();
  for (std::size_t l = 0; l < bytes.size(); ++l) {
    if (bytes[l] <= 0) continue;
    const hw::Link& link = topology_->link(static_cast<hw::LinkId>(l));
    r.link_use.push_back({static_cast<hw::LinkId>(l), Bytes(bytes[l]), bytes[l] / (link.bandwidth * r.time).value()});
  }
  std::stable_sort(r.link_use.begin(), r.link_use.end(),
                   [](const LinkUse& a, const LinkUse& b) { return a.utilisation > b.utilisation; });
  r.simulated_gpus = static_cast<int>(gpus.size());
  r.tasks = graph_.engine->task_count();
  r.dependencies = graph_.engine->dependency_count();
  r.events = graph_.engine->events();
  r.collective_runs = graph_.collective_runs;
  r.collective_flows = graph_.collective_flows;
  return r;
}

StepResult simulate_step(const StepShape& shape, const StepOptions& options, hw::TopologyCache* distances,
                         CollectiveStore* collectives) {
  StepSimulation sim(shape, options, distances, collectives);
  return sim.run();
}

StepResult simulate_step(const scenario::Scenario& s, const StepOptions& options) {
  return simulate_step(step_shape(s), options);
}

}  // namespace tcsim::sim
