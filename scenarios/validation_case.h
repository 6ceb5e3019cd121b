// A validation case: one published training figure and the scenario that
// states the run it came from, read from a YAML file (validation/*.yaml,
// compiled in; or a user's folder). Reading only: running a case is
// study/validation.h. Format: docs/validation.md ("The suite").
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/named.h"
#include "scenarios/scenario.h"

namespace tcsim::scenario {

enum class CaseKind {
  step,     // the steady-state training step of the scenario's first phase
  run,      // the whole run: phases, ramp, interruptions, cost
  kernels,  // one layer group's kernels beside a measured kernel table
};

inline constexpr std::array<Named<CaseKind>, 3> kCaseKinds{{
    {"step", CaseKind::step},
    {"run", CaseKind::run},
    {"kernels", CaseKind::kernels},
}};

enum class CaseQuantity {
  step_time_s,                    // step
  tokens_per_s_per_gpu,           // step
  gpu_hours_per_trillion_tokens,  // step
  tflops_per_gpu,                 // step; FLOPs counted by `flops`
  mfu,                            // step; FLOPs by `flops` over the GPU's dense BF16 peak (or `peak`)
  gpu_hours,                      // run; the phases named by `phase` (a name prefix), all when empty
  final_run_usd,                  // run
  compute_kernels_ms,             // kernels: every compute kernel of the table's span
  pipeline_pair_ms,               // kernels: one DualPipe forward+backward pair
};

inline constexpr std::array<Named<CaseQuantity>, 9> kCaseQuantities{{
    {"step_time_s", CaseQuantity::step_time_s},
    {"tokens_per_s_per_gpu", CaseQuantity::tokens_per_s_per_gpu},
    {"gpu_hours_per_trillion_tokens", CaseQuantity::gpu_hours_per_trillion_tokens},
    {"tflops_per_gpu", CaseQuantity::tflops_per_gpu},
    {"mfu", CaseQuantity::mfu},
    {"gpu_hours", CaseQuantity::gpu_hours},
    {"final_run_usd", CaseQuantity::final_run_usd},
    {"compute_kernels_ms", CaseQuantity::compute_kernels_ms},
    {"pipeline_pair_ms", CaseQuantity::pipeline_pair_ms},
}};

// How a source counts the FLOPs behind a TFLOP/s or MFU figure.
enum class FlopConvention {
  tcsim,           // the step's own count: every GEMM and causal attention, recompute excluded
  megatron_2021,   // arXiv:2104.04473 eq. (3): 96 B s l h^2 (1 + s/6h + V/16lh), the recompute's forward included
  megatron_model,  // the same without recompute, 72 B s l h^2 (1 + s/6h + V/12lh) (arXiv:2205.05198 §6, MegaScale)
};

inline constexpr std::array<Named<FlopConvention>, 3> kFlopConventions{{
    {"tcsim", FlopConvention::tcsim},
    {"megatron-2021", FlopConvention::megatron_2021},
    {"megatron-model", FlopConvention::megatron_model},
}};

struct PublishedFigure {
  CaseQuantity quantity = CaseQuantity::step_time_s;
  // In the unit its name says (seconds, GPU-hours, dollars, ms; a fraction
  // for mfu); 0 in a kernels case: the measured table's own figure.
  double value = 0;
  std::optional<FlopConvention> flops;  // tflops_per_gpu and mfu
  double peak_tflops = 0;               // mfu: the source's peak per GPU; 0 = the GPU's dense BF16 peak
  std::string phase;                    // gpu_hours: phases whose name starts with it
  std::string source;                   // where the figure is printed (section, table, row)
};

struct ValidationCase {
  std::string name;  // the file's stem
  std::string file;  // as shown in messages
  std::string title;
  CaseKind kind = CaseKind::step;
  std::string source;  // the publication
  Scenario scenario;
  std::vector<PublishedFigure> published;
  // The plan trained on this hardware as published, so it must fit in memory
  // as modelled (step cases); false for what-if cases.
  bool plan_ran = true;
  std::vector<std::string> not_published;  // choices the file makes where the source is silent
  // kernels: the measured table (calibrate/profiles/NAME.kernels.csv) and the
  // MoE layers its span covers.
  std::string kernel_table;
  int kernel_layers = 0;
};

// Reads one case. `file` names it in messages and anchors a relative
// `scenario.extends`. Throws ConfigError (file:line:column, key path, what
// was expected) on bad input, scenario errors included.
ValidationCase load_validation_case_text(std::string_view text, const std::string& file, std::string name);

// A case file from disk (regular file, bounded size).
ValidationCase load_validation_case(const std::string& path);

// Cases compiled into the binary (validation/*.yaml), by name.
std::vector<std::string> builtin_case_names();
std::string_view builtin_case_text(std::string_view name);

}  // namespace tcsim::scenario
