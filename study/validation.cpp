// Validation cases run through the same paths as `tcsim run`: the step
// simulation (symmetric fidelity, the default), the run-level evaluation, and
// the op-time model beside a measured kernel table.
#include "study/validation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>

#include "calibrate/trace/kernel_table.h"
#include "calibrate/trace/op_families.h"
#include "cost/evaluation.h"
#include "model/ops.h"
#include "scenarios/loader.h"
#include "sim/run_level.h"
#include "sim/step.h"

namespace tcsim::study {
namespace {

using scenario::CaseQuantity;

std::string step_prediction(const scenario::Scenario& s, const sim::StepResult& r) {
  return fmt::format("{} step ({} of {} GPUs simulated), profile {}",
                     r.fidelity == sim::Fidelity::full ? "full-fidelity" : "symmetric", r.simulated_gpus, r.gpus,
                     s.hardware.profile ? s.hardware.profile->name : std::string("none"));
}

}  // namespace

double predict_step_figure(const scenario::PublishedFigure& f, const scenario::Scenario& s, const sim::StepResult& r) {
  const auto tflops = [&] {
    if (*f.flops == scenario::FlopConvention::tcsim) return r.flops_per_gpu.value() / 1e12;
    return convention_flops_per_step(*f.flops, s) / (r.time.value() * r.gpus) / 1e12;
  };
  switch (f.quantity) {
    case CaseQuantity::step_time_s: return r.time.value();
    case CaseQuantity::tokens_per_s_per_gpu: return r.tokens_per_second_per_gpu;
    case CaseQuantity::gpu_hours_per_trillion_tokens: return r.gpu_hours_per_trillion_tokens;
    case CaseQuantity::tflops_per_gpu: return tflops();
    case CaseQuantity::mfu: {
      const double peak = f.peak_tflops > 0 ? f.peak_tflops : s.hardware.gpu.bf16_dense.value() / 1e12;
      return tflops() / peak;
    }
    default: break;
  }
  throw std::logic_error("validation: not a step quantity");
}

namespace {

// The built-in cases' figures, read once: (kind, scenario name, figure).
struct CaseFigure {
  scenario::CaseKind kind;
  std::string scenario_name;
  PublishedStepFigure figure;
};

const std::vector<CaseFigure>& builtin_figures() {
  static const std::vector<CaseFigure> kFigures = [] {
    std::vector<CaseFigure> out;
    for (const std::string& name : scenario::builtin_case_names()) {
      const scenario::ValidationCase c = scenario::load_validation_case("builtin:" + name);
      for (const scenario::PublishedFigure& f : c.published) out.push_back({c.kind, c.scenario.name, {name, f}});
    }
    return out;
  }();
  return kFigures;
}

std::vector<PublishedStepFigure> figures_of(scenario::CaseKind kind, const scenario::Scenario& s) {
  std::vector<PublishedStepFigure> found;
  for (const CaseFigure& c : builtin_figures()) {
    if (c.kind == kind && c.scenario_name == s.name) found.push_back(c.figure);
  }
  return found;
}

}  // namespace

std::vector<PublishedStepFigure> published_step_figures(const scenario::Scenario& s) {
  return figures_of(scenario::CaseKind::step, s);
}

std::vector<PublishedStepFigure> published_run_figures(const scenario::Scenario& s) {
  return figures_of(scenario::CaseKind::run, s);
}

std::optional<double> predict_step_figure_from_time(const scenario::PublishedFigure& f, const scenario::Scenario& s,
                                                    Seconds step, std::int64_t batch) {
  if (s.training.phases.empty() || !(step.value() > 0)) return std::nullopt;
  const double tokens = static_cast<double>(batch) * s.training.phases.front().seq_len;
  const double per_gpu = tokens / step.value() / scenario::gpu_count(s);
  switch (f.quantity) {
    case CaseQuantity::step_time_s: return step.value();
    case CaseQuantity::tokens_per_s_per_gpu: return per_gpu;
    case CaseQuantity::gpu_hours_per_trillion_tokens: return 1e12 / (per_gpu * kSecondsPerHour);
    default: return std::nullopt;
  }
}

double predict_run_figure(const scenario::PublishedFigure& f, const cost::Evaluation& e) {
  if (f.quantity == CaseQuantity::final_run_usd) return e.ledger.final_run.value();
  if (f.phase.empty()) return e.run.gpu_hours_total.value();
  double p = 0;
  bool any = false;
  for (const sim::PhaseResult& ph : e.run.phases) {
    if (!ph.name.starts_with(f.phase)) continue;
    p += ph.gpu_hours.value();
    any = true;
  }
  if (!any) throw std::runtime_error(fmt::format("no phase of the scenario starts with \"{}\"", f.phase));
  return p;
}

namespace {

void run_step_case(const scenario::ValidationCase& c, const std::shared_ptr<hw::TopologyCache>& distances,
                   CaseResult& out) {
  const scenario::Scenario& s = c.scenario;
  const scenario::Phase& first = s.training.phases.front();
  out.memory = model::memory_per_gpu(s.model, first.parallelism, s.precision, first.seq_len,
                                     s.hardware.gpu.hbm_capacity, s.memory);
  const sim::StepResult r = sim::simulate_step(sim::step_shape(s), {}, distances.get());
  out.prediction = step_prediction(s, r);
  for (const scenario::PublishedFigure& f : c.published) {
    const double p = predict_step_figure(f, s, r);
    out.figures.push_back({.figure = f, .predicted = p, .error = relative_error(p, f.value)});
  }
}

void run_run_case(const scenario::ValidationCase& c, const std::shared_ptr<hw::TopologyCache>& distances,
                  CaseResult& out) {
  const scenario::Scenario& s = c.scenario;
  const cost::Evaluation e = cost::evaluate(s, sim::interpolated_oracle(sim::step_simulation_oracle(s, {}, distances)));
  out.prediction = fmt::format("run-level simulation over {}", e.run.oracle.name);
  for (const scenario::PublishedFigure& f : c.published) {
    const double p = predict_run_figure(f, e);
    out.figures.push_back({.figure = f, .predicted = p, .error = relative_error(p, f.value)});
  }
}

// The kernels of one DualPipe pair (a forward and a backward chunk of
// `kernel_layers` MoE layers, one micro-batch) as a measured table holds
// them, beside the op-time model's time for the same work: the scenario's
// first MoE layers, its plan and precision, every pass, on the SMs its
// communication kernels leave. Predicted once from the public ceilings of the
// GPU (a prediction made without the trace) and once from its default
// profile (which may be fitted to this very table: shown, never scored).
void run_kernels_case(const scenario::ValidationCase& c, const std::shared_ptr<hw::TopologyCache>& distances,
                      CaseResult& out) {
  const scenario::Scenario& s = c.scenario;
  const std::string text = scenario::builtin_kernel_table_text(c.kernel_table);
  if (text.empty()) throw std::runtime_error(fmt::format("no built-in kernel table \"{}\"", c.kernel_table));
  const trace::KernelTable measured =
      trace::parse_kernel_table(text, fmt::format("<builtin>/{}.kernels.csv", c.kernel_table));
  const scenario::Phase& ph = s.training.phases.front();
  std::vector<model::Block> blocks;
  for (int l = s.model.dense_layers; l < s.model.dense_layers + c.kernel_layers; ++l) {
    blocks.push_back(model::build_block(s.model, ph.parallelism, s.precision, model::BlockKind::moe_layer, l,
                                        {ph.parallelism.micro_batch, ph.seq_len}));
  }
  const hw::CalibrationProfile& fitted = *s.hardware.profile;
  const hw::CalibrationProfile ceilings = scenario::load_profile("builtin:public-" + s.hardware.gpu.name);
  const int sms = fitted.sms - ph.parallelism.comm_sms;
  const std::vector<trace::FamilyComparison> rows = trace::compare_families(blocks, ceilings, sms, measured);
  const std::vector<trace::FamilyComparison> fit = trace::compare_families(blocks, fitted, sms, measured);
  double predicted_us = 0, measured_us = 0;
  for (const trace::FamilyComparison& r : rows) {
    double fitted_us = 0;
    for (const trace::FamilyComparison& f : fit) {
      if (f.family == r.family) fitted_us = f.predicted_us;
    }
    out.families.push_back({.family = std::string(trace::family_name(r.family)),
                            .measured_ms = r.measured_us / 1e3,
                            .ceilings_ms = r.predicted_us / 1e3,
                            .fitted_ms = fitted_us / 1e3});
    predicted_us += r.predicted_us;
    measured_us += r.measured_us;
  }
  // The pair's duration: under DualPipe each further micro-batch adds one
  // forward chunk overlapped with one backward chunk to every rank once the
  // step is past its warm-up (tests/sim), so the slope of the step in the
  // micro-batches per pipeline is the critical rank's pair, its all-to-alls
  // and pipeline transfers overlapped as the engine runs them.
  double pair_ms = 0;
  double span_ms = 0;
  const bool wants_pair = std::any_of(c.published.begin(), c.published.end(), [](const scenario::PublishedFigure& f) {
    return f.quantity == CaseQuantity::pipeline_pair_ms;
  });
  if (wants_pair) {
    const sim::StepResult b = sim::simulate_step(sim::step_shape(s), {}, distances.get());
    scenario::Scenario half = s;
    half.training.phases.front().batch /= 2;
    const sim::StepResult a = sim::simulate_step(sim::step_shape(half), {}, distances.get());
    pair_ms = (b.time - a.time).value() / static_cast<double>(b.micro_batches - a.micro_batches) * 1e3;
    double first = 0, last = 0;
    for (std::size_t i = 0; i < measured.rows.size(); ++i) {
      const trace::KernelRow& r = measured.rows[i];
      first = i == 0 ? r.start_us : std::min(first, r.start_us);
      last = i == 0 ? r.start_us + r.duration_us : std::max(last, r.start_us + r.duration_us);
    }
    span_ms = (last - first) / 1e3;
  }
  out.prediction = fmt::format("op-time model on {} of {} SMs, public ceilings {} (fitted profile {} shown apart)", sms,
                               fitted.sms, ceilings.name, fitted.name);
  for (const scenario::PublishedFigure& f : c.published) {
    // A figure without a value is the table's own measurement.
    scenario::PublishedFigure shown = f;
    const bool kernels = f.quantity == CaseQuantity::compute_kernels_ms;
    if (shown.value <= 0) shown.value = kernels ? measured_us / 1e3 : span_ms;
    const double p = kernels ? predicted_us / 1e3 : pair_ms;
    out.figures.push_back({.figure = shown, .predicted = p, .error = relative_error(p, shown.value)});
  }
}

}  // namespace

double relative_error(double predicted, double published) { return (predicted - published) / published; }

double convention_flops_per_step(scenario::FlopConvention convention, const scenario::Scenario& s) {
  const scenario::Phase& ph = s.training.phases.front();
  const double B = static_cast<double>(ph.batch), seq = ph.seq_len, l = s.model.layers, h = s.model.hidden,
               V = s.model.vocab;
  switch (convention) {
    case scenario::FlopConvention::megatron_2021:
      return 96 * B * seq * l * h * h * (1 + seq / (6 * h) + V / (16 * l * h));
    case scenario::FlopConvention::megatron_model:
      return 72 * B * seq * l * h * h * (1 + seq / (6 * h) + V / (12 * l * h));
    case scenario::FlopConvention::tcsim: break;
  }
  throw std::logic_error("validation: the tcsim convention is counted by the step");
}

CaseResult run_case(const scenario::ValidationCase& c, const std::shared_ptr<hw::TopologyCache>& distances) {
  CaseResult out{.name = c.name, .title = c.title, .kind = c.kind, .source = c.source, .plan_ran = c.plan_ran};
  const auto start = std::chrono::steady_clock::now();
  try {
    switch (c.kind) {
      case scenario::CaseKind::step: run_step_case(c, distances, out); break;
      case scenario::CaseKind::run: run_run_case(c, distances, out); break;
      case scenario::CaseKind::kernels: run_kernels_case(c, distances, out); break;
    }
  } catch (const std::exception& e) {
    out.failure = e.what();
    out.figures.clear();
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

double mean_absolute_error(const std::vector<CaseResult>& results) {
  double sum = 0;
  int n = 0;
  for (const CaseResult& r : results) {
    for (const FigureResult& f : r.figures) {
      sum += std::abs(f.error);
      ++n;
    }
  }
  return n == 0 ? 0 : sum / n;
}

}  // namespace tcsim::study
