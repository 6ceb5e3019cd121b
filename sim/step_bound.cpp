#include "sim/step_bound.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "model/schedule.h"
#include "model/workload.h"
#include "sim/piece_work.h"

namespace tcsim::sim {

SimTime compute_bound(const StepShape& shape) {
  if (!shape.cluster.profile) {
    throw ConfigError(fmt::format("hardware.calibration: the step needs a calibration profile for GPU \"{}\"",
                                  shape.cluster.gpu.name));
  }
  const hw::CalibrationProfile& profile = *shape.cluster.profile;
  const model::ParallelPlan& plan = shape.plan;
  const int sms = profile.sms;
  const int shared_sms = plan.comm_sms > 0 ? sms - plan.comm_sms : sms;
  const std::int64_t per_step = std::int64_t{plan.dp} * plan.micro_batch;
  const auto micro_batches = static_cast<int>(shape.batch / per_step);
  const model::StepWorkload workload =
      model::build_workload(shape.model, plan, shape.precision, {plan.micro_batch, shape.seq_len});
  // Each chunk's compute, stage by stage and pass by pass, in ticks as the
  // step graph rounds each task (symmetric: every GPU at speed 1, every
  // expert load 1).
  std::vector<std::array<std::int64_t, 4>> chunk_ticks(workload.stages.size());
  // Before any chunk of stage s can start, micro-batch's forward has crossed
  // stages 0..s-1 (sim/step_graph.h: a stage's forward waits for the previous
  // stage's output, its backward for its own forward): `reach[s]` adds, stage
  // by stage, the longest chain of compute pieces up to each forward chunk's
  // output.
  std::vector<std::int64_t> reach(workload.stages.size() + 1, 0);
  for (std::size_t st = 0; st < workload.stages.size(); ++st) {
    for (std::size_t c = 0; c < workload.stages[st].chunks.size(); ++c) {
      const model::ChunkWork& chunk = workload.stages[st].chunks[c];
      std::vector<std::int64_t> piece(chunk.pieces.size(), 0);
      std::int64_t ticks = 0;
      for (std::size_t i = 0; i < chunk.pieces.size(); ++i) {
        const model::WorkPiece& p = chunk.pieces[i];
        if (p.kind == model::PieceKind::comm || p.empty()) continue;
        const PieceWork w = piece_work(workload, p, profile, sms, shared_sms);
        piece[i] =
            std::min(to_sim_time(w.full + w.expert_full).count(), to_sim_time(w.shared + w.expert_shared).count());
        ticks += piece[i];
      }
      chunk_ticks[st][c] = ticks;
      if (c != static_cast<std::size_t>(model::ChunkPass::forward)) continue;
      // Longest path to the output piece; pieces depend on earlier ones only
      // (a later dependency leaves the chain at zero: still a bound).
      std::vector<std::int64_t> done(chunk.pieces.size(), 0);
      bool ordered = true;
      for (std::size_t i = 0; i < chunk.pieces.size(); ++i) {
        std::int64_t start = 0;
        for (const int d : chunk.pieces[i].deps) {
          if (d < 0 || static_cast<std::size_t>(d) >= i) {
            ordered = false;
            continue;
          }
          start = std::max(start, done[static_cast<std::size_t>(d)]);
        }
        done[i] = start + piece[i];
      }
      const std::int64_t chain = ordered && chunk.output >= 0 ? done[static_cast<std::size_t>(chunk.output)] : 0;
      reach[st + 1] = reach[st] + chain;
    }
  }
  const model::Pipeline pipeline =
      model::make_pipeline(plan.schedule, plan.pp, plan.virtual_stages, micro_batches, model::combines_steps(plan));
  std::int64_t busiest = 0;
  for (const std::vector<model::Slot>& program : pipeline.programs) {
    std::int64_t ticks = 0;
    std::int64_t first = -1;  // the earliest any of the rank's chunks can start
    for (const model::Slot& slot : program) {
      for (int c = 0; c < slot.count; ++c) {
        const model::Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        ticks += chunk_ticks[static_cast<std::size_t>(ch.stage)][static_cast<std::size_t>(ch.pass)];
        const std::int64_t at = reach[static_cast<std::size_t>(ch.stage)];
        first = first < 0 ? at : std::min(first, at);
      }
    }
    busiest = std::max(busiest, std::max<std::int64_t>(first, 0) + ticks);
  }
  return SimTime::ns(busiest);
}

}  // namespace tcsim::sim
