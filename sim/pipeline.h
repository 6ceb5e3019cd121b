// Pipeline schedules: the order in which each pipeline rank runs the forward
// and backward chunks of the micro-batches of one step.
//
// A chunk is one pass of one micro-batch through one stage (a run of
// consecutive layers). Stages are numbered in the order a micro-batch crosses
// them, 0 .. stages-1; a stage lives on one rank (rank_of). Backward is either
// one chunk (backward: input and weight gradients together) or split in two
// (backward_input, then backward_weight later: zero-bubble and DualPipe).
// A slot is what a rank runs next: one chunk, or two overlapped chunks
// (DualPipe's forward of one micro-batch with the backward of another,
// V3-TR §3.2.1 Fig. 4), which the rank may interleave freely.
//
// Sources, each schedule's generator cites its own:
//   1F1B: PipeDream-Flush, Narayanan et al. 2021 arXiv:2104.04473 §2.2.1;
//   interleaved 1F1B: same paper §2.2.2 and Megatron-LM's
//     forward_backward_pipelining_with_interleaving;
//   ZB-H1: Qi et al. 2023 arXiv:2401.10241 §3.1 (sail-sg/zero-bubble-pipeline-
//     parallelism, ZeroBubbleH1Pipeline with exact semantics);
//   DualPipe: V3-TR arXiv:2412.19437 §3.2.1 and deepseek-ai/DualPipe
//     dualpipe.py DualPipe.step, steps 1-8.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "model/spec.h"

namespace tcsim::sim {

enum class ChunkPass : std::uint8_t { forward, backward, backward_input, backward_weight };

struct Chunk {
  ChunkPass pass = ChunkPass::forward;
  int micro_batch = 0;
  int stage = 0;
};

struct Slot {
  std::array<Chunk, 2> chunks{};
  int count = 1;  // 2: the two chunks overlap
};

struct Pipeline {
  model::Schedule schedule = model::Schedule::one_f_one_b;
  int ranks = 1;
  int stages = 1;  // ranks x virtual stages
  int micro_batches = 1;
  std::vector<std::vector<Slot>> programs;  // per rank, in order

  // The rank that holds `stage` for `micro_batch`. DualPipe: micro-batches
  // 0 .. n/2-1 enter at rank 0, the others at rank ranks-1 and cross the
  // stages in reverse rank order (each rank holds stages r and ranks-1-r).
  int rank_of(int micro_batch, int stage) const;
};

// Throws ConfigError when the schedule cannot run this shape: interleaved
// needs micro_batches % pp == 0 (Megatron's rule) when virtual_stages > 1;
// DualPipe needs an even pp and an even micro-batch count of at least 2 pp.
Pipeline make_pipeline(model::Schedule schedule, int pp, int virtual_stages, int micro_batches);

std::string to_string(ChunkPass pass);

}  // namespace tcsim::sim
