// Memory per GPU under a parallel plan: weights, gradients and optimizer
// states by precision and ZeRO stage; activations per micro-batch under the
// recompute policy times the micro-batches the schedule keeps in flight.
#pragma once

#include <vector>

#include "core/units.h"
#include "model/spec.h"

namespace tcsim::model {

struct MemoryBudget {
  Bytes weights;           // working copy (precision.weights)
  Bytes gradients;         // precision.grads; sharded under ZeRO-2/3
  Bytes master_weights;    // precision.master_weights; sharded under ZeRO-1+ (0 when equal to the working copy)
  Bytes optimizer_states;  // two AdamW moments; sharded under ZeRO-1+
  Bytes activations;       // activations_per_micro_batch x in_flight
  Bytes activations_per_micro_batch;
  double in_flight = 0;  // micro-batches of activations the schedule holds at its peak
  int parameter_copies = 1;  // DualPipe keeps 2
  int peak_stage = 0;        // the pipeline stage (0-based) with the largest total
  Bytes total;
  Bytes capacity;
  bool fits = false;
};

MemoryBudget memory_per_gpu(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, int seq_len,
                            Bytes capacity);

// Micro-batches whose activations the first pipeline stage holds at the
// schedule's peak (1F1B: pp; interleaved: pp x (1 + (pp-1)/(pp x v)); DualPipe: pp + 1).
double in_flight_micro_batches(const ParallelPlan& plan);

// Layers on each pipeline stage (pp x virtual_stages entries): the plan's
// stage_layers when given, else an even split.
std::vector<int> stage_layer_counts(const ModelSpec& m, const ParallelPlan& plan);

}  // namespace tcsim::model
