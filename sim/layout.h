// Where the ranks of a parallel plan sit on the cluster's GPUs, and which GPUs
// form each communication group. Megatron-LM's default order (tp fastest, then
// cp, then dp, pp slowest): GPU = tp_rank + tp (cp_rank + cp (dp_rank + dp
// pp_rank)). Expert parallelism is carved out of the tp x cp x dp GPUs of a
// stage (Megatron-Core's expert layout): replica r of a stage is expert-TP
// rank r mod etp, EP rank (r / etp) mod ep and expert-data-parallel rank
// r / (etp ep); with etp = tp an EP group is ep consecutive dp x cp ranks of
// one tp rank, with etp = 1 it runs across the tp ranks. Ranks with the same
// expert-TP and EP rank form the expert data-parallel group.
#pragma once

#include <vector>

#include "model/spec.h"

namespace tcsim::sim {

enum class Group { tp, cp, ep, dp, expert_dp };

class Layout {
 public:
  // The plan must pass scenarios/rules.h: expert_tp x ep divides tp x dp x
  // cp and the plan fills `gpus` GPUs; throws std::invalid_argument otherwise.
  Layout(const model::ParallelPlan& plan, int gpus, int gpus_per_node);

  int replicas() const { return tp_ * cp_ * dp_; }  // GPUs per pipeline rank
  int pipeline_ranks() const { return pp_; }
  int gpus_per_node() const { return gpus_per_node_; }
  int gpu(int pipeline_rank, int replica) const { return pipeline_rank * replicas() + replica; }
  int pipeline_rank_of(int gpu) const { return gpu / replicas(); }

  int size(Group g) const;
  // Which group of its kind `replica` is in (0-based within its pipeline
  // rank) and its position in that group.
  int group_index(Group g, int replica) const;
  int position(Group g, int replica) const;
  int groups(Group g) const { return replicas() / size(g); }
  // The replicas of a group, in the order the collective uses them.
  std::vector<int> members(Group g, int group_index) const;
  std::vector<int> member_gpus(Group g, int pipeline_rank, int group_index) const;

 private:
  struct Coordinates {
    int tp = 0;
    int cp = 0;
    int dp = 0;
  };
  Coordinates coordinates(int replica) const;
  int replica(Coordinates c) const { return c.tp + tp_ * (c.cp + cp_ * c.dp); }

  int tp_, cp_, dp_, pp_, ep_, etp_;
  int gpus_per_node_;
};

}  // namespace tcsim::sim
