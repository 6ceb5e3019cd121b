#include "model/schedule.h"

#include <stdexcept>

#include <fmt/format.h>

namespace tcsim::model {

// Defined by the leaf files in schedules/, one each.
const PipelineSchedule& one_f_one_b_schedule();
const PipelineSchedule& interleaved_1f1b_schedule();
const PipelineSchedule& zero_bubble_schedule();
const PipelineSchedule& dualpipe_schedule();

const PipelineSchedule& pipeline_schedule(Schedule s) {
  switch (s) {
    case Schedule::one_f_one_b: return one_f_one_b_schedule();
    case Schedule::interleaved_1f1b: return interleaved_1f1b_schedule();
    case Schedule::zero_bubble: return zero_bubble_schedule();
    case Schedule::dualpipe: return dualpipe_schedule();
  }
  throw std::invalid_argument("pipeline_schedule: not a schedule");
}

std::vector<Schedule> all_schedules() {
  return {Schedule::one_f_one_b, Schedule::interleaved_1f1b, Schedule::zero_bubble, Schedule::dualpipe};
}

std::optional<ShapeBreak> PipelineSchedule::shape_rule(int /*pp*/, int v) const {
  if (v != 1)
    return ShapeBreak{"virtual_stages", fmt::format("virtual_stages = {} needs schedule: interleaved-1f1b", v)};
  return std::nullopt;
}

std::optional<std::string> PipelineSchedule::micro_batch_rule(const PipelineShape& /*shape*/) const {
  return std::nullopt;
}

std::vector<std::vector<Slot>> PipelineSchedule::programs(const PipelineShape& shape) const {
  std::vector<std::vector<Slot>> out;
  for (int r = 0; r < shape.pp; ++r) out.push_back(program(shape, r));
  return out;
}

// 1F1B's peak (Narayanan et al. 2021 §2.2.1): rank r holds its pp - r - 1
// warm-up forwards and one more.
double PipelineSchedule::in_flight(int pp, int /*v*/, int rank) const { return pp - rank; }

int PipelineSchedule::micro_batch_granule(int /*pp*/, int /*v*/) const { return 1; }

int PipelineSchedule::rank_of(const PipelineShape& shape, int /*micro_batch*/, int stage) const {
  return stage % shape.pp;
}

// Megatron's interleaving: rank r holds chunks r, r + pp, ...
std::vector<int> PipelineSchedule::stages_of_rank(int pp, int virtual_stages, int rank) const {
  std::vector<int> held;
  for (int c = 0; c < virtual_stages; ++c) held.push_back(rank + c * pp);
  return held;
}

std::vector<ActivationHolding> PipelineSchedule::activation_holdings(int pp, int virtual_stages, int rank) const {
  return {{stages_of_rank(pp, virtual_stages, rank), in_flight(pp, virtual_stages, rank)}};
}

int Pipeline::rank_of(int micro_batch, int stage) const {
  return pipeline_schedule(schedule).rank_of({ranks, stages / ranks, micro_batches}, micro_batch, stage);
}

std::vector<std::array<bool, 4>> Pipeline::passes_run() const {
  std::vector<std::array<bool, 4>> run(static_cast<std::size_t>(stages), std::array<bool, 4>{});
  for (const std::vector<Slot>& program : programs) {
    for (const Slot& slot : program) {
      for (int c = 0; c < slot.count; ++c) {
        const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        run[static_cast<std::size_t>(ch.stage)][static_cast<std::size_t>(ch.pass)] = true;
      }
    }
  }
  return run;
}

std::vector<Slot> combine_steady_pairs(const std::vector<Slot>& program) {
  const auto single = [](const Slot& s, ChunkPass pass) { return s.count == 1 && s.chunks[0].pass == pass; };
  std::vector<Slot> out;
  for (std::size_t i = 0; i < program.size(); ++i) {
    const Slot& s = program[i];
    if (i + 1 < program.size() && single(s, ChunkPass::forward) && single(program[i + 1], ChunkPass::backward)) {
      out.push_back(Slot{{s.chunks[0], program[i + 1].chunks[0]}, 2});
      ++i;
      continue;
    }
    out.push_back(s);
  }
  return out;
}

bool combines_steps(const ParallelPlan& plan) {
  return plan.overlap_ep_comm && !pipeline_schedule(plan.schedule).overlaps_expert_comm();
}

Pipeline make_pipeline(Schedule schedule, int pp, int virtual_stages, int micro_batches, bool combined) {
  const PipelineSchedule& s = pipeline_schedule(schedule);
  if (pp < 1 || virtual_stages < 1 || micro_batches < 1) {
    throw std::invalid_argument(fmt::format("pipeline: pp {}, virtual stages {} and {} micro-batches must be positive",
                                            pp, virtual_stages, micro_batches));
  }
  const PipelineShape shape{pp, virtual_stages, micro_batches, combined ? 1 : 0};
  if (auto why = s.shape_rule(pp, virtual_stages)) throw std::invalid_argument("pipeline: " + why->message);
  if (auto why = s.micro_batch_rule(shape)) throw std::invalid_argument("pipeline: " + *why);
  Pipeline p;
  p.schedule = schedule;
  p.ranks = pp;
  p.stages = pp * virtual_stages;
  p.micro_batches = micro_batches;
  p.programs = s.programs(shape);
  if (combined) {
    for (std::vector<Slot>& program : p.programs) program = combine_steady_pairs(program);
  }
  return p;
}

std::string to_string(ChunkPass pass) {
  switch (pass) {
    case ChunkPass::forward: return "F";
    case ChunkPass::backward: return "B";
    case ChunkPass::backward_input: return "Bi";
    case ChunkPass::backward_weight: return "W";
  }
  return "?";
}

}  // namespace tcsim::model
