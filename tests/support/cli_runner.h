// Runs the built tcsim binary through the shell for end-to-end tests,
// capturing its exit code, standard output and standard error.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tcsim_test {

struct CliResult {
  int code = -1;  // exit code; -1 when the process did not exit normally
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `binary ARGS`, with stdout and stderr captured in files unique to this call.
inline CliResult run_cli(const std::string& binary, const std::string& args) {
  static int calls = 0;
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++calls);
  const auto out = dir / ("tcsim-cli-out-" + tag);
  const auto err = dir / ("tcsim-cli-err-" + tag);
  const std::string cmd = binary + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace tcsim_test
