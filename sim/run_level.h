// Run-level simulation: a training run is its phases; a phase is a sequence of
// optimizer steps whose times come from a step-time oracle (the step
// simulation, or a labelled stand-in); over weeks on thousands of GPUs the job
// is interrupted, restarted from its last checkpoint, and stalls to write
// checkpoints. The result is GPU-hours and wall time per phase, with their
// spread over failure times.
//
// Contract:
// - Step times come only from the oracle, once per distinct step shape: a
//   shape is (phase, global batch), since a phase fixes the sequence length and
//   the parallel plan. Nothing assumes one step time per phase.
// - A batch ramp grows the global batch linearly in tokens from ramp.from to
//   phase.batch over ramp.over_tokens; each step's batch is rounded to the
//   nearest multiple of ramp_granule (dp x micro_batch times the schedule's
//   micro-batch granule: 2 under DualPipe, pp under interleaved 1F1B):
//   V3-TR §4.2 describes the ramp, not its granularity; a step must divide into
//   whole micro-batches per replica, and into a count the schedule can run.
// - A phase given in tokens runs whole steps until it has trained at least its
//   tokens; a phase given in steps runs exactly those steps.
// - Phases given as measured GPU-hours are taken as published: not simulated,
//   no reliability overhead added; their wall time assumes the scenario's GPUs.
// - Expected values are closed forms (stated at each function); the spread is a
//   Monte Carlo over failure times, deterministic for a seed.
// - No dollars or watts here: reports/ prices what this produces.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/random.h"
#include "core/units.h"
#include "scenarios/scenario.h"
#include "sim/step_graph.h"

namespace tcsim::sim {

// Where a step's time went on its critical GPU, when the oracle knows (the step
// simulation does; a stand-in does not). The three parts add up to the step.
struct StepParts {
  Seconds compute;       // forward, backward (input and weight gradients), optimizer
  Seconds exposed_comm;  // idle while a collective or pipeline transfer it waits for runs
  Seconds bubble;        // idle, waiting for other pipeline stages or stragglers
};

// One step's time, with its parts when known. A bare Seconds converts to a
// step time without parts, so an oracle may simply return Seconds.
struct StepTime {
  StepTime(Seconds t) : total(t) {}  // NOLINT(google-explicit-constructor): see above
  StepTime(Seconds t, StepParts p) : total(t), parts(p) {}
  Seconds total;
  std::optional<StepParts> parts;
};

// The time of one optimizer step of `phase` at global batch `batch` sequences.
using StepTimeFn = std::function<StepTime(const scenario::Phase& phase, std::int64_t batch)>;

// A step-time oracle with the label every report shows next to its figures.
struct StepOracle {
  std::string name;         // "peak-flops", "step-simulation"
  std::string description;  // how it times a step
  bool stand_in = true;     // true unless it is the step simulation
  StepTimeFn time;
};

// A stand-in for plans the step simulation cannot run, and a quick bound:
// every training FLOP of the step (model::train_flops_per_token at the phase's
// sequence length, causal attention, MTP included) at the GPU's dense peak for
// the GEMM precision, on all the scenario's GPUs. A lower bound on step time,
// not a prediction; flagged stand_in.
StepOracle peak_flops_oracle(const scenario::Scenario& s);

// The discrete-event step simulation (sim/step.h) as the oracle: each shape is
// the scenario with that phase, at that batch and without its ramp, as its only
// phase, simulated once; the parts are the critical GPU's breakdown.
// `distances`: hop distances shared with other simulations on clusters of the
// same shape (the caller's step, say); none: the oracle keeps its own.
StepOracle step_simulation_oracle(const scenario::Scenario& s, const StepOptions& options = {},
                                  std::shared_ptr<hw::TopologyCache> distances = nullptr);

// `exact` at the two ends of each ramp (its first step's batch and the phase
// batch), linear in the batch between them; phases without a ramp get
// `exact` itself. A pipeline step is affine in its micro-batch count once the
// pipeline is full (each micro-batch adds the same stage work), which the
// step simulation reproduces (docs/simulation.md, "Ramp interpolation");
// interpolation turns a ramp's dozens of distinct shapes into two. Keeps
// `exact`'s stand_in flag; the name gains "-interpolated".
StepOracle interpolated_oracle(StepOracle exact);

// Asks the oracle once per distinct (phase, batch) and remembers the answer.
class StepTimeCache {
 public:
  explicit StepTimeCache(StepOracle oracle) : oracle_(std::move(oracle)) {}

  StepTime step_time(std::size_t phase_index, const scenario::Phase& phase, std::int64_t batch);
  std::size_t shapes() const { return times_.size(); }  // distinct shapes asked so far
  const StepOracle& oracle() const { return oracle_; }

 private:
  StepOracle oracle_;
  std::map<std::pair<std::size_t, std::int64_t>, StepTime> times_;
};

// The step of a ramp: dp x micro_batch sequences, one micro-batch per replica,
// times model::PipelineSchedule::micro_batch_granule: twice that under
// DualPipe, which runs an even number of micro-batches ("DualPipe only requires
// that the pipeline stages and micro-batches be divisible by 2", V3-TR
// §3.2.1), pp times under interleaved 1F1B (Megatron-LM's rule).
std::int64_t ramp_granule(const scenario::Phase& phase);

// The global batch of the step that starts after `tokens_done` tokens of the
// phase. Without a ramp: phase.batch. With one: g x round((from + (batch -
// from) x min(tokens_done / over_tokens, 1)) / g), g = ramp_granule(phase),
// kept within [from, batch].
std::int64_t ramp_batch(const scenario::Phase& phase, std::int64_t tokens_done);

// A phase's fault-free schedule: its steps and the sum of their times.
struct PhaseSchedule {
  std::int64_t steps = 0;
  std::int64_t tokens = 0;         // trained: whole steps of batch x seq_len tokens
  Seconds compute;                 // sum of step times
  std::optional<StepParts> parts;  // summed over the steps, when every step time has parts
  std::int64_t first_batch = 0;
  std::int64_t last_batch = 0;
  Seconds first_step;
  Seconds last_step;
};

PhaseSchedule schedule_phase(std::size_t phase_index, const scenario::Phase& phase, StepTimeCache& cache);

// What interrupts the job and what an interruption and a checkpoint cost.
struct ReliabilityModel {
  Seconds job_mtbf;         // mtbf_per_gpu / GPUs; 0: never interrupted
  Seconds restart;          // detection plus restart
  Bytes checkpoint_size;    // master weights + optimizer moments of every parameter
  Seconds checkpoint_time;  // checkpoint_size / storage bandwidth; 0 without a bandwidth
  Seconds interval;         // work between checkpoints; 0: no checkpoints
  bool young_daly = false;  // interval chosen by young_daly_interval
};

// Bytes a checkpoint writes: (params_total + params_mtp) x (bytes of a master
// weight + 2 x bytes of an optimizer moment), AdamW's two moments. The
// working copy of the weights is derived from the master copy and not saved.
Bytes checkpoint_bytes(const scenario::Scenario& s);

// Young's first-order optimum checkpoint interval, sqrt(2 x C x M), for
// checkpoint time C and job MTBF M (J. W. Young, "A first order approximation
// to the optimum checkpoint interval", CACM 17(9), 1974; J. T. Daly, "A higher
// order estimate of the optimum checkpoint interval for restart dumps", FGCS
// 22(3), 2006, gives the same leading term). Valid for C << M.
Seconds young_daly_interval(Seconds checkpoint_time, Seconds job_mtbf);

ReliabilityModel reliability_model(const scenario::Scenario& s);

// Expected cost of running `compute` seconds of fault-free work under `r`.
// With interval t, checkpoint time C, restart R, failure rate l = 1/job_mtbf,
// interruptions only while the job runs (not while it restarts):
//   checkpoints  n = ceil(compute / t)                   (0 without checkpoints)
//   base         B = compute + n C
//   lost work    L = (t + C) / 2 per interruption         (half a checkpoint period)
//   interruptions N = l B / (1 - l L)                     (the re-run work is exposed too)
//   wall         W = B + N (R + L)
// Throws ConfigError when l L >= 1: the job would lose work faster than it saves it.
struct PhaseOverheads {
  double interruptions = 0;
  Seconds checkpoints;  // n C
  Seconds restarts;     // N R
  Seconds lost_work;    // N L
  Seconds wall;
};

PhaseOverheads expected_overheads(Seconds compute, const ReliabilityModel& r);

// One draw of the wall time of `compute` seconds of work: failure times are
// exponential with mean job_mtbf, each failure loses the work since the last
// completed checkpoint and costs a restart. Adds the failures to `interruptions`.
Seconds sample_wall(Seconds compute, const ReliabilityModel& r, Rng& rng, int& interruptions);

struct PhaseResult {
  std::string name;
  std::string source;
  bool measured = false;  // published GPU-hours, not simulated
  int gpus = 0;
  PhaseSchedule schedule;    // zero for measured phases
  PhaseOverheads overheads;  // expected; zero for measured phases
  GpuHours gpu_hours;        // expected wall x GPUs
  Seconds wall;
  std::size_t shapes = 0;  // distinct step shapes this phase asked the oracle for
};

// Interruptions by cause, in expectation: a cause's share of the log's
// interruptions times the run's expected interruptions and lost GPU-hours.
struct CauseResult {
  std::string name;
  std::string source;
  double share = 0;
  double interruptions = 0;
  GpuHours gpu_hours_lost;  // its share of restarts and lost work
};

struct RunOptions {
  std::uint64_t seed = 1;
  int trials = 1000;  // Monte Carlo draws of the run's failure history
};

struct RunResult {
  StepOracle oracle;  // label only (the function is not called again)
  std::vector<PhaseResult> phases;
  ReliabilityModel reliability;
  std::vector<CauseResult> causes;
  GpuHours gpu_hours_total;
  Seconds wall;
  double goodput = 1;        // fault-free compute / wall, over the simulated phases
  double interruptions = 0;  // expected, whole run
  GpuHours gpu_hours_lost;   // expected restarts and lost work x GPUs
  // GPU-hours per 10^12 tokens over the simulated phases (V3-TR §1 quotes 180K
  // for pre-training alone; per phase: gpu_hours / tokens).
  double gpu_hours_per_trillion_tokens = 0;
  std::size_t shapes = 0;    // distinct step shapes simulated
  int simulated_phases = 0;  // phases timed by the oracle (the others are measured)
  // Monte Carlo over failure times (measured phases enter as constants).
  RunOptions options;
  Spread<Seconds> wall_mc;
  Spread<GpuHours> gpu_hours_mc;
  Spread<double> goodput_mc;
  Spread<double> interruptions_mc;
};

// True when some figure of the run rests on a stand-in oracle's step times.
inline bool rests_on_stand_in(const RunResult& r) { return r.oracle.stand_in && r.simulated_phases > 0; }

RunResult simulate_run(const scenario::Scenario& s, StepTimeCache& cache, const RunOptions& options = {});

inline constexpr double kSecondsPerDay = 86400.0;  // definition of the day

}  // namespace tcsim::sim
