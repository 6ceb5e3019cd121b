// What the parts of the step builder (step_graph.cpp, data_parallel.h) hand
// each other while they write one step's tasks.
#pragma once

#include <vector>

#include "sim/engine.h"

namespace tcsim::sim {

// Everything one pipeline-rank replica carries from slot to slot.
struct ReplicaState {
  TaskId window = kNoTask;  // the marker the next slot's chunks start from
  TaskId previous_window = kNoTask;
  TaskId model_lane = kNoTask;  // the last TP/CP/EP collective: they run in program order
  TaskId dp_lane = kNoTask;     // the last data-parallel collective
  std::vector<int> gathered;    // stages whose updated weights are gathered (overlap_param_gather)
};

// The tasks of one chunk instance that others connect to.
struct ChunkRecord {
  TaskId entry = kNoTask;
  TaskId output = kNoTask;
  std::vector<TaskId> weight_of_block;  // each block's weight-gradient task (kNoTask: none)
};

}  // namespace tcsim::sim
