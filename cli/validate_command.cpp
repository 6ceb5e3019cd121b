// `tcsim validate`: every case tcsim can check against a published figure,
// predicted next to published with the error. Exit 0 whatever the errors: the
// command reports, it does not judge (docs/validation.md says what each gap
// means).
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "reports/step_report.h"
#include "scenarios/loader.h"
#include "sim/step.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kValidateHelp = R"(Usage: tcsim validate

Runs the repository's validation cases and prints tcsim's prediction next to the
published figure, with the relative error (predicted - published) / published:
  - steady-state training step: GPU-hours per trillion tokens (symmetric fidelity)
docs/validation.md explains each case and each gap. Exits 0.
)";

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
  for (const reports::PublishedStep& c : reports::published_steps()) {
    const scenario::Scenario s = scenario::load_scenario(c.scenario_ref);
    const sim::StepResult r = sim::simulate_step(s, {});
    const double err = reports::relative_error(r.gpu_hours_per_trillion_tokens, c.gpu_hours_per_trillion_tokens);
    fmt::print("{:<40} {:<30} {:>12} {:>12} {:>+8.1f}%\n", c.case_name, "GPU-hours per 1T tokens",
               to_count_string(r.gpu_hours_per_trillion_tokens), to_count_string(c.gpu_hours_per_trillion_tokens),
               100 * err);
    const double published_rate = 1e12 / (c.gpu_hours_per_trillion_tokens * kSecondsPerHour);
    fmt::print("{:<40} {:<30} {:>12.0f} {:>12.0f} {:>+8.1f}%\n", "", "tokens/s/GPU", r.tokens_per_second_per_gpu,
               published_rate, 100 * reports::relative_error(r.tokens_per_second_per_gpu, published_rate));
    fmt::print("  source: {}\n", c.source);
  }
  return 0;
}

}  // namespace tcsim::cli
