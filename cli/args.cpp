#include "cli/args.h"

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim::cli {

std::optional<std::string> flag_value(std::span<const std::string> args, std::size_t& i, std::string_view flag,
                                      std::string_view command) {
  const std::string& a = args[i];
  if (a == flag) {
    if (i + 1 == args.size()) {
      throw ConfigError(fmt::format("{}: {} needs a value (see tcsim {} --help)", command, flag, command));
    }
    return args[++i];
  }
  if (a.size() > flag.size() && a.starts_with(flag) && a[flag.size()] == '=') return a.substr(flag.size() + 1);
  return std::nullopt;
}

bool wants_help(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace tcsim::cli
