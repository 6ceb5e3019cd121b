#include "cli/args.h"

#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim::cli {

int whole_number(std::string_view flag, std::string_view text, int min) {
  int x = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || x < min) {
    throw ConfigError(fmt::format("{}: expected a whole number >= {}, got \"{}\"", flag, min, text));
  }
  return x;
}

int jobs_flag(std::string_view text) {
  const int n = whole_number("--jobs", text, 1);
  if (n > kMaxJobs) {
    throw ConfigError(fmt::format("--jobs: at most {} threads, got {}", kMaxJobs, n));
  }
  return n;
}

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
