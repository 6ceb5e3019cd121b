#include "core/error.h"

#include <fmt/format.h>

namespace tcsim {

std::string to_string(const SourceLoc& loc) {
  if (loc.file.empty()) return "<input>";
  if (loc.line <= 0) return loc.file;
  return fmt::format("{}:{}:{}", loc.file, loc.line, loc.column);
}

namespace {
std::string render(const SourceLoc& loc, const std::string& key_path, const std::string& message) {
  if (key_path.empty()) return fmt::format("{}: {}", to_string(loc), message);
  return fmt::format("{}: {}: {}", to_string(loc), key_path, message);
}
}  // namespace

ConfigError::ConfigError(const SourceLoc& loc, const std::string& key_path, const std::string& message)
    : std::runtime_error(render(loc, key_path, message)), loc_(loc), key_path_(key_path), message_(message) {}

ConfigError::ConfigError(const std::string& message) : std::runtime_error(message), message_(message) {}

}  // namespace tcsim
