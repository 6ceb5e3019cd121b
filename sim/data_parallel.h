// Data parallelism in the step: gradient reduction in buckets as each
// block's last weight gradient of the step is done, ZeRO-3's weight gathers
// one slot ahead of each chunk, the optimizer step over each GPU's shard, and
// ZeRO-1/2's gather of the updated weights. The weights come from
// model/placement.h, as the memory budget's do. Rules and sources:
// docs/simulation.md ("Data parallelism").
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "hardware/profile.h"
#include "model/placement.h"
#include "model/schedule.h"
#include "model/workload.h"
#include "sim/collective_cache.h"
#include "sim/layout.h"
#include "sim/step_state.h"
#include "sim/step_writer.h"

namespace tcsim::sim {

class DataParallel {
 public:
  // `stage_weights[s][b]`: the weights one GPU holds of block b of stage s.
  DataParallel(StepWriter& writer, const Layout& layout, CollectiveCache& cache, const model::ParallelPlan& plan,
               const model::PrecisionSpec& precision, const model::StepWorkload& workload,
               std::vector<std::vector<model::BlockWeights>> stage_weights, const model::Pipeline& pipeline,
               const hw::CalibrationProfile& profile, const std::vector<double>& gpu_factor);

  // The gradients of `stage`'s blocks, bucket by bucket from the last block,
  // after `chunk`'s weight gradients (the stage's last on this rank) and
  // after `not_before` when given (the rank's last slot, without overlap).
  void reduce_gradients(int rank, int q, int stage, const ChunkRecord& chunk, ReplicaState& st,
                        TaskId not_before = kNoTask);

  // ZeRO-3: the stage's weights gathered before `chunk` (entry task `entry`).
  void gather_weights(int rank, int q, const model::Chunk& chunk, TaskId entry, ReplicaState& st);

  // ZeRO-1/2 with overlap_param_gather: the stage's updated weights gathered
  // at the step's start, beside the forward, before its first forward chunk
  // on this rank (entry task `entry`).
  void gather_updated_weights(int rank, int q, int stage, TaskId entry, ReplicaState& st);

  // The end of the step on one GPU, after the rank's last slot: the squared
  // norm of its gradient shard (a read of the shard at the HBM rate). The
  // rest waits for every GPU's norm: finish_steps().
  void finish_step(int rank, int q, std::int32_t priority, ReplicaState& st);
  // Once every GPU has its norm: one all-reduce of the gradient norm over all
  // GPUs (Megatron-Core clip_grads: every GPU holds a different shard of the
  // gradients), then each GPU's optimizer step and ZeRO-1/2's gathers (unless
  // overlap_param_gather moves them to the next step's forward).
  void finish_steps();

  // Least times for a bound without running the step (sim/step_bound.h): on
  // the groups of the rank's first replica, each collective at its time
  // alone, back to back as the lane runs them, every GPU at speed 1.
  // ZeRO-3's gathers before a forward or backward chunk of `stage`:
  SimTime chunk_gather_time(int rank, int stage);
  // the gather of `stage`'s updated weights, block by block (ZeRO-1/2):
  SimTime stage_gather_time(int rank, int stage);
  // the reduction of `stage`'s gradients, bucket by bucket:
  SimTime reduction_time(int rank, int stage);
  // the read of the gradient shard for its norm, after the rank's last slot,
  // and the optimizer step (both compute).
  SimTime norm_time(int rank) const;
  SimTime optimizer_time(int rank) const;

 private:
  TaskId collective(int rank, int q, int stage, Group g, hw::CollectiveOp op, Bytes bytes, const std::string& what,
                    TaskId after, ReplicaState& st, int bucket);
  void gather_stage(int rank, int q, int stage, TaskId after, TaskId before, ReplicaState& st);
  CollectiveUse ring_use(hw::CollectiveOp op, Group g, int rank, int group_index, Bytes bytes);
  SimTime floor_of(hw::CollectiveOp op, Group g, int rank, Bytes bytes);
  // Every block's collectives of `stage`, back to back, at their time alone.
  SimTime blocks_time(int rank, int stage, hw::CollectiveOp op, double bytes_per_weight);
  // Gradients: reduce-scatter under ZeRO-1/2/3, all-reduce under ZeRO-0.
  hw::CollectiveOp gradient_op() const;
  // A block's collectives: its dense weights over dp, its routed experts'
  // over expert_dp, at `bytes_per_weight`; a stage's, its blocks summed.
  static std::array<std::pair<Group, Bytes>, 2> parts(const model::BlockWeights& p, double bytes_per_weight);
  std::array<std::pair<Group, Bytes>, 2> stage_parts(int stage, double bytes_per_weight) const;
  Seconds norm_seconds(int rank) const;       // the gradient shard read once at the HBM rate
  Seconds optimizer_seconds(int rank) const;  // AdamW's pass over the shard at the HBM rate
  std::uint32_t tag(const std::string& name, int stage);
  Bytes optimizer_bytes(int rank) const;
  double shard_weights(int rank) const;
  struct Pending {
    int rank = 0;
    int q = 0;
    std::int32_t priority = 0;
    ReplicaState state;
    TaskId norm = kNoTask;
  };
  std::vector<int> stages_of_rank(int rank) const;
  std::string block_name(int stage, int b) const;

  StepWriter& w_;
  const Layout& layout_;
  CollectiveCache& cache_;
  const model::ParallelPlan& plan_;
  const model::PrecisionSpec& precision_;
  const model::StepWorkload& workload_;
  std::vector<std::vector<model::BlockWeights>> weights_;
  const model::Pipeline& pipeline_;
  const hw::CalibrationProfile& profile_;
  const std::vector<double>& gpu_factor_;
  std::uint32_t optimizer_tag_ = 0;
  std::uint32_t norm_tag_ = 0;
  std::vector<Pending> pending_;
  std::map<std::pair<std::string, int>, std::uint32_t> tags_;
  std::map<std::tuple<int, int, int, int, double>, CollectiveUse> ring_uses_;
};

}  // namespace tcsim::sim
