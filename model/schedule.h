// Pipeline schedules: the order in which each pipeline rank runs the forward
// and backward chunks of the micro-batches of one step, and what that order
// implies (its rules, which stages a rank holds, how many micro-batches of
// activations it keeps, its closed-form bubble).
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
// Each schedule is one leaf file in schedules/ implementing PipelineSchedule;
// pipeline_schedule() maps the enum to it (schedule.cpp). Adding a schedule:
// an enum value (spec.h), its name (names.h), a leaf file and a line in
// pipeline_schedule (docs/design.md, "Adding a schedule").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/spec.h"

namespace tcsim::model {

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

// The shape a schedule lays out: pipeline ranks, virtual stages per rank and
// micro-batches per step.
struct PipelineShape {
  int pp = 1;
  int virtual_stages = 1;
  int micro_batches = 1;
  // Forwards a rank runs before its steady state beyond the schedule's own
  // (1F1B and interleaved 1F1B; combined 1F1B adds one).
  int extra_warmup = 0;
};

// A rule a schedule's shape breaks: the plan field it is about ("pp",
// "virtual_stages") and why.
struct ShapeBreak {
  std::string_view key;
  std::string message;
};

// Micro-batches of one stage's activations a rank keeps at its peak.
struct ActivationHolding {
  std::vector<int> stages;  // their activations per micro-batch add up
  double micro_batches = 0;
};

// One pipeline schedule, stateless.
// Contract:
//  - shape_rule(pp, v) is empty when pp ranks with v virtual stages each can
//    run the schedule, else why not; micro_batch_rule(shape) likewise for
//    the micro-batches per step. A shape that passes both can be laid out.
//    Defaults: one virtual stage; any micro-batch count.
//  - program(shape, rank) gives one rank's slots in order; over all ranks
//    (programs()) every micro-batch crosses every stage once forward and once
//    backward (whole, or input then weight gradients), each chunk on
//    rank_of(shape, micro-batch, stage) (default: stage mod pp).
//  - stages_of_rank(pp, v, rank) lists the stages whose weights rank holds
//    (default: rank, rank + pp, ...); activation_holdings(pp, v, rank) what
//    its activations peak at, in micro-batches of those stages (default:
//    in_flight of all of them); in_flight(pp, v, rank) the same peak in
//    micro-batches of the rank's whole work (default: 1F1B's pp - rank).
//  - bubble(pp, v) is the idle time of the closed form, in units of one
//    stage's forward (F = B_input = W = 1), over a rank's n (F + B + W).
//  - micro_batch_granule(pp, v): a batch ramp moves in steps of this many
//    micro-batches per pipeline, so that every batch on the way passes
//    micro_batch_rule (default 1).
class PipelineSchedule {
 public:
  virtual ~PipelineSchedule() = default;
  virtual Schedule id() const = 0;
  virtual std::optional<ShapeBreak> shape_rule(int pp, int virtual_stages) const;
  virtual std::optional<std::string> micro_batch_rule(const PipelineShape& shape) const;
  virtual std::vector<Slot> program(const PipelineShape& shape, int rank) const = 0;
  std::vector<std::vector<Slot>> programs(const PipelineShape& shape) const;
  virtual int rank_of(const PipelineShape& shape, int micro_batch, int stage) const;
  virtual std::vector<int> stages_of_rank(int pp, int virtual_stages, int rank) const;
  virtual std::vector<ActivationHolding> activation_holdings(int pp, int virtual_stages, int rank) const;
  virtual double in_flight(int pp, int virtual_stages, int rank) const;
  // Copies of a rank's parameters (DualPipe: 2, V3-TR Table 2).
  virtual int parameter_copies() const { return 1; }
  virtual double bubble(int pp, int virtual_stages) const = 0;
  virtual int micro_batch_granule(int pp, int virtual_stages) const;
  // Computation of one chunk runs beside the expert all-to-all of the other
  // chunk of an overlapped pair (the shared expert beside the dispatch).
  virtual bool overlaps_expert_comm() const { return false; }
};

const PipelineSchedule& pipeline_schedule(Schedule s);

// Every schedule, in the order of the enum.
std::vector<Schedule> all_schedules();

struct Pipeline {
  Schedule schedule = Schedule::one_f_one_b;
  int ranks = 1;
  int stages = 1;  // ranks x virtual stages
  int micro_batches = 1;
  std::vector<std::vector<Slot>> programs;  // per rank, in order

  // The rank that holds `stage` for `micro_batch`.
  int rank_of(int micro_batch, int stage) const;
  // Per stage, by ChunkPass: whether some program runs such a chunk (a
  // schedule runs whole backward chunks or input- and weight-gradient ones).
  std::vector<std::array<bool, 4>> passes_run() const;
};

// The schedule's programs for this shape. The shape must pass the schedule's
// rules (scenarios/rules.h refuses plans that do not); throws
// std::invalid_argument otherwise.
// `combined`: Megatron-Core's combined 1F1B (core/pipeline_parallel/
// combined_1f1b.py, schedules.py): one more warm-up forward per rank, so that
// the forward and backward of each steady step belong to different
// micro-batches and the backward's input is there, then each steady forward
// and the backward after it become one overlapped pair (combine_steady_pairs).
// Without a pipeline that is F0, then F1 with B0, F2 with B1, ...
Pipeline make_pipeline(Schedule schedule, int pp, int virtual_stages, int micro_batches, bool combined = false);

// Each forward slot directly followed by a whole-backward slot becomes one
// slot of the two, overlapped; warm-up forwards and cool-down backwards stay
// alone. Outputs go out after the pair, as Megatron's
// send_forward_backward_recv_forward_backward does after each steady step.
std::vector<Slot> combine_steady_pairs(const std::vector<Slot>& program);

// Whether the plan runs combined 1F1B steps (overlap_ep_comm on a schedule
// that does not pair chunks itself, as DualPipe does).
bool combines_steps(const ParallelPlan& plan);

std::string to_string(ChunkPass pass);

// PipeDream-Flush 1F1B's program for one rank: also interleaved 1F1B's with
// one virtual stage (schedules/one_f_one_b.cpp).
std::vector<Slot> one_f_one_b_program(int pp, int rank, int micro_batches, int extra_warmup = 0);

}  // namespace tcsim::model
