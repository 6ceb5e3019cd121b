// Loading a scenario: read YAML, follow `extends`, apply presets and --set
// overrides, parse units, validate every field and the cross-field rules, and
// return fully resolved structs. Throws ConfigError (file:line:column: key:
// what was expected, what was found) on any bad input; never anything else for
// bad input.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "calibrate/trace/families.h"
#include "scenarios/scenario.h"

namespace tcsim::scenario {

// `path` is a file, or "builtin:NAME" for a scenario compiled into the binary.
Scenario load_scenario(const std::string& path, std::span<const std::string> overrides = {});

// The scenario at `path` with --set `overrides` as one self-contained YAML
// file: `extends` merged, overrides applied, values relabelled and notes
// kept as the loader does (scenarios/provenance.h), a relative calibration
// path made absolute. Loading it gives the same Scenario, but for `file`
// and `overrides`. Throws ConfigError where load_scenario would.
std::string resolved_yaml(const std::string& path, std::span<const std::string> overrides = {});

// The text of a scenario as the loader reads it ("builtin:NAME" or a file,
// regular and under the loader's size cap), `extends` not followed. Throws
// ConfigError when there is none.
std::string scenario_text(const std::string& path);

// Loads from text; `file` names it in messages and anchors relative
// `extends` paths (its directory).
Scenario load_scenario_text(std::string_view text, const std::string& file,
                            std::span<const std::string> overrides = {});

struct Node;
// A scenario written as a map inside another document (a validation case's
// `scenario:`); `file` is the enclosing file, which anchors a relative
// `extends`; a `builtin` document's relative `extends` names a built-in
// scenario.
Scenario load_scenario_document(const Node& doc, const std::string& file, bool builtin = false);

// The scenario `tcsim run` uses with no argument.
inline constexpr std::string_view kDefaultScenario = "builtin:deepseek-v3";

// Scenarios compiled into the binary (from scenarios/*.yaml).
std::vector<std::string> builtin_scenario_names();
// The text of a built-in scenario, or empty when there is none by that name.
std::string_view builtin_scenario_text(std::string_view name);

// A calibration profile: a YAML file, or "builtin:NAME" for one compiled in
// (calibrate/profiles/*.yaml). Throws ConfigError on bad input.
hw::CalibrationProfile load_profile(const std::string& ref);
hw::CalibrationProfile load_profile_text(std::string_view text, const std::string& file);
std::vector<std::string> builtin_profile_names();
std::string_view builtin_profile_text(std::string_view name);

// Kernel tables derived from profiler traces (calibrate/profiles/NAME.kernels.csv,
// `tcsim trace kernels`), compiled in; empty text when there is none by that name.
std::vector<std::string> builtin_kernel_table_names();
std::string builtin_kernel_table_text(std::string_view name);

// A user's kernel families for trace reading: a YAML file
//   families:
//     - {pattern: "my_fused_rmsnorm", family: norm}
// whose patterns go before the built-in table (calibrate/trace/families.h).
// Throws ConfigError (file:line:column, key, what was expected).
std::vector<trace::FamilyPattern> load_family_patterns(const std::string& path);
std::vector<trace::FamilyPattern> load_family_patterns_text(std::string_view text, const std::string& file);

// Closest candidate by edit distance, or empty when none is close enough.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);

}  // namespace tcsim::scenario
