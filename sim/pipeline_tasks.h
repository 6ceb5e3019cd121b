// A pipeline schedule as engine tasks with one compute task per chunk and no
// communication: the dependency rules of the step graph (step_graph.h) on
// their own. A slot is a window: its chunks start once the previous slot's
// chunks have all ended, and inside it the rank runs whichever is ready
// (backward first); an overlapped pair sends its outputs when both chunks are
// done. A micro-batch's forward on stage s waits for stage s-1,
// its backward for stage s+1's backward and its own forward, the deferred
// weight gradient for its input gradient. Used by the schedule tests (bubble
// formulas) and the engine benchmark.
#pragma once

#include "model/schedule.h"
#include "sim/engine.h"

namespace tcsim::sim {

struct ChunkTimes {
  SimTime forward;
  SimTime backward_input;
  SimTime backward_weight;  // a backward chunk that is not split takes input + weight
};

// Adds the tasks to `engine`, rank r on engine GPU r.
void add_pipeline_tasks(Engine& engine, const model::Pipeline& pipeline, const ChunkTimes& times);

}  // namespace tcsim::sim
