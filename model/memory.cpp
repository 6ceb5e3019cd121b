// Per-GPU memory: where each weight lives, how ZeRO shards its training
// state, and how many micro-batches of activations each pipeline rank holds.
// Conventions and sources: memory.h and docs/model.md ("Memory").
#include "model/memory.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <numeric>
#include <optional>

#include "model/layer_shapes.h"
#include "model/ops.h"
#include "model/placement.h"
#include "model/schedule.h"

namespace tcsim::model {
namespace {

struct Stage {
  int first_layer = 0;
  int layers = 0;
  bool first = false;  // holds the embedding
  bool last = false;   // holds the final norm, the head and the MTP modules
};

std::vector<Stage> stages_of(const ModelSpec& m, const ParallelPlan& plan) {
  const std::vector<int> counts = stage_layer_counts(m, plan);
  std::vector<Stage> stages;
  int next = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    stages.push_back({.first_layer = next, .layers = counts[i], .first = i == 0, .last = i + 1 == counts.size()});
    next += counts[i];
  }
  return stages;
}

// Stage indices one pipeline rank holds (the schedule's: Megatron
// interleaving holds chunks rank, rank + pp, ...; DualPipe adds each chunk's
// mirror, V3-TR §3.2.1, Table 2: two parameter copies).
std::vector<int> rank_stages(const ParallelPlan& plan, int rank) {
  return pipeline_schedule(plan.schedule).stages_of_rank(plan.pp, plan.virtual_stages, rank);
}

// A stage's weights on one GPU (model/placement.h): its blocks, and the
// second vocabulary table a last stage keeps when its rank does not hold the
// first stage (Megatron-LM all-reduces the two tables' gradients).
BlockWeights stage_weights(const ModelSpec& m, const ParallelPlan& plan, const std::vector<BlockWeights>& blocks,
                           const Stage& s, const std::vector<int>& held) {
  BlockWeights p;
  if (s.first) p += blocks.front();
  for (int l = s.first_layer; l < s.first_layer + s.layers; ++l) p += blocks[static_cast<std::size_t>(l + 1)];
  if (!s.last) return p;
  for (int d = 0; d < m.mtp_depth; ++d) p += blocks[static_cast<std::size_t>(m.layers + d + 1)];
  p += blocks.back();
  p.dense += table_copy_weights(m, plan, held);
  return p;
}

Bytes kept_bytes(const Block& b) {
  Bytes s = b.input_saved;
  for (const Op& op : b.ops) {
    if (!op.recomputed) s += op.saved;
  }
  return s;
}

// Activation bytes one micro-batch leaves on a stage until its backward.
// `layer_bytes`: the bytes of a dense and of a MoE layer once known (a
// layer's ops depend on its kind, not on its index: model/ops.h).
Bytes stage_activations(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, const Stage& s,
                        MicroBatch mb, std::array<std::optional<Bytes>, 2>& layer_bytes) {
  auto block = [&](BlockKind kind, int layer) { return kept_bytes(build_block(m, plan, prec, kind, layer, mb)); };
  Bytes total;
  if (s.first) total += block(BlockKind::embedding, -1);
  for (int l = s.first_layer; l < s.first_layer + s.layers; ++l) {
    const bool moe = is_moe_layer(m, l);
    std::optional<Bytes>& known = layer_bytes[moe ? 1 : 0];
    if (!known) known = block(moe ? BlockKind::moe_layer : BlockKind::dense_layer, l);
    total += *known;
  }
  if (s.last) {
    for (int d = 0; d < m.mtp_depth; ++d) total += block(BlockKind::mtp, m.layers + d);
    total += block(BlockKind::head, -1);
  }
  return total;
}

// ZeRO (Rajbhandari et al. 2020, arXiv:1910.02054 §5): stage 1 shards the
// optimizer states (and the FP32 master copy, part of them in mixed precision,
// Micikevicius et al. 2018), stage 2 also the gradients, stage 3 also the
// weights, each over the weight's data-parallel degree `dp`. AdamW keeps two
// moments per weight (Loshchilov & Hutter 2019). The master copy is counted
// only when its dtype differs from the working copy's.
void add_training_state(MemoryBudget& b, double params, double dp, const PrecisionSpec& prec, int zero) {
  const auto shard = [&](int from_stage) { return zero >= from_stage ? dp : 1.0; };
  b.weights += Bytes(params * dtype_bytes(prec.weights) / shard(3));
  b.gradients += Bytes(params * dtype_bytes(prec.grads) / shard(2));
  if (prec.master_weights != prec.weights) {
    b.master_weights += Bytes(params * dtype_bytes(prec.master_weights) / shard(1));
  }
  constexpr double kAdamMoments = 2.0;
  b.optimizer_states += Bytes(params * kAdamMoments * dtype_bytes(prec.optimizer_states) / shard(1));
}

// Combined 1F1B's one more warm-up forward (model/schedule.h): one more
// chunk in flight, 1/v of the rank's layers (Megatron-Core's MoE docs note
// the extra activation memory).
double combined_extra_in_flight(const ParallelPlan& plan) {
  return combines_steps(plan) ? 1.0 / plan.virtual_stages : 0.0;
}

// Activation bytes pipeline rank `rank` holds at its peak, from one
// micro-batch's bytes per stage and the schedule's holdings (model/schedule.h).
Bytes rank_activations(const ParallelPlan& plan, const std::vector<Bytes>& stage_act, int rank) {
  Bytes total;
  for (const ActivationHolding& h :
       pipeline_schedule(plan.schedule).activation_holdings(plan.pp, plan.virtual_stages, rank)) {
    Bytes per_micro_batch;
    for (int s : h.stages) per_micro_batch += stage_act[s];
    total += per_micro_batch * (h.micro_batches + combined_extra_in_flight(plan));
  }
  return total;
}

MemoryBudget rank_budget(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec,
                         const std::vector<Stage>& stages, const std::vector<BlockWeights>& blocks,
                         const std::vector<Bytes>& stage_act, const MemoryAllowance& allowance, int rank) {
  const std::vector<int> held = rank_stages(plan, rank);
  BlockWeights params;
  for (int s : held) params += stage_weights(m, plan, blocks, stages[s], held);
  MemoryBudget b;
  const DataParallelDegrees dp = data_parallel_degrees(plan);
  add_training_state(b, params.dense, dp.dense, prec, plan.zero);
  add_training_state(b, params.routed, dp.routed, prec, plan.zero);
  b.parameter_copies = pipeline_schedule(plan.schedule).parameter_copies();
  b.in_flight = in_flight_micro_batches(plan, rank);
  b.activations = rank_activations(plan, stage_act, rank);
  b.activations_per_micro_batch = b.activations / b.in_flight;
  b.tensors = b.weights + b.gradients + b.master_weights + b.optimizer_states + b.activations;
  b.fragmentation = b.tensors * (allowance.fragmentation / (1 - allowance.fragmentation));
  b.runtime_reserve = allowance.runtime_reserve;
  b.total = b.tensors + b.fragmentation + b.runtime_reserve;
  b.peak_stage = rank;
  return b;
}

}  // namespace

std::vector<int> stage_layer_counts(const ModelSpec& m, const ParallelPlan& plan) {
  const int stages = plan.pp * plan.virtual_stages;
  if (!plan.stage_layers.empty()) {
    assert(static_cast<int>(plan.stage_layers.size()) == stages);
    assert(std::accumulate(plan.stage_layers.begin(), plan.stage_layers.end(), 0) == m.layers);
    return plan.stage_layers;
  }
  assert(m.layers % stages == 0);  // the scenario loader rejects uneven splits
  return std::vector<int>(static_cast<std::size_t>(stages), m.layers / stages);
}

double in_flight_micro_batches(const ParallelPlan& plan) { return in_flight_micro_batches(plan, 0); }

// The schedule's peak in micro-batches (model/schedule.h: each leaf file
// gives its source).
double in_flight_micro_batches(const ParallelPlan& plan, int rank) {
  return pipeline_schedule(plan.schedule).in_flight(plan.pp, plan.virtual_stages, rank) +
         combined_extra_in_flight(plan);
}

MemoryBudget memory_per_gpu(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, int seq_len,
                            Bytes capacity, const MemoryAllowance& allowance) {
  assert(allowance.fragmentation >= 0 && allowance.fragmentation < 1);
  const std::vector<Stage> stages = stages_of(m, plan);
  const MicroBatch mb{.sequences = plan.micro_batch, .seq_len = seq_len};
  std::vector<Bytes> stage_act;
  std::array<std::optional<Bytes>, 2> layer_bytes;
  for (const Stage& s : stages) stage_act.push_back(stage_activations(m, plan, prec, s, mb, layer_bytes));
  const std::vector<BlockWeights> blocks = block_weights(m, plan);
  MemoryBudget peak;
  std::vector<Bytes> totals;
  for (int rank = 0; rank < plan.pp; ++rank) {
    MemoryBudget b = rank_budget(m, plan, prec, stages, blocks, stage_act, allowance, rank);
    totals.push_back(b.total);
    if (rank == 0 || b.total > peak.total) peak = std::move(b);
  }
  peak.rank_totals = std::move(totals);
  peak.capacity = capacity;
  peak.fits = peak.total <= capacity;
  const Bytes room = capacity - peak.runtime_reserve;
  peak.fragmentation_headroom = room.value() > 0 ? 1 - peak.tensors.value() / room.value() : -1;
  return peak;
}

}  // namespace tcsim::model
