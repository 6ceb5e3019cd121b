// `tcsim validate`: the validation suite, one case per published figure set
// (validation/*.yaml, compiled in; or a folder of the user's), predicted next
// to published with the error. The command reports, it does not judge: it
// exits 0 whatever the errors, 1 when a case could not run, 2 on bad input.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "hardware/topology.h"
#include "reports/validation_report.h"
#include "scenarios/validation_case.h"
#include "study/validation.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kValidateHelp = R"(Usage: tcsim validate [--case NAME]... [--dir DIR] [--list] [--json]

Runs the validation suite: every case is a published training figure (a step time,
a throughput, a GPU-hour total, a cost, a kernel time) with the scenario that states
the run it came from, its source and the choices the case makes where the source is
silent. Prints, per figure, the published value, tcsim's prediction and the relative
error (predicted - published) / published; the mean absolute error; the memory peak
of every plan that trained as published (it must fit as modelled); and the source
of each case. Nothing is tuned toward a published figure: docs/validation.md explains
each case and each miss.

  --case NAME   run only this case (repeatable); NAME is a case's file stem
  --dir DIR     the cases of DIR/*.yaml instead of the built-in suite (validation/)
  --list        list the cases and their sources, run nothing
  --json        one JSON object: cases, figures, memory, mean_absolute_error

Exit status: 0 when every case ran (whatever its error), 1 when a case could not
run, 2 on bad input (a case file's error names file:line:column and the key).
)";

struct Options {
  std::vector<std::string> cases;
  std::string dir;
  bool list = false;
  bool json = false;
};

Options parse(std::span<const std::string> args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto v = flag_value(args, i, "--case", "validate")) {
      o.cases.push_back(*v);
    } else if (auto d = flag_value(args, i, "--dir", "validate")) {
      o.dir = *d;
    } else if (args[i] == "--list") {
      o.list = true;
    } else if (args[i] == "--json") {
      o.json = true;
    } else {
      throw ConfigError(fmt::format("validate: unexpected argument \"{}\" (see tcsim validate --help)", args[i]));
    }
  }
  return o;
}

// Case references in name order: "builtin:NAME", or the files of `dir`.
std::vector<std::pair<std::string, std::string>> case_refs(const Options& o) {
  std::vector<std::pair<std::string, std::string>> refs;  // name, reference
  if (o.dir.empty()) {
    for (const std::string& n : scenario::builtin_case_names()) refs.emplace_back(n, "builtin:" + n);
  } else {
    std::error_code ec;
    if (!std::filesystem::is_directory(o.dir, ec)) {
      throw ConfigError(fmt::format("validate: --dir {}: not a directory", o.dir));
    }
    for (const auto& e : std::filesystem::directory_iterator(o.dir, ec)) {
      if (e.path().extension() == ".yaml") refs.emplace_back(e.path().stem().string(), e.path().string());
    }
    if (ec) throw ConfigError(fmt::format("validate: --dir {}: {}", o.dir, ec.message()));
  }
  std::sort(refs.begin(), refs.end());
  if (o.cases.empty()) return refs;
  std::vector<std::pair<std::string, std::string>> chosen;
  for (const std::string& want : o.cases) {
    const auto it = std::find_if(refs.begin(), refs.end(), [&](const auto& r) { return r.first == want; });
    if (it == refs.end()) {
      std::vector<std::string> names;
      for (const auto& r : refs) names.push_back(r.first);
      throw ConfigError(fmt::format("validate: --case {}: no such case (cases: {})", want, fmt::join(names, ", ")));
    }
    chosen.push_back(*it);
  }
  return chosen;
}

}  // namespace

int validate_command(std::span<const std::string> args) {
  if (wants_help(args)) {
    fmt::print("{}", kValidateHelp);
    return 0;
  }
  const Options o = parse(args);
  // Every case is read (and its scenario checked) before anything runs, so
  // a bad file stops the suite at once with its location.
  std::vector<scenario::ValidationCase> cases;
  for (const auto& [name, ref] : case_refs(o)) cases.push_back(scenario::load_validation_case(ref));
  if (o.list) {
    for (const scenario::ValidationCase& c : cases) fmt::print("{:<34} {}\n{:<34} {}\n", c.name, c.title, "", c.source);
    return 0;
  }
  const auto distances = std::make_shared<hw::TopologyCache>();  // every case's clusters
  std::vector<study::CaseResult> results;
  for (const scenario::ValidationCase& c : cases) results.push_back(study::run_case(c, distances));
  if (o.json) {
    fmt::print("{}\n", reports::validation_json(results).dump());
  } else {
    fmt::print("{}", reports::validation_table(results));
  }
  const bool all_ran =
      std::all_of(results.begin(), results.end(), [](const study::CaseResult& r) { return r.failure.empty(); });
  return all_ran ? 0 : 1;
}

}  // namespace tcsim::cli
