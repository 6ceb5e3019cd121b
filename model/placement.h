// Where a step's weights sit, in one place: the weights one GPU holds of each
// block of the model after tensor- and expert-parallel sharding, split into
// the part replicated over the data-parallel ranks of a stage (dense) and the
// routed experts, replicated over the expert data-parallel group; the degrees
// of those two groups; and the second copy of the vocabulary table a last
// stage may keep. The memory budget (memory.h), and the data-parallel
// gradient buckets and optimizer step of the step simulation (sim/), all read
// it, so they count the same weights.
#pragma once

#include <vector>

#include "model/spec.h"

namespace tcsim::model {

// Weights (elements, fractional only if experts did not divide over ep).
struct BlockWeights {
  double dense = 0;   // replicated over the dp x cp ranks of a stage
  double routed = 0;  // routed experts, replicated over the expert data-parallel group

  BlockWeights& operator+=(const BlockWeights& o) {
    dense += o.dense;
    routed += o.routed;
    return *this;
  }
};

// One entry per block of build_model_blocks (ops.h): the embedding (the
// vocabulary table, vocab-parallel over tp, and a learned position table);
// each layer and MTP module (norms replicated over tp, projections split as
// layer_shapes.h records, routed/ep experts each split over tp); the head
// (the final norm, and the output table unless tied to the embedding).
std::vector<BlockWeights> block_weights(const ModelSpec& m, const ParallelPlan& plan);

// The second vocabulary table a rank holding the last stage keeps when the
// head is tied to the embedding or MTP modules look tokens up through it,
// unless the rank also holds the first stage (DualPipe: the MTP shares the
// embedding and head "on the same PP rank", V3-TR §3.2.3); Megatron-LM keeps
// such a copy on the last stage. `held`: the stages of the rank. 0 when none.
double table_copy_weights(const ModelSpec& m, const ParallelPlan& plan, const std::vector<int>& held);

// The data-parallel degree each kind of weight is replicated over and its
// gradients reduced across: dp x cp for dense weights, dp x cp / ep for
// routed experts (the expert data-parallel group, sim/layout.h).
struct DataParallelDegrees {
  double dense = 1;
  double routed = 1;
};
DataParallelDegrees data_parallel_degrees(const ParallelPlan& plan);

}  // namespace tcsim::model
