// The rules a resolved scenario must satisfy before anything simulates it,
// in one place: pure predicates over the resolved structs that return what
// they find broken, with the key path the finding is about. The loader
// (validate.cpp) adds the file location and refuses the first break with exit
// code 2; the plan search (study/plan_search.h) groups its candidates'
// breaks by rule; the code downstream only asserts what these rules
// guarantee (sim/layout.h, model/schedule.h).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/named.h"
#include "model/spec.h"
#include "scenarios/scenario.h"

namespace tcsim::scenario {

// What a rule is about; plan search counts rejections by these names.
enum class Rule {
  model,           // the architecture's own consistency
  gpu,             // the GPU's required figures
  precision,       // dtypes the GPU or the GEMMs cannot provide
  calibration,     // the calibration profile against the GPU
  network,         // a network section's figures, as its topology needs them (hardware/builders.h)
  product,         // tp x cp x pp x dp = the GPUs
  zero,            // ZeRO stage 0..3
  tp,              // tensor parallelism splits the attention heads
  layers,          // layers over pp x virtual stages
  pipeline_shape,  // the schedule's rule on pp and virtual stages (model/schedule.h)
  ep,              // expert parallelism: experts and the ranks they are spread over
  comm_sms,        // communication SMs leave SMs to compute
  cp,              // context parallelism splits the sequence
  batch,           // the global batch into micro-batches of every data-parallel rank
  micro_batches,   // the schedule's rule on micro-batches per step (model/schedule.h)
  overlap,         // overlap options and what each needs
};

inline constexpr std::array<Named<Rule>, 16> kRuleNames{{{"model", Rule::model},
                                                         {"gpu", Rule::gpu},
                                                         {"precision", Rule::precision},
                                                         {"calibration", Rule::calibration},
                                                         {"network", Rule::network},
                                                         {"product", Rule::product},
                                                         {"zero", Rule::zero},
                                                         {"tp", Rule::tp},
                                                         {"layers", Rule::layers},
                                                         {"pipeline-shape", Rule::pipeline_shape},
                                                         {"ep", Rule::ep},
                                                         {"comm-sms", Rule::comm_sms},
                                                         {"cp", Rule::cp},
                                                         {"batch", Rule::batch},
                                                         {"micro-batches", Rule::micro_batches},
                                                         {"overlap", Rule::overlap}}};

std::string_view rule_name(Rule r);

struct RuleBreak {
  Rule rule = Rule::model;
  std::string path;  // the key the message is about: "parallelism.ep", "training.phases[0].batch"
  // Several keys under `path` that share the blame (tp, cp, pp, dp for the
  // product): the loader points at the one written last.
  std::vector<std::string> keys;
  std::string message;
};

// Where a plan sits in the scenario, for key paths.
struct PlanSite {
  std::string plan_path = "parallelism";  // "parallelism" or "training.phases[i].parallelism"
  const Phase* phase = nullptr;           // the phase it runs (batch rules); nullptr: none
  std::string phase_path;                 // "training.phases[i]"
};

// The rules one plan breaks on `gpus` GPUs, in the order above (empty when it
// breaks none): the product, ZeRO, the attention heads, the layers and the
// schedule's shape, the experts, the SMs, and with a phase, the sequence, the
// batch (and its ramp's start) and the schedule's micro-batch rule.
std::vector<RuleBreak> plan_breaks(const Scenario& s, const model::ParallelPlan& plan, int gpus, const PlanSite& site);

// Every rule the scenario breaks: the model, the GPU, precision and
// calibration, the network when the scenario gives one, then the top-level
// plan and each phase's plan on the scenario's GPUs.
std::vector<RuleBreak> scenario_breaks(const Scenario& s);

}  // namespace tcsim::scenario
