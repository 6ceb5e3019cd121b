// A scenario fully resolved: presets applied, `extends` merged, --set
// overrides applied, units parsed and cross-field checks passed. Everything
// downstream of the loader sees only this.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/named.h"
#include "core/units.h"
#include "hardware/spec.h"
#include "model/memory.h"
#include "model/spec.h"

namespace tcsim::scenario {

// Global batch grows linearly in sequences from `from` to the phase batch over
// the first `over_tokens` tokens (DeepSeek-V3: 3072 -> 15360 over 469B).
struct BatchRamp {
  std::int64_t from = 0;
  std::int64_t over_tokens = 0;
};

struct Phase {
  std::string name;
  std::int64_t tokens = 0;  // 0 when the phase is given in steps
  std::int64_t steps = 0;   // 0 when the phase is given in tokens
  std::int64_t batch = 0;   // global batch in sequences (final value when ramped)
  std::optional<BatchRamp> ramp;
  int seq_len = 0;
  model::ParallelPlan parallelism;  // the top-level plan with this phase's overrides
  // A phase may carry a published measurement instead of being simulated.
  std::optional<GpuHours> measured_gpu_hours;
  std::string source;
};

struct TrainingPlan {
  int seq_len = 0;
  std::vector<Phase> phases;
};

// How a cost input was obtained, as the shared reference tags it: copied as
// published, arithmetic on published figures, an analyst's or press
// estimate, or this scenario's own assumption.
enum class SourceTag { exact, derived, estimate, assumption };

inline constexpr std::array<Named<SourceTag>, 4> kSourceTagNames{{{"exact", SourceTag::exact},
                                                                  {"derived", SourceTag::derived},
                                                                  {"estimate", SourceTag::estimate},
                                                                  {"assumption", SourceTag::assumption}}};

// One cause of job interruptions in a published failure log, with the number
// of interruptions it caused during the log's window.
struct InterruptionCause {
  std::string name;
  double interruptions = 0;
  std::string source;
};

// A published record of unexpected job interruptions on `gpus` GPUs over
// `window` (Llama 3: 419 in 54 days on 16,384 H100). Each cause's rate per
// GPU is its count / (gpus x window); the rates add up.
struct InterruptionLog {
  int gpus = 0;
  Seconds window;
  std::string source;
  std::vector<InterruptionCause> causes;
};

struct ReliabilitySpec {
  // Mean time between interruptions per GPU, all causes: the job on N GPUs
  // is interrupted every mtbf_per_gpu / N on average. 0: no interruptions.
  // Given with a log, it sets the total and the log only splits it by cause;
  // without, the resolver derives it from the log.
  Seconds mtbf_per_gpu;
  std::optional<InterruptionLog> log;
  Seconds restart_time;  // detection plus restart after an interruption
  // Work between checkpoints. 0 with checkpoint_young_daly: chosen by the
  // run-level simulation as sqrt(2 x checkpoint time x job MTBF).
  Seconds checkpoint_interval;
  bool checkpoint_young_daly = false;
  BytesPerSecond checkpoint_bandwidth;  // aggregate storage write bandwidth; 0: checkpoints are free
  std::string source;                   // where restart time and checkpoint inputs come from
};

// A quantity known as a distribution. Parameters are in the unit of the
// field that holds it (Dollars, GpuHours, Seconds, or a plain number).
enum class DistKind { fixed, uniform, triangular, lognormal };

inline constexpr std::array<Named<DistKind>, 4> kDistNames{{{"fixed", DistKind::fixed},
                                                            {"uniform", DistKind::uniform},
                                                            {"triangular", DistKind::triangular},
                                                            {"lognormal", DistKind::lognormal}}};

template <class Q>
struct Distribution {
  DistKind kind = DistKind::fixed;
  Q value{};                // fixed
  Q low{}, mode{}, high{};  // uniform: low, high; triangular: low, mode, high
  Q median{}, p5{}, p95{};  // lognormal: at least two of median and the 90% interval p5..p95
  bool has_median = false, has_p5 = false, has_p95 = false;
};

// The hardware a run's GPU-hours are owned on: purchase values per GPU,
// amortised by one of two conventions, plus energy and facility.
enum class Depreciation { epoch, straight_line };

inline constexpr std::array<Named<Depreciation>, 2> kDepreciationNames{
    {{"epoch", Depreciation::epoch}, {"straight-line", Depreciation::straight_line}}};

struct CapitalItem {
  std::string name;
  Dollars per_gpu;  // purchase value per GPU
  std::string source;
  SourceTag tag = SourceTag::exact;
  bool catalog = false;  // per_gpu: catalog, the server of the scenario's GPU
};

struct OwnershipSpec {
  std::vector<CapitalItem> capital;
  Depreciation depreciation = Depreciation::epoch;
  // Epoch AI (arXiv:2405.21015): value lost at r orders of magnitude per
  // year, r = 0.14 (90% CI 0.10-0.18).
  double depreciation_ooms_per_year = 0.14;
  // Straight-line: the analysts' TCO convention of 4 years (costs.md).
  Seconds lifetime = Seconds(4 * 365 * 86400.0);
  DollarsPerKwh energy_price;
  std::string energy_price_source;
  double power_fraction = 0.75;      // Epoch AI: average GPU power / TDP
  double pue = 1.25;                 // Epoch AI: 1.1 hyperscaler, 1.25 otherwise
  double server_power_factor = 1.0;  // server power / (GPUs x TDP); 1: the GPU alone
  std::string power_source;
  DollarsPerGpuHour facility;  // building, power and cooling plant; 0: not included
  std::string facility_source;
};

// One item of the full research-and-development total beyond the final run.
// What its distribution measures depends on the kind:
//   dollars                    money spent directly (data, licences)
//   gpu_hours                  compute, priced at the R&D compute price
//   final_run_multiple         compute as a multiple of the final run's GPU-hours
//   development_compute_ratio  Epoch's total development compute / final-run compute R;
//                              the item is the (R - 1) x final run beyond the final run
//   staff                      headcount x compensation x FTE share x overhead x duration
//   fleet                      idle or shared capacity of a fleet of `gpus` held for
//                              `duration`: held GPU-hours minus the development compute
//                              (final run x R), priced at the owned capital rate
enum class RndKind { dollars, gpu_hours, final_run_multiple, development_compute_ratio, staff, fleet };

inline constexpr std::array<Named<RndKind>, 6> kRndKindNames{
    {{"dollars", RndKind::dollars},
     {"gpu_hours", RndKind::gpu_hours},
     {"final_run_multiple", RndKind::final_run_multiple},
     {"development_compute_ratio", RndKind::development_compute_ratio},
     {"staff", RndKind::staff},
     {"fleet", RndKind::fleet}}};

struct RndItem {
  std::string name;
  RndKind kind = RndKind::dollars;
  std::string source;
  SourceTag tag = SourceTag::estimate;
  // false: listed as a known omission (no public figure), not added to the total.
  bool quantified = true;
  std::string note;
  Distribution<Dollars> dollars;       // dollars
  Distribution<GpuHours> gpu_hours;    // gpu_hours
  Distribution<double> ratio;          // final_run_multiple, development_compute_ratio
  Distribution<double> headcount;      // staff
  Distribution<Dollars> compensation;  // staff: per FTE-year
  Distribution<double> fte_share;      // staff
  Distribution<double> overhead;       // staff: on top of compensation
  Distribution<Seconds> duration;      // staff, fleet
  Distribution<double> gpus;           // fleet
};

// Compute in the R&D total is priced at the rental rate or at the owned rate.
enum class ComputePrice { rental, owned };

inline constexpr std::array<Named<ComputePrice>, 2> kComputePriceNames{
    {{"rental", ComputePrice::rental}, {"owned", ComputePrice::owned}}};

struct RndSpec {
  ComputePrice compute_price = ComputePrice::rental;
  std::vector<RndItem> items;
};

// The accounting views beyond the final run (docs/costs.md "Accounting views").

// View 1: the figure as its authors published it.
struct HeadlineSpec {
  GpuHours gpu_hours;          // as published
  DollarsPerGpuHour rental;    // the rate they assumed
  std::optional<Dollars> usd;  // their total, when they give one (checked against gpu_hours x rental)
  std::string source;
};

// View 4: a fleet the company held over the development period, priced by
// the owned-hardware conventions (cost.owned).
struct FleetHolding {
  std::string name;
  double gpus = 0;
  Dollars per_gpu;             // purchase value per GPU, the server and network included
  bool per_gpu_owned = false;  // per_gpu: owned, the capital of cost.owned
  Watts power;                 // average facility-side power per GPU before PUE
  std::string source;
  SourceTag tag = SourceTag::estimate;
};

// View 4: a published bracket of company spend, shown beside the fleet
// total, never added to it. Exactly one of the three is given.
struct SpendBracket {
  std::string name;
  std::optional<Dollars> capital;   // amortised over the period like a fleet's
  std::optional<Dollars> per_year;  // scaled to the period
  std::optional<Dollars> usd;       // a total as published, not scaled
  std::string source;
  SourceTag tag = SourceTag::estimate;
};

struct CompanySpec {
  Distribution<Seconds> period;  // the development period the spend is counted over
  std::string period_source;
  std::vector<FleetHolding> fleet;
  std::vector<SpendBracket> brackets;
};

// View 5: a peer's published run, priced by the same conventions.
struct PeerEstimate {
  std::string name;
  Dollars usd;
  std::string source;
  SourceTag tag = SourceTag::estimate;
};

struct PeerRun {
  std::string name;
  GpuHours gpu_hours;
  std::string gpu;                // catalog key
  Watts tdp;                      // the GPU's, from the catalog
  std::optional<Dollars> server;  // the GPU's server price per GPU, from the price catalog
  std::string server_source;
  std::string source;
  SourceTag tag = SourceTag::exact;
  std::vector<PeerEstimate> estimates;  // others' figures for the same run
};

struct CostSpec {
  DollarsPerGpuHour rental;  // the final-run rental assumption
  std::string rental_source;
  std::optional<OwnershipSpec> owned;
  std::optional<RndSpec> rnd;
  std::optional<HeadlineSpec> headline;
  std::optional<CompanySpec> company;
  std::vector<PeerRun> context;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;  // where it was loaded from ("<builtin>/deepseek-v3.yaml" for the default)
  model::ModelSpec model;
  model::ParallelPlan parallelism;
  model::PrecisionSpec precision;
  hw::ClusterSpec hardware;
  TrainingPlan training;
  ReliabilitySpec reliability;
  CostSpec cost;
  model::MemoryAllowance memory;  // `memory:`; the defaults are sourced in model/memory.h
  // What a reader must know about where values came from
  // (scenarios/provenance.h): values that replaced a sourced one, cost
  // sections inherited from another model's file. A resolved scenario keeps
  // them under `notes:`.
  std::vector<std::string> notes;
  std::vector<std::string> overrides;  // the --set assignments, as given
};

constexpr int gpu_count(const Scenario& s) { return hw::gpu_count(s.hardware); }

}  // namespace tcsim::scenario
