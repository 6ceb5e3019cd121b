#include "sim/data_parallel.h"

#include <algorithm>
#include <array>
#include <tuple>

#include <fmt/format.h>

#include "core/sim_time.h"

namespace tcsim::sim {
namespace {

int pass_index(model::ChunkPass p) {
  switch (p) {
    case model::ChunkPass::forward: return 0;
    case model::ChunkPass::backward:
    case model::ChunkPass::backward_input: return 1;
    case model::ChunkPass::backward_weight: return 2;
  }
  return 0;
}

SimTime scaled(Seconds t, double factor) { return to_sim_time(t * factor); }

}  // namespace

DataParallel::DataParallel(StepWriter& writer, const Layout& layout, CollectiveCache& cache,
                           const model::ParallelPlan& plan, const model::PrecisionSpec& precision,
                           const model::StepWorkload& workload,
                           std::vector<std::vector<model::BlockWeights>> stage_weights, const model::Pipeline& pipeline,
                           const hw::CalibrationProfile& profile, const std::vector<double>& gpu_factor)
    : w_(writer),
      layout_(layout),
      cache_(cache),
      plan_(plan),
      precision_(precision),
      workload_(workload),
      weights_(std::move(stage_weights)),
      pipeline_(pipeline),
      profile_(profile),
      gpu_factor_(gpu_factor) {}

std::string DataParallel::block_name(int stage, int b) const {
  const int block = workload_.stages[static_cast<std::size_t>(stage)].blocks[static_cast<std::size_t>(b)];
  return model::block_name(workload_.blocks[static_cast<std::size_t>(block)]);
}

// ZeRO-1/2/3 reduce-scatter gradients (Megatron-LM's distributed optimizer;
// ZeRO §5), ZeRO-0 all-reduces them; non-expert weights over the dp x cp
// ranks of a stage, routed experts over their expert-data-parallel group
// (model/placement.h). One bucket per block, issued when the block's last
// weight gradient of the step is done, as Megatron's bucketed overlap does.
void DataParallel::reduce_gradients(int rank, int q, int stage, const ChunkRecord& rec, ReplicaState& st,
                                    TaskId not_before) {
  const std::vector<model::BlockWeights>& blocks = weights_[static_cast<std::size_t>(stage)];
  const double grad_bytes = model::dtype_bytes(precision_.grads);
  for (int b = static_cast<int>(blocks.size()) - 1; b >= 0; --b) {
    const TaskId after = rec.weight_of_block.empty() ? rec.output : rec.weight_of_block[static_cast<std::size_t>(b)];
    const std::string what = fmt::format("grads {}", block_name(stage, b));
    for (const auto& [g, bytes] : parts(blocks[static_cast<std::size_t>(b)], grad_bytes)) {
      const TaskId t = collective(rank, q, stage, g, gradient_op(), bytes, g == Group::dp ? what : what + " (experts)",
                                  after, st, b);
      if (t != kNoTask && not_before != kNoTask) w_.depend(not_before, t);
    }
  }
}

hw::CollectiveOp DataParallel::gradient_op() const {
  return plan_.zero >= 1 ? hw::CollectiveOp::reduce_scatter : hw::CollectiveOp::all_reduce;
}

std::array<std::pair<Group, Bytes>, 2> DataParallel::parts(const model::BlockWeights& p, double bytes_per_weight) {
  return {{{Group::dp, Bytes(p.dense * bytes_per_weight)}, {Group::expert_dp, Bytes(p.routed * bytes_per_weight)}}};
}

std::array<std::pair<Group, Bytes>, 2> DataParallel::stage_parts(int stage, double bytes_per_weight) const {
  model::BlockWeights sum;
  for (const model::BlockWeights& p : weights_[static_cast<std::size_t>(stage)]) sum += p;
  return parts(sum, bytes_per_weight);
}

TaskId DataParallel::collective(int rank, int q, int stage, Group g, hw::CollectiveOp op, Bytes bytes,
                                const std::string& what, TaskId after, ReplicaState& st, int bucket) {
  if (bytes.value() <= 0 || layout_.size(g) == 1) return kNoTask;
  const int group_index = layout_.group_index(g, q);
  const CollectiveUse use = ring_use(op, g, rank, group_index, bytes);
  const std::uint32_t t_tag =
      tag(fmt::format("{} {}", op == hw::CollectiveOp::all_gather ? "all-gather" : "reduce", what), stage);
  const std::uint64_t key = (std::uint64_t{1} << 63U) ^ (static_cast<std::uint64_t>(op) << 59U) ^
                            (static_cast<std::uint64_t>(g) << 56U) ^ (static_cast<std::uint64_t>(stage) << 40U) ^
                            (static_cast<std::uint64_t>(bucket) << 24U) ^ static_cast<std::uint64_t>(group_index);
  const TaskId t = w_.collective_task(use, StepWriter::Lane::data_parallel, rank, g, group_index, t_tag, key);
  if (after != kNoTask) w_.depend(after, t);
  w_.depend_once(st.dp_lane, t);
  st.dp_lane = t;
  return t;
}

CollectiveUse DataParallel::ring_use(hw::CollectiveOp op, Group g, int rank, int group_index, Bytes bytes) {
  const auto key = std::make_tuple(static_cast<int>(op), static_cast<int>(g), rank, group_index, bytes.value());
  const auto it = ring_uses_.find(key);
  if (it != ring_uses_.end()) return it->second;
  const CollectiveUse use = cache_.ring(op, layout_.member_gpus(g, rank, group_index), bytes);
  ring_uses_.emplace(key, use);
  return use;
}

std::uint32_t DataParallel::tag(const std::string& name, int stage) {
  const auto key = std::make_pair(name, stage);
  const auto it = tags_.find(key);
  if (it != tags_.end()) return it->second;
  const std::uint32_t t =
      w_.add_label({.kind = TaskKind::dp_comm, .stage = static_cast<std::int16_t>(stage), .name = w_.intern(name)});
  tags_.emplace(key, t);
  return t;
}

// ZeRO-3 (ZeRO §5.3): a stage's weights are gathered before each forward
// and backward chunk that needs them, one slot ahead (prefetch).
void DataParallel::gather_weights(int rank, int q, const model::Chunk& ch, TaskId entry, ReplicaState& st) {
  const std::string what = fmt::format("weights stage {}", ch.stage);
  const int bucket = 1000 + ch.micro_batch * 4 + pass_index(ch.pass);
  for (const auto& [g, bytes] : stage_parts(ch.stage, model::dtype_bytes(precision_.weights))) {
    const TaskId t =
        collective(rank, q, ch.stage, g, hw::CollectiveOp::all_gather, bytes, what, st.previous_window, st, bucket);
    if (t != kNoTask) w_.depend(t, entry);
  }
}

// AdamW over the GPU's shard (Loshchilov & Hutter 2019), one fused
// memory-bound pass: read and write the master weights and both moments,
// read the gradient, write the working weights. Without a separate master
// copy the working weights are read and written instead.
Bytes DataParallel::optimizer_bytes(int rank) const {
  const model::PrecisionSpec& prec = precision_;
  const bool separate_master = prec.master_weights != prec.weights;
  const double per_weight = 2.0 * model::dtype_bytes(separate_master ? prec.master_weights : prec.weights) +
                            2.0 * 2.0 * model::dtype_bytes(prec.optimizer_states) + model::dtype_bytes(prec.grads) +
                            (separate_master ? model::dtype_bytes(prec.weights) : 0.0);
  return Bytes(shard_weights(rank) * per_weight);
}

// The weights whose optimizer state one GPU of `rank` keeps: its share under ZeRO.
double DataParallel::shard_weights(int rank) const {
  const model::DataParallelDegrees degrees = model::data_parallel_degrees(plan_);
  const double dense_shard = plan_.zero >= 1 ? degrees.dense : 1.0;
  const double routed_shard = plan_.zero >= 1 ? degrees.routed : 1.0;
  double weights = 0;
  for (const int stage : stages_of_rank(rank)) {
    for (const model::BlockWeights& p : weights_[static_cast<std::size_t>(stage)]) {
      weights += p.dense / dense_shard + p.routed / routed_shard;
    }
  }
  return weights;
}

std::vector<int> DataParallel::stages_of_rank(int rank) const {
  std::vector<int> out;
  for (int st = 0; st < pipeline_.stages; ++st) {
    for (int mb : {0, pipeline_.micro_batches - 1}) {
      if (pipeline_.rank_of(mb, st) == rank && std::find(out.begin(), out.end(), st) == out.end()) out.push_back(st);
    }
  }
  return out;
}

void DataParallel::finish_step(int rank, int q, std::int32_t priority, ReplicaState& st) {
  if (optimizer_tag_ == 0) {
    optimizer_tag_ = w_.add_label({.kind = TaskKind::optimizer, .name = w_.intern("optimizer (AdamW)")});
    norm_tag_ = w_.add_label({.kind = TaskKind::optimizer, .name = w_.intern("gradient norm")});
  }
  const double f = gpu_factor_[static_cast<std::size_t>(w_.engine_gpu(rank, q))];
  const Seconds t = norm_seconds(rank);
  const TaskId norm = w_.add({.activity = Activity::compute,
                              .gpu = w_.engine_gpu(rank, q),
                              .priority = priority,
                              .tag = norm_tag_,
                              .time = scaled(t, f),
                              .time_shared = scaled(t, f)});
  if (st.window != kNoTask) w_.depend(st.window, norm);
  if (st.dp_lane != kNoTask) w_.depend(st.dp_lane, norm);
  pending_.push_back({rank, q, priority + 1, st, norm});
}

void DataParallel::finish_steps() {
  // The gradient norm: one FP32 sum over every GPU of the cluster, NCCL's
  // double binary tree (a latency-bound 4 bytes), in full mode over every
  // simulated GPU, in symmetric mode standing for all of them.
  TaskId norm_sum = kNoTask;
  const int gpus = layout_.pipeline_ranks() * layout_.replicas();
  if (gpus > 1 && !pending_.empty()) {
    hw::GroupLayout world;
    for (int g = 0; g < gpus; ++g) world.ranks.push_back(g);
    world.gpus_per_node = layout_.gpus_per_node();
    constexpr Bytes kNormBytes(4);  // one FP32 (Megatron-Core get_grad_norm_fp32)
    // The 4-byte sum and the unit pattern are one chunk each: the same transfers, routed once.
    const std::string routes_key = fmt::format("grad-norm tree {}", gpus);
    const SimTime time = cache_.shared_time(
        routes_key, routes_key, [&] { return hw::tree_all_reduce(world, kNormBytes, hw::kNcclSliceBytes); },
        routes_key);
    const int pattern = cache_.shared_pattern(
        fmt::format("grad-norm tree {} unit", gpus),
        [&] { return hw::tree_all_reduce(world, Bytes(1), hw::kNcclSliceBytes); }, routes_key);
    std::vector<int> engine_gpus;
    for (const Pending& p : pending_) engine_gpus.push_back(w_.engine_gpu(p.rank, p.q));
    const std::uint32_t tag = w_.add_label({.kind = TaskKind::dp_comm, .name = w_.intern("all-reduce gradient norm")});
    norm_sum = w_.add({.activity = Activity::delay,
                       .gpu = engine_gpus.front(),
                       .tag = tag,
                       .time = time,
                       .gpu_group = w_.engine().add_gpu_group(engine_gpus),
                       .holds_comm_sms = true},
                      w_.traffic_use(pattern, kNormBytes.value()));
    for (const Pending& p : pending_) w_.depend(p.norm, norm_sum);
  }
  for (Pending& p : pending_) {
    const Seconds t = optimizer_seconds(p.rank);
    const double f = gpu_factor_[static_cast<std::size_t>(w_.engine_gpu(p.rank, p.q))];
    const TaskId opt = w_.add({.activity = Activity::compute,
                               .gpu = w_.engine_gpu(p.rank, p.q),
                               .priority = p.priority,
                               .tag = optimizer_tag_,
                               .time = scaled(t, f),
                               .time_shared = scaled(t, f)});
    w_.depend(p.norm, opt);
    if (norm_sum != kNoTask) w_.depend(norm_sum, opt);
    if (plan_.zero < 1 || plan_.zero >= 3 || plan_.overlap_param_gather) continue;
    // ZeRO-1/2: every GPU gathers the updated weights of the others' shards.
    p.state.dp_lane = opt;
    for (const int stage : stages_of_rank(p.rank)) gather_stage(p.rank, p.q, stage, opt, kNoTask, p.state);
  }
  pending_.clear();
}

void DataParallel::gather_updated_weights(int rank, int q, int stage, TaskId entry, ReplicaState& st) {
  gather_stage(rank, q, stage, kNoTask, entry, st);
}

// Block by block in the lane, each after `after` and before `before` (when given).
void DataParallel::gather_stage(int rank, int q, int stage, TaskId after, TaskId before, ReplicaState& st) {
  const double weight_bytes = model::dtype_bytes(precision_.weights);
  const std::vector<model::BlockWeights>& blocks = weights_[static_cast<std::size_t>(stage)];
  for (int b = 0; b < static_cast<int>(blocks.size()); ++b) {
    const std::string what = fmt::format("weights {}", block_name(stage, b));
    for (const auto& [g, bytes] : parts(blocks[static_cast<std::size_t>(b)], weight_bytes)) {
      const TaskId t = collective(rank, q, stage, g, hw::CollectiveOp::all_gather, bytes,
                                  g == Group::dp ? what : what + " (experts)", after, st, b);
      if (t != kNoTask && before != kNoTask) w_.depend(t, before);
    }
  }
}

SimTime DataParallel::chunk_gather_time(int rank, int stage) {
  SimTime t;
  for (const auto& [g, bytes] : stage_parts(stage, model::dtype_bytes(precision_.weights))) {
    t = t + floor_of(hw::CollectiveOp::all_gather, g, rank, bytes);
  }
  return t;
}

SimTime DataParallel::blocks_time(int rank, int stage, hw::CollectiveOp op, double bytes_per_weight) {
  SimTime t;
  for (const model::BlockWeights& p : weights_[static_cast<std::size_t>(stage)]) {
    for (const auto& [g, bytes] : parts(p, bytes_per_weight)) t = t + floor_of(op, g, rank, bytes);
  }
  return t;
}

SimTime DataParallel::stage_gather_time(int rank, int stage) {
  return blocks_time(rank, stage, hw::CollectiveOp::all_gather, model::dtype_bytes(precision_.weights));
}

SimTime DataParallel::reduction_time(int rank, int stage) {
  return blocks_time(rank, stage, gradient_op(), model::dtype_bytes(precision_.grads));
}

Seconds DataParallel::norm_seconds(int rank) const {
  return Bytes(shard_weights(rank) * model::dtype_bytes(precision_.grads)) / profile_.hbm.value;
}

Seconds DataParallel::optimizer_seconds(int rank) const { return optimizer_bytes(rank) / profile_.hbm.value; }

SimTime DataParallel::norm_time(int rank) const { return to_sim_time(norm_seconds(rank)); }

SimTime DataParallel::optimizer_time(int rank) const { return to_sim_time(optimizer_seconds(rank)); }

// A collective as collective() would add it on replica 0, its time alone (0 when it adds none).
SimTime DataParallel::floor_of(hw::CollectiveOp op, Group g, int rank, Bytes bytes) {
  if (bytes.value() <= 0 || layout_.size(g) == 1) return SimTime();
  return ring_use(op, g, rank, layout_.group_index(g, 0), bytes).time;
}

}  // namespace tcsim::sim
