// The work of one training step as plain data, before any GPU, rate or
// clock: every block's ops (FLOPs and bytes per pass, ops.h), the blocks each
// pipeline stage holds, and for each stage and kind of chunk (forward, whole
// backward, input-gradient backward, weight-gradient backward) the pieces a
// chunk is cut into, with their dependencies:
//   compute pieces  the ops that run back to back between two collectives
//                   (each op in a pass, with its forward again when the plan
//                   recomputes it);
//   comm pieces     one collective (TP, CP, EP dispatch or combine) with its
//                   bytes per GPU;
//   side pieces     compute beside the main line (the shared expert beside
//                   the dispatch, when the schedule overlaps them), joining
//                   it after the next collective.
// The step simulation (sim/step_graph.h) times each piece on a GPU,
// instantiates the chunks in the schedule's order (model/schedule.h) for
// every micro-batch and places them on the cluster.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "model/ops.h"
#include "model/schedule.h"
#include "model/spec.h"

namespace tcsim::model {

// One op in one pass: where it is (block, op index) and whether its forward
// runs again first (recompute in backward).
struct OpUse {
  int block = 0;
  int op = 0;
  Pass pass = Pass::forward;
  bool with_forward = false;
};

enum class PieceKind : std::uint8_t { compute, comm, side };

struct WorkPiece {
  PieceKind kind = PieceKind::compute;
  Pass pass = Pass::forward;  // compute and side: the pass the work belongs to
  // compute: time adds op by op, each use with its recomputed forward;
  // side: use by use (a recomputed forward is a use of its own).
  std::vector<OpUse> ops;
  Collective collective = Collective::none;  // comm
  bool combine_traffic = false;              // EP: results back to the tokens' GPUs (combine), else tokens to experts
  Bytes bytes;                               // comm: the op's comm_bytes (backward EP: see workload.cpp)
  std::vector<int> deps;                     // pieces of the same chunk it waits for; none: the chunk's entry
  int layer = -1;                            // the layer whose routing it follows (EP pieces, expert work)
  int first_layer = -1;                      // main-model layer range of the blocks it covers
  int last_layer = -1;
  std::string name;

  // No work: a join of other pieces.
  bool empty() const { return kind != PieceKind::comm && ops.empty(); }
};

struct ChunkWork {
  std::vector<WorkPiece> pieces;
  int output = -1;                   // piece after which the chunk's output is ready
  std::vector<int> weight_of_block;  // the weight-gradient piece of each block of the stage (-1: none)
};

struct StageWork {
  std::vector<int> blocks;  // indices into StepWorkload::blocks, in model order
  // By ChunkPass: forward, backward (input gradients with each block's weight
  // gradients beside), backward_input, backward_weight.
  std::array<ChunkWork, 4> chunks;
};

struct StepWorkload {
  MicroBatch micro_batch;
  std::vector<Block> blocks;  // embedding, layers, MTP modules, head
  std::vector<StageWork> stages;

  const Op& op(const OpUse& u) const {
    return blocks[static_cast<std::size_t>(u.block)].ops[static_cast<std::size_t>(u.op)];
  }
  const ChunkWork& chunk(int stage, ChunkPass pass) const {
    return stages[static_cast<std::size_t>(stage)].chunks[static_cast<std::size_t>(pass)];
  }
};

// "embedding", "layer3", "mtp61", "head": a block in task and trace names.
std::string block_name(const Block& b);

// An op's work in a pass is zero: no FLOPs (GEMMs, attention) or no bytes
// (memory ops). Such ops take no time and are left out of compute pieces.
bool has_work(const Op& op, Pass pass);

// The step's work for one micro-batch of `micro_batch` on the plan's stages
// (stage_layer_counts), the first stage with the embedding, the last with
// the MTP modules and the head. The plan must pass scenarios/rules.h.
StepWorkload build_workload(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec,
                            MicroBatch micro_batch);

}  // namespace tcsim::model
