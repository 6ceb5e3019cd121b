// The CLI's subcommands. Each takes the arguments after its name, prints to
// stdout, and throws ConfigError for bad flags or input.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tcsim::cli {

inline constexpr std::string_view kVersion = "0.1.0";

int run_command(std::span<const std::string> args);
int list_command(std::span<const std::string> args);
int collective_command(std::span<const std::string> args);

}  // namespace tcsim::cli
