// What the sweep's end-to-end suites share: scratch directories, the tiny
// scenario's arguments, tables read back and sorted, and a sweep started as a
// child process that a test can kill.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "reports/sweep_table.h"
#include "study/variant_space.h"
#include "tests/support/cli_runner.h"

extern char** environ;

namespace sweep_test {

namespace fs = std::filesystem;

inline tcsim_test::CliResult run_tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

// The scratch directories of this test process, removed when it exits.
struct ScratchDirs {
  std::vector<fs::path> dirs;
  ~ScratchDirs() {
    std::error_code ec;
    for (const fs::path& d : dirs) fs::remove_all(d, ec);
  }
};

// An empty directory of this test process's own.
inline fs::path scratch(const std::string& name) {
  static ScratchDirs made;
  const fs::path dir = fs::temp_directory_path() / ("tcsim-sweep-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  made.dirs.push_back(dir);
  return dir;
}

// The tiny scenario at step depth: a variant takes about a millisecond.
inline std::string tiny() { return std::string(TCSIM_SWEEP_SCENARIO) + " --depth step"; }

// The 1000 variants the resume tests run: 2 GPUs x 25 batches x 20 SM counts.
inline const std::vector<std::string> kThousand{"--vary", "hardware.gpu=h800,h100",
                                                "--vary", "training.phases[0].batch=8:200:8",
                                                "--vary", "parallelism.comm_sms=1:20:1"};

// `args` as one shell command line, each single-quoted.
inline std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) out += (out.empty() ? "'" : " '") + a + "'";
  return out;
}

inline std::string read(const fs::path& p) { return tcsim_test::slurp(p); }

// Complete rows of a CSV table with single-line rows (every line but the header).
inline int rows_in(const fs::path& p) {
  const std::string text = read(p);
  int lines = 0;
  for (const char c : text) lines += c == '\n' ? 1 : 0;
  return lines > 0 ? lines - 1 : 0;
}

// The table at `p` sorted by id, as `tcsim sweep merge` writes it.
inline std::string sorted(const fs::path& p) {
  const fs::path out = p.parent_path() / ("sorted-" + p.filename().string());
  const tcsim_test::CliResult r = run_tcsim("sweep merge " + out.string() + " " + p.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  return read(out);
}

inline tcsim::reports::SweepTable table(const fs::path& p) {
  const std::string name = p.string();
  return tcsim::reports::parse_table(read(p), tcsim::reports::sweep_format(name), name);
}

// `tcsim ARGS` as a child process, its stderr in `err`, stdout discarded.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& err) {
    std::vector<std::string> argv{TCSIM_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, c_argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Waits until `table` holds `rows` complete rows while the child still
  // runs; false when the child ended first.
  bool wait_for_rows(const fs::path& table, int rows) {
    while (true) {
      if (fs::exists(table) && rows_in(table) >= rows) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = status;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit status as waitpid reports it.
  int wait() {
    if (pid_ > 0) {
      ::waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace sweep_test
