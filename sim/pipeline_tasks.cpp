#include "sim/pipeline_tasks.h"

#include <stdexcept>
#include <vector>

namespace tcsim::sim {

using model::Chunk;
using model::ChunkPass;
using model::Pipeline;
using model::Slot;
namespace {

SimTime chunk_time(ChunkPass pass, const ChunkTimes& t) {
  switch (pass) {
    case ChunkPass::forward: return t.forward;
    case ChunkPass::backward: return t.backward_input + t.backward_weight;
    case ChunkPass::backward_input: return t.backward_input;
    case ChunkPass::backward_weight: return t.backward_weight;
  }
  return SimTime();
}

int pass_slot(ChunkPass pass) { return pass == ChunkPass::forward ? 0 : pass == ChunkPass::backward_weight ? 2 : 1; }

}  // namespace

void add_pipeline_tasks(Engine& engine, const Pipeline& p, const ChunkTimes& times) {
  // The task of (micro-batch, stage, forward / backward / weight), and the
  // task after which its output is sent on: the chunk itself, or the end of
  // its slot when it shares one (DualPipe sends both outputs of an
  // overlapped pair after the pair, dualpipe.py _forward_backward_chunk).
  std::vector<TaskId> task(static_cast<std::size_t>(p.micro_batches * p.stages * 3), kNoTask);
  std::vector<TaskId> sent(task.size(), kNoTask);
  const auto index = [&](int mb, int stage, int pass) {
    return static_cast<std::size_t>((mb * p.stages + stage) * 3 + pass);
  };
  const auto at = [&](int mb, int stage, int pass) -> TaskId& { return task[index(mb, stage, pass)]; };
  const auto output = [&](int mb, int stage, int pass) { return sent[index(mb, stage, pass)]; };
  for (int rank = 0; rank < p.ranks; ++rank) {
    TaskId window = kNoTask;
    std::int32_t priority = 0;
    for (const Slot& slot : p.programs[static_cast<std::size_t>(rank)]) {
      const TaskId next = engine.add_task({.activity = Activity::marker});
      for (int c = 0; c < slot.count; ++c) {
        const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        const bool backward_first = slot.count == 2 && ch.pass != ChunkPass::forward;
        const TaskId t = engine.add_task({.activity = Activity::compute,
                                          .gpu = rank,
                                          .priority = priority + (slot.count == 2 && !backward_first ? 1 : 0),
                                          .time = chunk_time(ch.pass, times),
                                          .time_shared = chunk_time(ch.pass, times)});
        if (window != kNoTask) engine.add_dependency(window, t);
        engine.add_dependency(t, next);
        at(ch.micro_batch, ch.stage, pass_slot(ch.pass)) = t;
        sent[index(ch.micro_batch, ch.stage, pass_slot(ch.pass))] = slot.count == 2 ? next : t;
      }
      priority += 2;
      window = next;
    }
  }
  for (int mb = 0; mb < p.micro_batches; ++mb) {
    for (int s = 0; s < p.stages; ++s) {
      if (at(mb, s, 0) == kNoTask || at(mb, s, 1) == kNoTask) throw std::logic_error("pipeline: a chunk is missing");
      if (s > 0) engine.add_dependency(output(mb, s - 1, 0), at(mb, s, 0));
      if (s + 1 < p.stages) engine.add_dependency(output(mb, s + 1, 1), at(mb, s, 1));
      engine.add_dependency(at(mb, s, 0), at(mb, s, 1));
      if (at(mb, s, 2) != kNoTask) engine.add_dependency(at(mb, s, 1), at(mb, s, 2));
    }
  }
}

}  // namespace tcsim::sim
