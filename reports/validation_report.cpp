#include "reports/validation_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/units.h"

namespace tcsim::reports {
namespace {

using scenario::CaseQuantity;

}  // namespace

std::string figure_value(const scenario::PublishedFigure& f, double v) {
  switch (f.quantity) {
    case CaseQuantity::step_time_s: return fmt::format("{:.2f} s", v);
    case CaseQuantity::tokens_per_s_per_gpu: return fmt::format("{:.0f}", v);
    case CaseQuantity::gpu_hours_per_trillion_tokens:
    case CaseQuantity::gpu_hours: return to_count_string(v);
    case CaseQuantity::tflops_per_gpu: return fmt::format("{:.1f}", v);
    case CaseQuantity::mfu: return fmt::format("{:.1f}%", 100 * v);
    case CaseQuantity::final_run_usd: return to_string(Dollars(v));
    case CaseQuantity::compute_kernels_ms:
    case CaseQuantity::pipeline_pair_ms: return fmt::format("{:.1f} ms", v);
  }
  return fmt::format("{}", v);
}

namespace {

std::string flops_note(const scenario::PublishedFigure& f) {
  return f.flops ? fmt::format(" ({})", name_of<scenario::FlopConvention>(scenario::kFlopConventions, *f.flops)) : "";
}

double gib(Bytes b) { return b.value() / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

std::string quantity_label(const scenario::PublishedFigure& f) {
  switch (f.quantity) {
    case CaseQuantity::step_time_s: return "step time";
    case CaseQuantity::tokens_per_s_per_gpu: return "tokens/s/GPU";
    case CaseQuantity::gpu_hours_per_trillion_tokens: return "GPU-hours per 1T tokens";
    case CaseQuantity::tflops_per_gpu: return "TFLOP/s per GPU" + flops_note(f);
    case CaseQuantity::mfu: return "MFU" + flops_note(f);
    case CaseQuantity::gpu_hours: return f.phase.empty() ? "GPU-hours, whole run" : "GPU-hours, " + f.phase;
    case CaseQuantity::final_run_usd: return "final-run cost";
    case CaseQuantity::compute_kernels_ms: return "compute kernels, one pair";
    case CaseQuantity::pipeline_pair_ms: return "DualPipe pair";
  }
  return "?";
}

std::string validation_table(const std::vector<study::CaseResult>& results) {
  std::string out =
      fmt::format("{:<34} {:<34} {:>13} {:>13} {:>8}\n", "case", "quantity", "published", "predicted", "error");
  std::vector<std::pair<double, std::string>> misses;
  std::vector<const study::CaseResult*> failed;
  int figures = 0;
  for (const study::CaseResult& r : results) {
    if (!r.failure.empty()) {
      failed.push_back(&r);
      out += fmt::format("{:<34} {}\n", r.name, "could not run (below)");
      continue;
    }
    std::string name = r.name;
    for (const study::FigureResult& f : r.figures) {
      out += fmt::format("{:<34} {:<34} {:>13} {:>13} {:>+7.1f}%\n", name, quantity_label(f.figure),
                         figure_value(f.figure, f.figure.value), figure_value(f.figure, f.predicted), 100 * f.error);
      misses.emplace_back(std::abs(f.error),
                          fmt::format("{} {} {:+.1f}%", r.name, quantity_label(f.figure), 100 * f.error));
      name.clear();
      ++figures;
    }
  }
  out += fmt::format("\nMean absolute error: {:.1f}% over {} figures of {} cases\n",
                     100 * study::mean_absolute_error(results), figures, results.size() - failed.size());
  std::sort(misses.begin(), misses.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (!misses.empty()) {
    out += "Biggest misses:";
    for (std::size_t i = 0; i < std::min<std::size_t>(3, misses.size()); ++i) out += "\n  " + misses[i].second;
    out += "\n";
  }

  bool header = false;
  for (const study::CaseResult& r : results) {
    if (!r.memory) continue;
    if (!header) {
      out += fmt::format("\n{:<34} {:>12} {:>12} {:>6}  {}\n", "memory per GPU (first phase)", "peak", "capacity",
                         "fits", "plan");
      header = true;
    }
    const model::MemoryBudget& m = *r.memory;
    out += fmt::format("{:<34} {:>8.1f} GiB {:>8.1f} GiB {:>6}  {}\n", r.name, gib(m.total), gib(m.capacity),
                       m.fits ? "yes" : "NO",
                       r.plan_ran ? (m.fits ? "trained as published: fits as modelled"
                                            : "trained as published: the memory model is wrong here")
                                  : "a what-if plan");
  }

  for (const study::CaseResult& r : results) {
    if (r.families.empty()) continue;
    out += fmt::format("\n{}: kernel families (ms)\n{:<22} {:>9} {:>9} {:>9} {:>9}\n", r.name, "family", "measured",
                       "ceilings", "error", "fitted");
    for (const study::FamilyRow& f : r.families) {
      const std::string err = f.ceilings_ms <= 0 ? "not modelled"
                              : f.measured_ms <= 0
                                  ? "not measured"
                                  : fmt::format("{:+.1f}%", 100 * study::relative_error(f.ceilings_ms, f.measured_ms));
      out += fmt::format("{:<22} {:>9.2f} {:>9.2f} {:>9} {:>9.2f}\n", f.family, f.measured_ms, f.ceilings_ms, err,
                         f.fitted_ms);
    }
    out += "  (fitted: the GPU's default profile, fitted to these kernels: the fit, not a test)\n";
  }

  out += "\nSources and how each prediction was made:\n";
  for (const study::CaseResult& r : results) {
    out += fmt::format("  {}: {}\n    {}\n", r.name, r.title, r.source);
    if (r.failure.empty()) {
      out += fmt::format("    predicted by {} in {:.1f} s\n", r.prediction, r.seconds);
    } else {
      out += fmt::format("    could not run: {}\n", r.failure);
    }
  }
  return out;
}

Json validation_json(const std::vector<study::CaseResult>& results) {
  Json j = Json::object();
  j.set("mean_absolute_error", study::mean_absolute_error(results));
  Json& cases = j.set("cases", Json::array());
  for (const study::CaseResult& r : results) {
    Json c = Json::object();
    c.set("name", r.name);
    c.set("title", r.title);
    c.set("kind", name_of<scenario::CaseKind>(scenario::kCaseKinds, r.kind));
    c.set("source", r.source);
    c.set("ran", r.failure.empty());
    if (!r.failure.empty()) c.set("failure", r.failure);
    c.set("prediction", r.prediction);
    c.set("seconds", r.seconds);
    Json& figs = c.set("figures", Json::array());
    for (const study::FigureResult& f : r.figures) {
      Json x = Json::object();
      x.set("quantity", name_of<CaseQuantity>(scenario::kCaseQuantities, f.figure.quantity));
      if (f.figure.flops)
        x.set("flops", name_of<scenario::FlopConvention>(scenario::kFlopConventions, *f.figure.flops));
      if (!f.figure.phase.empty()) x.set("phase", f.figure.phase);
      x.set("published", f.figure.value);
      x.set("predicted", f.predicted);
      x.set("error", f.error);
      x.set("source", f.figure.source);
      figs.push(std::move(x));
    }
    if (r.memory) {
      Json& m = c.set("memory", Json::object());
      m.set("peak_bytes", r.memory->total.value());
      m.set("capacity_bytes", r.memory->capacity.value());
      m.set("peak_stage", r.memory->peak_stage);
      m.set("fits", r.memory->fits);
      m.set("plan_ran", r.plan_ran);
    }
    if (!r.families.empty()) {
      Json& fam = c.set("kernel_families_ms", Json::array());
      for (const study::FamilyRow& f : r.families) {
        Json x = Json::object();
        x.set("family", f.family);
        x.set("measured", f.measured_ms);
        x.set("ceilings", f.ceilings_ms);
        x.set("fitted", f.fitted_ms);
        fam.push(std::move(x));
      }
    }
    cases.push(std::move(c));
  }
  return j;
}

}  // namespace tcsim::reports
