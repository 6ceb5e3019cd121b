// Command-line arguments, read the same way by every subcommand.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tcsim::cli {

// The value of `flag` at args[i] ("--flag VALUE" or "--flag=VALUE"), or
// nullopt when args[i] is another argument; advances i past a separate value.
// Throws ConfigError naming `command` when the value is missing.
std::optional<std::string> flag_value(std::span<const std::string> args, std::size_t& i, std::string_view flag,
                                      std::string_view command);

// A flag's whole-number value of at least `min`; throws ConfigError naming
// `flag` and the text otherwise.
int whole_number(std::string_view flag, std::string_view text, int min);

// Threads one process starts at most: --jobs beyond it is refused rather
// than failing to start threads (exit 1) or thrashing.
inline constexpr int kMaxJobs = 1024;
// --jobs N: a whole number from 1 to kMaxJobs.
int jobs_flag(std::string_view text);

// -h or --help among the arguments.
bool wants_help(std::span<const std::string> args);

}  // namespace tcsim::cli
