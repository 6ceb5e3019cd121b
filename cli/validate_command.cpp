// `tcsim validate`: every case tcsim can check against a published figure,
// predicted next to published with the error. Exit 0 whatever the errors: the
// command reports, it does not judge (docs/validation.md says what each gap
// means).
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calibrate/trace/kernel_table.h"
#include "calibrate/trace/op_families.h"
#include "cli/commands.h"
#include "core/error.h"
#include "hardware/topology.h"
#include "model/ops.h"
#include "reports/evaluation.h"
#include "reports/step_report.h"
#include "scenarios/loader.h"
#include "sim/run_level.h"
#include "sim/step.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kValidateHelp = R"(Usage: tcsim validate

Runs the repository's validation cases and prints tcsim's prediction next to the
published figure, with the relative error (predicted - published) / published:
  - steady-state training step: GPU-hours per trillion tokens (symmetric fidelity), for
    DeepSeek-V3 on 2048 H800 and Megatron-Core's published DeepSeek-V3 plan on 1024 H100
  - the whole DeepSeek-V3 run (phases, ramp, interruptions, checkpoints over the step
    simulation): GPU-hours per phase and in total, and the final-run cost at $2/GPU-hour
  - kernels: the op-time model's time for 4 MoE layers of DeepSeek-V3 (forward, input and
    weight gradients of one micro-batch) beside the kernels of DeepSeek's published H800
    profile of the same work, family by family
docs/validation.md explains each case and each gap. Exits 0.
)";

void row(std::string_view case_name, std::string_view quantity, double predicted, double published,
         const std::string& shown_predicted, const std::string& shown_published) {
  fmt::print("{:<40} {:<30} {:>12} {:>12} {:>+8.1f}%\n", case_name, quantity, shown_predicted, shown_published,
             100 * reports::relative_error(predicted, published));
}

// V3-TR Table 1: pre-training 2,664K, context extension 119K, post-training 5K
// H800 GPU-hours; 2,788K in all, $5.576M at the assumed $2/GPU-hour.
void run_cases(const std::shared_ptr<hw::DistanceCache>& distances) {
  constexpr double kPreTraining = 2664e3, kContext = 119e3, kTotal = 2788e3, kDollars = 5.576e6;
  const scenario::Scenario s = scenario::load_scenario(std::string(scenario::kDefaultScenario));
  const cost::Evaluation e = cost::evaluate(s, sim::interpolated_oracle(sim::step_simulation_oracle(s, {}, distances)));
  double pre = 0, context = 0;
  for (const sim::PhaseResult& p : e.run.phases) {
    if (p.name == "pre-training") pre += p.gpu_hours.value();
    if (p.name.starts_with("context-extension")) context += p.gpu_hours.value();
  }
  const auto h = [](double v) { return to_count_string(v); };
  const std::string name = "DeepSeek-V3 run, 2048 H800";
  row(name, "pre-training GPU-hours", pre, kPreTraining, h(pre), h(kPreTraining));
  row("", "context-extension GPU-hours", context, kContext, h(context), h(kContext));
  const double total = e.run.gpu_hours_total.value();
  row("", "run.gpu_hours_total", total, kTotal, h(total), h(kTotal));
  const double usd = e.ledger.final_run.value();
  row("", "cost.final_run_usd", usd, kDollars, to_string(e.ledger.final_run), to_string(Dollars(kDollars)));
  fmt::print(
      "  source: V3-TR arXiv:2412.19437 Table 1 (post-training's 5K is taken as measured); plan assumptions\n"
      "          stated in scenarios/deepseek-v3.yaml; step times: {}\n",
      e.run.oracle.name);
}

// The pair's duration: under DualPipe each further micro-batch adds one
// forward chunk overlapped with one backward chunk to every rank once the
// step is past its warm-up (tests/sim), so the slope of the simulated step
// in the micro-batches per pipeline is the critical rank's pair: 4 MoE
// layers each way, its EP all-to-alls and pipeline transfers overlapped as
// the engine runs them. Measured: the GPU span of the profile's kernels, and
// the `1F1B` annotation around them (the profile's README: 112.2 ms; the
// annotation is a CPU range, kernels run on after it closes).
void pair_case(const scenario::Scenario& s, const sim::StepResult& b, const trace::KernelTable& measured,
               const std::shared_ptr<hw::DistanceCache>& distances) {
  constexpr double kAnnotationMs = 112.2;  // deepseek-profile README: the `1F1B` annotation's length
  scenario::Scenario half = s;
  half.training.phases.front().batch /= 2;
  const sim::StepResult a = sim::simulate_step(sim::step_shape(half), {}, distances.get());
  const double pair_ms = (b.time - a.time).value() / static_cast<double>(b.micro_batches - a.micro_batches) * 1e3;
  double first = 0, last = 0;
  for (std::size_t i = 0; i < measured.rows.size(); ++i) {
    const trace::KernelRow& r = measured.rows[i];
    first = i == 0 ? r.start_us : std::min(first, r.start_us);
    last = i == 0 ? r.start_us + r.duration_us : std::max(last, r.start_us + r.duration_us);
  }
  const double span_ms = (last - first) / 1e3;
  fmt::print("{:<40} {:<30} {:>12.1f} {:>12.1f} {:>+8.1f}%\n", "DeepSeek-V3 DualPipe pair, 4 MoE layers",
             "GPU span of the kernels (ms)", pair_ms, span_ms, 100 * reports::relative_error(pair_ms, span_ms));
  fmt::print("{:<40} {:<30} {:>12.1f} {:>12.1f} {:>+8.1f}%\n", "", "1F1B annotation (ms)", pair_ms, kAnnotationMs,
             100 * reports::relative_error(pair_ms, kAnnotationMs));
  fmt::print(
      "  source: predicted, the step's slope per micro-batch ({} and {} micro-batches per pipeline, profile {});\n"
      "          measured, the profile's kernels and its README (pipeline send/receive not in the profile)\n",
      a.micro_batches, b.micro_batches, s.hardware.profile->name);
}

// DeepSeek's profile: one DualPipe pair (a forward and a backward chunk) of 4
// MoE layers, EP64, TP1, sequence 4096 (calibrate/profiles/
// deepseek-v3-h800-train.kernels.csv). The same work in the model: the
// built-in scenario's first four MoE layers, its plan and precision, one
// micro-batch, every pass; timed on the SMs DeepEP leaves (its kernels run
// beside almost all of the profile's compute).
// `step`: the default scenario's step, simulated by the first case.
void kernel_case(const sim::StepResult& step, const std::shared_ptr<hw::DistanceCache>& distances) {
  constexpr std::string_view kTable = "deepseek-v3-h800-train";
  constexpr int kLayers = 4;
  const std::string text = scenario::builtin_kernel_table_text(kTable);
  if (text.empty()) throw std::logic_error("validate: the built-in kernel table is missing");
  const trace::KernelTable measured = trace::parse_kernel_table(text, fmt::format("<builtin>/{}.kernels.csv", kTable));
  const scenario::Scenario s = scenario::load_scenario(std::string(scenario::kDefaultScenario));
  const scenario::Phase& ph = s.training.phases.front();
  std::vector<model::Block> blocks;
  for (int l = s.model.dense_layers; l < s.model.dense_layers + kLayers; ++l) {
    blocks.push_back(model::build_block(s.model, ph.parallelism, s.precision, model::BlockKind::moe_layer, l,
                                        {ph.parallelism.micro_batch, ph.seq_len}));
  }
  // The preset's default profile is fitted to these very kernels (calibrate/profiles/deepseek-h800.yaml): its
  // column shows the fit. The public ceilings' column is the prediction made without the trace.
  const hw::CalibrationProfile& fitted = *s.hardware.profile;
  const hw::CalibrationProfile ceilings = scenario::load_profile("builtin:public-h800");
  const int sms = fitted.sms - ph.parallelism.comm_sms;
  const std::vector<trace::FamilyComparison> rows = trace::compare_families(blocks, ceilings, sms, measured);
  const std::vector<trace::FamilyComparison> fit = trace::compare_families(blocks, fitted, sms, measured);
  const auto fitted_us = [&](trace::KernelFamily f) {
    for (const trace::FamilyComparison& c : fit) {
      if (c.family == f) return c.predicted_us;
    }
    return 0.0;
  };
  fmt::print("\n{:<40} {:<20} {:>9} {:>9} {:>9} {:>13} {:>9}\n", "case", "kernel family (ms)", "measured", "ceilings",
             "error", fitted.name, "fit");
  const auto error = [](double predicted, double measured_us) {
    return predicted <= 0     ? std::string("not modelled")
           : measured_us <= 0 ? std::string("not measured")
                              : fmt::format("{:+.1f}%", 100 * reports::relative_error(predicted, measured_us));
  };
  double predicted = 0, fitted_total = 0, total = 0;
  std::string name = "DeepSeek-V3 kernels, 4 MoE layers";
  for (const trace::FamilyComparison& c : rows) {
    const double f = fitted_us(c.family);
    predicted += c.predicted_us;
    fitted_total += f;
    total += c.measured_us;
    fmt::print("{:<40} {:<20} {:>9.2f} {:>9.2f} {:>9} {:>13.2f} {:>9}\n", name, trace::family_name(c.family),
               c.measured_us / 1e3, c.predicted_us / 1e3, error(c.predicted_us, c.measured_us), f / 1e3,
               error(f, c.measured_us));
    name.clear();
  }
  fmt::print("{:<40} {:<20} {:>9.2f} {:>9.2f} {:>9} {:>13.2f} {:>9}\n", "", "every compute kernel", total / 1e3,
             predicted / 1e3, error(predicted, total), fitted_total / 1e3, error(fitted_total, total));
  fmt::print(
      "  source: measured, {}; predicted on {} of {} SMs (V3-TR §3.2.2: 20 SMs to communication) by the public\n"
      "          ceilings (public-h800, a prediction) and by {} (fitted to these kernels: the fit, not a test)\n",
      measured.provenance.size() > 1 ? measured.provenance[1] : "DeepSeek's published profile", sms, fitted.sms,
      fitted.name);
  pair_case(s, step, measured, distances);
}

}  // namespace

int validate_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kValidateHelp);
      return 0;
    }
    throw ConfigError(fmt::format("validate: unexpected argument \"{}\" (see tcsim validate --help)", a));
  }
  fmt::print("{:<40} {:<30} {:>12} {:>12} {:>9}\n", "case", "quantity", "predicted", "published", "error");
  const auto distances = std::make_shared<hw::DistanceCache>();  // every case's clusters
  std::optional<sim::StepResult> default_step;                   // the kernel case's pair reuses it
  for (const reports::PublishedStep& c : reports::published_steps()) {
    const scenario::Scenario s = scenario::load_scenario(c.scenario_ref);
    const sim::StepResult r = sim::simulate_step(sim::step_shape(s), {}, distances.get());
    if (c.scenario_ref == scenario::kDefaultScenario) default_step = r;
    const double err = reports::relative_error(r.gpu_hours_per_trillion_tokens, c.gpu_hours_per_trillion_tokens);
    fmt::print("{:<40} {:<30} {:>12} {:>12} {:>+8.1f}%\n", c.case_name, "GPU-hours per 1T tokens",
               to_count_string(r.gpu_hours_per_trillion_tokens), to_count_string(c.gpu_hours_per_trillion_tokens),
               100 * err);
    const double published_rate = 1e12 / (c.gpu_hours_per_trillion_tokens * kSecondsPerHour);
    fmt::print("{:<40} {:<30} {:>12.0f} {:>12.0f} {:>+8.1f}%\n", "", "tokens/s/GPU", r.tokens_per_second_per_gpu,
               published_rate, 100 * reports::relative_error(r.tokens_per_second_per_gpu, published_rate));
    fmt::print("  source: {}\n", c.source);
  }
  run_cases(distances);
  if (!default_step) {
    const scenario::Scenario s = scenario::load_scenario(std::string(scenario::kDefaultScenario));
    default_step = sim::simulate_step(sim::step_shape(s), {}, distances.get());
  }
  kernel_case(*default_step, distances);
  return 0;
}

}  // namespace tcsim::cli
