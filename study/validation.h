// Running a validation case (scenarios/validation_case.h): simulate what the
// case's kind needs and set each published figure beside tcsim's prediction
// of the same quantity, counted the way the source counts it. Nothing here
// judges: a miss is reported with its size (docs/validation.md explains each).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cost/evaluation.h"
#include "hardware/topology.h"
#include "model/memory.h"
#include "scenarios/validation_case.h"
#include "sim/step.h"

namespace tcsim::study {

struct FigureResult {
  scenario::PublishedFigure figure;
  double predicted = 0;  // same unit as figure.value
  double error = 0;      // (predicted - published) / published
};

// One kernel family of a `kernels` case: measured, predicted from public
// ceilings, and from the GPU's default (fitted) profile.
struct FamilyRow {
  std::string family;
  double measured_ms = 0;
  double ceilings_ms = 0;
  double fitted_ms = 0;
};

struct CaseResult {
  std::string name;
  std::string title;
  scenario::CaseKind kind = scenario::CaseKind::step;
  std::string source;
  std::vector<FigureResult> figures;
  // Step cases: the memory peak of the first phase's plan and whether a plan
  // that trained as published fits as modelled.
  std::optional<model::MemoryBudget> memory;
  bool plan_ran = true;
  std::string prediction;  // how the prediction was made (fidelity, oracle, profile)
  std::vector<FamilyRow> families;
  std::string failure;  // non-empty: the case could not run, and why
  double seconds = 0;   // wall time to run it
};

// A published figure of a built-in step case whose scenario has `s`'s name:
// what `tcsim run` sets beside its step. The suite is the one list of
// published figures.
struct PublishedStepFigure {
  std::string case_name;
  scenario::PublishedFigure figure;
};
std::vector<PublishedStepFigure> published_step_figures(const scenario::Scenario& s);

// The same for the built-in run cases (GPU-hours per phase or in all, the
// final run's dollars).
std::vector<PublishedStepFigure> published_run_figures(const scenario::Scenario& s);

// tcsim's value of a step quantity, counted as the figure's source counts it.
double predict_step_figure(const scenario::PublishedFigure& f, const scenario::Scenario& s, const sim::StepResult& r);

// A step quantity that follows from the step's time alone (step time,
// tokens per second per GPU, GPU-hours per trillion tokens) for a step of
// `batch` sequences of the first phase; nullopt for the others.
std::optional<double> predict_step_figure_from_time(const scenario::PublishedFigure& f, const scenario::Scenario& s,
                                                    Seconds step, std::int64_t batch);

// tcsim's value of a run quantity for an evaluated run: GPU-hours of the
// phases whose names start with the figure's phase (all phases when it names
// none), or the final run at the rental rate. Throws std::runtime_error when
// no phase matches.
double predict_run_figure(const scenario::PublishedFigure& f, const cost::Evaluation& e);

// Runs one case; an error inside the simulation is caught and returned as
// `failure`, so one broken case never hides the others.
CaseResult run_case(const scenario::ValidationCase& c, const std::shared_ptr<hw::TopologyCache>& distances);

// The error of a prediction against a published value: (p - v) / v.
double relative_error(double predicted, double published);

// Mean of |error| over every figure of the cases that ran; 0 when none.
double mean_absolute_error(const std::vector<CaseResult>& results);

// A published TFLOP/s per GPU counted by `convention` for a step of
// `step_seconds` of the scenario's first phase (independent closed forms:
// arXiv:2104.04473 eq. 3; arXiv:2205.05198 §6).
double convention_flops_per_step(scenario::FlopConvention convention, const scenario::Scenario& s);

}  // namespace tcsim::study
