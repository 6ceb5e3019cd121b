// tcsim: training-cost and hardware accounting simulator. The command line
// maps user errors (ConfigError) to exit code 2 and anything else to 1.
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return tcsim::cli::dispatch(args);
  } catch (const tcsim::ConfigError& e) {
    fmt::print(stderr, "tcsim: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "tcsim: internal error: {}\n", e.what());
    return 1;
  }
}
