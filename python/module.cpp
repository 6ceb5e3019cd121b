// The Python module's native half (`tcsim._tcsim`): the command line's
// dispatcher, run in this process. `call(args)` runs one command and returns
// what it printed on stdout (the JSON of --json); a bad input raises
// ConfigError with its parts, any other failure RuntimeError. The Python half
// (python/tcsim/__init__.py) builds the arguments and reads the JSON.
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cli/commands.h"
#include "core/error.h"

namespace py = pybind11;

namespace {

// Runs `f` with the process's stdout (file descriptor 1) sent to a temporary
// file, and returns what was written there. Commands print through C stdio,
// which Python's sys.stdout never sees; the descriptor is put back even when
// `f` throws.
template <class F>
std::string captured_stdout(F&& f) {
  std::fflush(stdout);
  std::FILE* tmp = std::tmpfile();
  if (tmp == nullptr) throw std::runtime_error("tcsim: cannot create a temporary file for the output");
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(::fileno(tmp), STDOUT_FILENO);
  const auto restore = [&] {
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
  };
  try {
    f();
  } catch (...) {
    restore();
    std::fclose(tmp);
    throw;
  }
  restore();
  std::string out;
  std::rewind(tmp);
  char buffer[65536];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, tmp)) > 0;) out.append(buffer, n);
  std::fclose(tmp);
  return out;
}

}  // namespace

PYBIND11_MODULE(_tcsim, m) {
  m.doc() = "tcsim's commands, run in this process (use the tcsim package, not this module)";
  static py::exception<tcsim::ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  m.def(
      "call",
      [](const std::vector<std::string>& args) {
        int code = 0;
        std::string out;
        {
          py::gil_scoped_release release;  // a sweep or a plan runs on its own threads
          out = captured_stdout([&] { code = tcsim::cli::dispatch(args); });
        }
        return py::make_tuple(code, py::bytes(out));
      },
      py::arg("args"), "Runs `tcsim ARGS...`; returns (exit code, stdout as bytes).");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tcsim::ConfigError& e) {
      // args: (text, file, line, column, key path, message)
      const py::tuple args =
          py::make_tuple(e.what(), e.loc().file, e.loc().line, e.loc().column, e.key_path(), e.message());
      PyErr_SetObject(config_error.ptr(), args.ptr());
    }
  });
}
