// One error channel per kind: ConfigError for anything a user typed (scenario
// files, --set overrides, CLI flags). Our own bugs are assertions. Library code
// never calls exit; the CLI maps ConfigError to exit code 2.
#pragma once

#include <stdexcept>
#include <string>

namespace tcsim {

// Where a value came from: a file and a 1-based line and column, or a
// command-line override ("--set", column within the argument).
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

std::string to_string(const SourceLoc& loc);

class ConfigError : public std::runtime_error {
 public:
  // Renders "file:line:column: key.path: message".
  ConfigError(const SourceLoc& loc, const std::string& key_path, const std::string& message);
  // For errors with no location (a CLI flag).
  explicit ConfigError(const std::string& message);

  // The parts what() renders, for callers that present them apart (the
  // Python module's exception): an empty file for errors with no location.
  const SourceLoc& loc() const { return loc_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& message() const { return message_; }

 private:
  SourceLoc loc_;
  std::string key_path_;
  std::string message_;
};

}  // namespace tcsim
