// Memory per GPU under a parallel plan: weights, gradients and optimizer
// states by precision and ZeRO stage; activations per micro-batch under the
// recompute policy times the micro-batches the schedule keeps in flight.
// Placement: the embedding sits on the first pipeline stage; the final norm,
// head and MTP modules on the last (V3-TR §3.2.3). Non-expert weights are
// split by tp, routed experts by ep x tp. ZeRO shards over the data-parallel
// degree of each weight: dp x cp for non-expert weights, dp x tp x cp /
// (ep x tp) = dp x cp / ep for routed experts (expert tensor parallel = tp).
// Outside the tensors: a runtime reserve (CUDA context, GEMM workspaces,
// communication buffers) and the share of the caching allocator's memory
// lost to fragmentation (MemoryAllowance). Derivations and sources:
// docs/model.md ("Memory").
#pragma once

#include <string>
#include <vector>

#include "core/units.h"
#include "model/spec.h"

namespace tcsim::model {

// What a training process holds besides its tensors.
struct MemoryAllowance {
  // The CUDA context (about 400 MB with lazy module loading, CUDA >= 11.7:
  // PyTorch issue #109888, NVIDIA's reply), cuBLAS workspaces (32 MiB per
  // handle and stream on Hopper, PyTorch CublasHandlePool.cpp; two streams)
  // and one NCCL communicator's buffers after an all-reduce (about 1.6 GB
  // measured, NVIDIA/nccl issue #864; communicators split with shared
  // resources add little, per the same thread). Communication libraries with
  // buffers of their own (DeepEP) are added by the scenario that uses them.
  Bytes runtime_reserve = gigabytes(0.4) + mib(2 * 32) + gigabytes(1.6);
  // Share of the caching allocator's reserved memory that live tensors cannot
  // use. [assumption] 0: training repeats the same tensor shapes every
  // micro-batch, so freed blocks are reused whole. GMLake (arXiv:2401.08156)
  // measures 15% on average, up to 33%, for workloads with recompute,
  // offload and LoRA on A100-80GB; `tcsim run` prints how much a plan
  // tolerates.
  double fragmentation = 0;
  std::string source = "default: CUDA context, cuBLAS workspaces, one NCCL communicator (docs/model.md)";
};

struct MemoryBudget {
  Bytes weights;           // working copy (precision.weights)
  Bytes gradients;         // precision.grads; sharded under ZeRO-2/3
  Bytes master_weights;    // precision.master_weights; sharded under ZeRO-1+ (0 when equal to the working copy)
  Bytes optimizer_states;  // two AdamW moments; sharded under ZeRO-1+
  Bytes activations;       // activations_per_micro_batch x in_flight
  Bytes activations_per_micro_batch;  // DualPipe: averaged over the in-flight micro-batches of its two stages
  double in_flight = 0;               // micro-batches of activations the schedule holds at its peak
  int parameter_copies = 1;           // DualPipe keeps 2: rank i holds stages i and pp-1-i
  int peak_stage = 0;     // the pipeline rank (0-based) with the largest total; every field above is that rank's
  Bytes tensors;          // weights + gradients + master + optimizer + activations
  Bytes fragmentation;    // tensors x f / (1 - f): the allocator's reserve the tensors cannot use
  Bytes runtime_reserve;  // MemoryAllowance::runtime_reserve
  Bytes total;            // tensors + fragmentation + runtime_reserve
  Bytes capacity;
  bool fits = false;
  std::vector<Bytes> rank_totals;  // every pipeline rank's total, rank 0 first
  // The largest fragmentation the peak rank tolerates and still fits: the
  // share of (capacity - runtime reserve) the tensors leave free; negative
  // when it does not fit even without fragmentation.
  double fragmentation_headroom = 0;
};

MemoryBudget memory_per_gpu(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, int seq_len,
                            Bytes capacity, const MemoryAllowance& allowance = {});

// Micro-batches whose activations the first pipeline stage holds at the
// schedule's peak (1F1B: pp; interleaved: pp x (1 + (pp-1)/(pp x v)); DualPipe: pp + 1).
double in_flight_micro_batches(const ParallelPlan& plan);

// The same for pipeline rank `rank` (0-based), in units of one micro-batch's
// activations of everything the rank holds. 1F1B and ZB-H1: pp - rank;
// interleaved (v > 1; v = 1 is plain 1F1B): Megatron-LM's warm-up count, (pp (v+1) - 2 rank - 1) / v;
// DualPipe: pp + 1 micro-batches of one of its two stages on every rank
// (pp - half_rank of the stage near its pipeline's start, half_rank + 1 of the
// far one, half_rank = min(rank, pp-1-rank)).
double in_flight_micro_batches(const ParallelPlan& plan, int rank);

// Layers on each pipeline stage (pp x virtual_stages entries): the plan's
// stage_layers when given, else an even split.
std::vector<int> stage_layer_counts(const ModelSpec& m, const ParallelPlan& plan);

}  // namespace tcsim::model
