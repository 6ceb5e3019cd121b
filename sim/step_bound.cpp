#include "sim/step_bound.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "model/schedule.h"
#include "model/workload.h"
#include "sim/piece_work.h"
#include "sim/step_graph.h"

namespace tcsim::sim {
namespace {

// The longest chain of pieces up to a forward chunk's output, each at
// `ticks`: pieces depend on earlier ones only (a later dependency leaves the
// chain at zero: still a bound).
std::int64_t forward_chain(const model::ChunkWork& chunk, std::span<const std::int64_t> ticks) {
  std::vector<std::int64_t> done(chunk.pieces.size(), 0);
  for (std::size_t i = 0; i < chunk.pieces.size(); ++i) {
    std::int64_t start = 0;
    for (const int d : chunk.pieces[i].deps) {
      if (d < 0 || static_cast<std::size_t>(d) >= i) return 0;
      start = std::max(start, done[static_cast<std::size_t>(d)]);
    }
    done[i] = start + ticks[i];
  }
  return chunk.output >= 0 ? done[static_cast<std::size_t>(chunk.output)] : 0;
}

// What a slot's window (sim/step_graph.h: its chunks start when the previous
// slot's compute has ended; it ends when its own compute has) and its
// collectives take at least, from the slot's start, in ticks.
struct SlotFloor {
  std::int64_t window = 0;       // with the communication lane free at the start
  std::int64_t lane = -1;        // when its last collective ends, so (-1: it has none)
  std::int64_t after_first = 0;  // from its first collective's start to the end of compute that waits for it
  std::int64_t lane_span = 0;    // from its first collective's start to its last one's end
};

// Each piece's earliest start is the longest chain of pieces before it,
// collectives at their time alone in the order of the one lane (an
// overlapped pair's pieces interleaved, the backward chunk's first, as the
// step graph keys them). The one stream then runs every compute piece that
// cannot start before t after t, one at a time: the window lasts at least t
// plus their work, for every t (t = 0: the slot's compute back to back; the
// last piece's start: the longest chain). The same chains from the first
// collective's start give what the window and the lane take when the lane is
// still busy with earlier slots' collectives.
SlotFloor slot_floor(const StepFloors& f, int rank, const model::Slot& slot) {
  std::array<const model::ChunkWork*, 2> chunk{};
  std::array<const std::vector<std::int64_t>*, 2> ticks{};
  std::array<std::vector<std::int64_t>, 2> done, from;  // ends: from the slot's start, from the first collective's
  std::size_t width = 0;
  for (int c = 0; c < slot.count; ++c) {
    const model::Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
    // The pair's backward chunk first (offset 0 in the step graph's keys).
    const std::size_t at = slot.count == 2 && ch.pass == model::ChunkPass::forward ? 1 : 0;
    chunk[at] = &f.workload.chunk(ch.stage, ch.pass);
    ticks[at] = &f.ranks[static_cast<std::size_t>(rank)]
                     .pieces[static_cast<std::size_t>(ch.stage)][static_cast<std::size_t>(ch.pass)];
    done[at].assign(chunk[at]->pieces.size(), 0);
    from[at].assign(chunk[at]->pieces.size(), -1);  // -1: not after the first collective
    width = std::max(width, chunk[at]->pieces.size());
  }
  SlotFloor out;
  std::int64_t lane = 0, lane_from = -1;
  std::vector<std::pair<std::int64_t, std::int64_t>> released;  // (earliest start, work) of each compute piece
  for (std::size_t i = 0; i < width; ++i) {
    for (std::size_t c = 0; c < 2; ++c) {
      if (chunk[c] == nullptr || i >= chunk[c]->pieces.size()) continue;
      const model::WorkPiece& p = chunk[c]->pieces[i];
      std::int64_t start = 0, start_from = -1;
      for (const int d : p.deps) {
        // A later piece's finish is not known yet: leaving the edge out only lowers the bound.
        if (d < 0 || static_cast<std::size_t>(d) >= i) continue;
        start = std::max(start, done[c][static_cast<std::size_t>(d)]);
        start_from = std::max(start_from, from[c][static_cast<std::size_t>(d)]);
      }
      const std::int64_t t = (*ticks[c])[i];
      if (p.kind == model::PieceKind::comm) {
        start = std::max(start, lane);
        lane = start + t;
        start_from = std::max(start_from, std::max<std::int64_t>(lane_from, 0));
        lane_from = start_from + t;
      } else if (!p.empty()) {
        released.emplace_back(start, t);
        if (start_from >= 0) out.after_first = std::max(out.after_first, start_from + t);
      }
      done[c][i] = start + t;
      from[c][i] = start_from >= 0 ? start_from + t : -1;
    }
  }
  std::sort(released.begin(), released.end(), std::greater<>());
  std::int64_t after = 0;
  for (const auto& [start, work] : released) {
    after += work;
    out.window = std::max(out.window, start + after);
  }
  if (lane_from >= 0) {
    out.lane = lane;
    out.lane_span = lane_from;
  }
  return out;
}

}  // namespace

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
  const model::Pipeline pipeline =
      model::make_pipeline(plan.schedule, plan.pp, plan.virtual_stages, micro_batches, model::combines_steps(plan));
  // Only the passes the programs run are timed.
  const std::vector<std::array<bool, 4>> used = pipeline.passes_run();
  std::vector<std::int64_t> reach(workload.stages.size() + 1, 0);
  for (std::size_t st = 0; st < workload.stages.size(); ++st) {
    for (std::size_t c = 0; c < workload.stages[st].chunks.size(); ++c) {
      const bool forward = c == static_cast<std::size_t>(model::ChunkPass::forward);
      if (!used[st][c] && !forward) continue;
      const model::ChunkWork& chunk = workload.stages[st].chunks[c];
      std::vector<std::int64_t> piece(chunk.pieces.size(), 0);
      std::int64_t ticks = 0;
      for (std::size_t i = 0; i < chunk.pieces.size(); ++i) {
        const model::WorkPiece& p = chunk.pieces[i];
        if (p.kind == model::PieceKind::comm || p.empty()) continue;
        piece[i] = least_time(piece_work(workload, p, profile, sms, shared_sms)).count();
        ticks += piece[i];
      }
      chunk_ticks[st][c] = ticks;
      if (forward) reach[st + 1] = reach[st] + forward_chain(chunk, piece);
    }
  }
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

SimTime step_bound(const StepShape& shape, const hw::ClusterTopology& topology, CollectiveStore* store) {
  const StepFloors f = step_floors(shape, topology, store);
  const model::ParallelPlan& plan = shape.plan;
  const auto stages = f.workload.stages.size();
  constexpr auto kForward = static_cast<std::size_t>(model::ChunkPass::forward);
  // The first micro-batch's forward crosses the stages before a rank's first
  // stage, each on the rank that runs it (the pipeline sends between them
  // only add to it).
  std::vector<std::int64_t> reach(stages + 1, 0);
  for (std::size_t st = 0; st < stages; ++st) {
    const RankFloors& r = f.ranks[static_cast<std::size_t>(f.pipeline.rank_of(0, static_cast<int>(st)))];
    reach[st + 1] = reach[st] + forward_chain(f.workload.chunk(static_cast<int>(st), model::ChunkPass::forward),
                                              r.pieces[st][kForward]);
  }
  const auto has_weights = [](model::ChunkPass p) {
    return p == model::ChunkPass::backward || p == model::ChunkPass::backward_weight;
  };
  // Each rank's windows in turn (sim/step_graph.h), the model's collectives
  // on their lane from slot to slot, and the data-parallel lane beside them
  // (sim/data_parallel.h): ZeRO-3's gathers of a slot's weights after the
  // window two slots back, ZeRO-1/2's gathers of updated weights before a
  // stage's first forward under overlap_param_gather, the gradient buckets
  // after their stage's last weight gradients, all one after another. Each
  // rank's gradient norm waits for its last window and that lane.
  std::int64_t norms = 0;      // when the last rank's norm can end: the norm all-reduce waits for it
  std::int64_t after_sum = 0;  // the most any rank's optimizer and gathers take after that
  for (int rank = 0; rank < static_cast<int>(f.pipeline.programs.size()); ++rank) {
    const RankFloors& r = f.ranks[static_cast<std::size_t>(rank)];
    const std::vector<model::Slot>& program = f.pipeline.programs[static_cast<std::size_t>(rank)];
    std::vector<int> last_weights(stages, -1);
    std::vector<char> runs(stages, 0);
    std::int64_t first = -1;
    for (int k = 0; k < static_cast<int>(program.size()); ++k) {
      const model::Slot& slot = program[static_cast<std::size_t>(k)];
      for (int c = 0; c < slot.count; ++c) {
        const model::Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        const auto st = static_cast<std::size_t>(ch.stage);
        runs[st] = 1;
        if (has_weights(ch.pass)) last_weights[st] = k;
        first = first < 0 ? reach[st] : std::min(first, reach[st]);
      }
    }
    std::int64_t window = std::max<std::int64_t>(first, 0), two_back = 0, dp_lane = 0, model_lane = 0;
    std::vector<char> gathered(stages, 0);
    std::int64_t deferred = 0;
    std::map<std::array<int, 5>, SlotFloor> floors;
    for (int k = 0; k < static_cast<int>(program.size()); ++k) {
      const model::Slot& slot = program[static_cast<std::size_t>(k)];
      std::int64_t entry = -1;  // the earliest a chunk of the slot may start
      for (int c = 0; c < slot.count; ++c) {
        const model::Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        const auto st = static_cast<std::size_t>(ch.stage);
        std::int64_t at = 0;
        if (plan.zero >= 3 && ch.pass != model::ChunkPass::backward_weight) {
          dp_lane = std::max(dp_lane, k >= 2 ? two_back : 0) + r.chunk_gather[st];
          at = dp_lane;
        }
        if (plan.overlap_param_gather && ch.pass == model::ChunkPass::forward && !gathered[st]) {
          gathered[st] = 1;
          dp_lane += r.updated_gather[st];
          at = dp_lane;
        }
        entry = entry < 0 ? at : std::min(entry, at);
      }
      const std::int64_t start = std::max(window, entry);
      two_back = window;
      // Slots of the same chunks (stage and pass) last the same: most of a program is a few kinds.
      std::array<int, 5> kind{slot.count, -1, -1, -1, -1};
      for (int c = 0; c < slot.count; ++c) {
        kind[static_cast<std::size_t>(1 + 2 * c)] = slot.chunks[static_cast<std::size_t>(c)].stage;
        kind[static_cast<std::size_t>(2 + 2 * c)] = static_cast<int>(slot.chunks[static_cast<std::size_t>(c)].pass);
      }
      auto [it, fresh] = floors.try_emplace(kind);
      if (fresh) it->second = slot_floor(f, rank, slot);
      const SlotFloor& sf = it->second;
      // The model's collectives of earlier slots may still hold their lane.
      const std::int64_t busy = std::max<std::int64_t>(0, model_lane - start);
      window = start + std::max(sf.window, busy + sf.after_first);
      if (sf.lane >= 0) model_lane = start + std::max(sf.lane, busy + sf.lane_span);
      for (int c = 0; c < slot.count; ++c) {
        const model::Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        const auto st = static_cast<std::size_t>(ch.stage);
        if (!has_weights(ch.pass) || last_weights[st] != k) continue;
        if (plan.overlap_grad_reduce) {
          dp_lane = std::max(dp_lane, start) + r.reduction[st];  // each bucket after its block's weight gradients
        } else {
          deferred += r.reduction[st];
        }
      }
    }
    if (deferred > 0) dp_lane = std::max(dp_lane, window) + deferred;
    norms = std::max(norms, std::max(window, dp_lane) + r.norm);
    std::int64_t after = r.optimizer;
    if ((plan.zero == 1 || plan.zero == 2) && !plan.overlap_param_gather) {
      for (std::size_t st = 0; st < stages; ++st) {
        if (runs[st]) after += r.updated_gather[st];
      }
    }
    after_sum = std::max(after_sum, after);
  }
  return SimTime::ns(norms + after_sum);
}

}  // namespace tcsim::sim
